import TesseraGraph

/// The fields one operand of a multi-region element-wise vertex is connected through, grouped
/// from its regions' ranges (in region order): a region whose ranges are the previous region's
/// reads the same field; one whose ranges start where the field's last range ends extends that
/// field; any other starts a field. A tile of a channel-scaled convolution output has a region
/// per channel plane it holds, dozens of them, yet its planes lie one after another in storage
/// and its scales in a few runs: three or four fields instead of three per region, each field
/// connected to the same elements as the regions' fields it replaces.
struct RegionFieldGroups {
    /// Every field's ranges, field after field.
    private(set) var ranges: [Range<Int>] = []
    /// Where each field's ranges start in ``ranges``.
    private(set) var fieldStarts: [Int] = []
    /// Per region: its field (index among these fields) and the offset in that field where its ranges start.
    private(set) var regionField: [Int] = []
    private(set) var regionOffset: [Int] = []
    /// The open field's element count, and the last region's ranges (indices in ``ranges``) and offset.
    private var fieldCount = 0
    private var lastRanges = 0..<0
    private var lastOffset = 0

    /// The number of fields.
    var count: Int { fieldStarts.count }

    /// The ranges of field `field`.
    func ranges(ofField field: Int) -> ArraySlice<Range<Int>> {
        ranges[fieldStarts[field]..<(field + 1 < fieldStarts.count ? fieldStarts[field + 1] : ranges.count)]
    }

    /// Forgets every field and region, keeping the capacity, for the next vertex.
    mutating func removeAll() {
        ranges.removeAll(keepingCapacity: true)
        fieldStarts.removeAll(keepingCapacity: true)
        regionField.removeAll(keepingCapacity: true)
        regionOffset.removeAll(keepingCapacity: true)
        fieldCount = 0
        lastRanges = 0..<0
        lastOffset = 0
    }

    /// Adds the next region, connected to `regionRanges` of the operand.
    mutating func add(_ regionRanges: ArraySlice<Range<Int>>) {
        if !fieldStarts.isEmpty && ranges[lastRanges].elementsEqual(regionRanges) {
            regionField.append(fieldStarts.count - 1)
            regionOffset.append(lastOffset)
            return
        }
        if fieldStarts.isEmpty || regionRanges.first?.lowerBound != ranges.last?.upperBound {
            fieldStarts.append(ranges.count)
            fieldCount = 0
        }
        lastOffset = fieldCount
        lastRanges = ranges.count..<(ranges.count + regionRanges.count)
        ranges.append(contentsOf: regionRanges)
        fieldCount += regionRanges.reduce(0) { $0 + $1.count }
        regionField.append(fieldStarts.count - 1)
        regionOffset.append(lastOffset)
    }
}

/// The fields of one binary element-wise vertex (``BinaryCodelet``), grouped from its regions'
/// fields of `a`, `b` and the output (in place, `a`'s fields hold the output and there are no
/// output fields), and where each region finds its elements in them.
struct BinaryRegionFields {
    let inPlace: Bool
    /// The groups of `a`, `b` and the output.
    private var groups = [RegionFieldGroups(), RegionFieldGroups(), RegionFieldGroups()]

    init(inPlace: Bool) { self.inPlace = inPlace }

    /// Forgets every region, keeping the capacity, for the next vertex.
    mutating func removeAll() {
        for k in groups.indices { groups[k].removeAll() }
    }

    /// How many fields of `a`, `b` and the output there are.
    var counts: [Int] { groups.map(\.count) }

    /// Adds the next region, which reads `a` and `b` and writes `output` (ignored in place) at these ranges.
    mutating func addRegion(a: ArraySlice<Range<Int>>, b: ArraySlice<Range<Int>>, output: ArraySlice<Range<Int>>) {
        groups[0].add(a)
        groups[1].add(b)
        if !inPlace { groups[2].add(output) }
    }

    /// The fields, in the codelet's order, added to `connections` (whose operands are `a`, `b` and the output).
    func connect(_ connections: inout VertexRegions) {
        let operands = [inPlace ? 2 : 0, 1, 2]
        for k in 0..<3 {
            for field in 0..<groups[k].count { connections.addField(operand: operands[k], groups[k].ranges(ofField: field)) }
        }
    }

    /// Per region, for `a`, `b` and the output in turn, its field (index among the vertex's fields)
    /// and what the codelet subtracts from an index to read it: `bases(r)`, the index where the
    /// region's own field would start, less where its elements start in the shared field.
    func places(regions: Int, bases: (Int) -> (a: Int, b: Int, out: Int)) -> (fields: [Int32], deltas: [Int]) {
        let firstField = [0, groups[0].count, groups[0].count + groups[1].count]
        var fields: [Int32] = [], deltas: [Int] = []
        fields.reserveCapacity(3 * regions)
        deltas.reserveCapacity(3 * regions)
        for r in 0..<regions {
            func place(_ group: Int, _ index: Int) {
                fields.append(Int32(firstField[group] + groups[group].regionField[r]))
                deltas.append(index - groups[group].regionOffset[r])
            }
            let base = bases(r)
            place(0, base.a)
            place(1, base.b)
            place(inPlace ? 0 : 2, base.out)
        }
        return (fields, deltas)
    }
}

