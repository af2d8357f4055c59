/// The fields of one vertex as positions of one-dimensional operands, for
/// ``Graph/addVertex(_:_:tile:fields:regions:)``: field `k` is connected to its ranges, in order,
/// of operand `operands[operand(ofField: k)]`.
///
/// Kept flat (an operand index and a range list per field in shared arrays), so that a vertex with
/// a field per region of its tile (hundreds, in element-wise operations) costs no array and no
/// reference count per field. ``removeFields()`` keeps the capacity for the next vertex.
package struct VertexRegions {
    /// The tensors fields refer to by index.
    package let operands: [Tensor]
    private var fieldOperands: [Int] = []
    private var fieldStarts: [Int] = [0]
    private var ranges: [Range<Int>] = []

    /// No fields yet, over `operands`.
    package init(operands: [Tensor]) {
        self.operands = operands
    }

    /// Fields added so far.
    package var fieldCount: Int { fieldOperands.count }

    /// Adds a field connected to `ranges` of operand `operand`, one after another (a concrete
    /// slice: a generic sequence would not be specialised across modules).
    package mutating func addField(operand: Int, _ ranges: ArraySlice<Range<Int>>) {
        fieldOperands.append(operand)
        self.ranges.append(contentsOf: ranges)
        fieldStarts.append(self.ranges.count)
    }

    /// Adds a field connected to positions `range` of operand `operand`.
    package mutating func addField(operand: Int, _ range: Range<Int>) {
        fieldOperands.append(operand)
        ranges.append(range)
        fieldStarts.append(ranges.count)
    }

    /// Forgets every field, keeping the operands and the capacity.
    package mutating func removeFields() {
        fieldOperands.removeAll(keepingCapacity: true)
        fieldStarts.removeAll(keepingCapacity: true)
        fieldStarts.append(0)
        ranges.removeAll(keepingCapacity: true)
    }

    /// Index in ``operands`` of field `field`'s operand.
    package func operand(ofField field: Int) -> Int { fieldOperands[field] }

    /// The ranges of field `field`.
    package func ranges(ofField field: Int) -> ArraySlice<Range<Int>> { ranges[fieldStarts[field]..<fieldStarts[field + 1]] }

    /// Positions field `field` covers.
    package func count(ofField field: Int) -> Int { ranges(ofField: field).reduce(0) { $0 + $1.count } }
}
