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
