/// How the flat positions of an iteration space map to the flat indices of an operand that
/// broadcasts to it by NumPy's rules (or, for reductions, of the kept-dimensions output that the
/// input is reduced into).
///
/// Dimensions of size 1 are dropped and neighbouring dimensions that the operand walks with one
/// stride are merged, so `[N, C, H, W]` read through `[C, 1, 1]` becomes `[(N, 0), (C, 1), (H·W, 0)]`.
/// The innermost merged dimension has stride 0 (the operand repeats one element along it) or 1
/// (the operand is contiguous along it); codelets walk it as one vector segment.
struct BroadcastPattern: Sendable {
    /// Merged dimensions, outermost first: extent in the iteration space and stride in the operand.
    var dimensions: [(size: Int, stride: Int)]

    /// The pattern of an operand of shape `operand` read over the iteration space `space`;
    /// nil when `operand` does not broadcast to `space`.
    init?(operand: [Int], space: [Int]) {
        let lead = space.count - operand.count
        guard lead >= 0 else { return nil }
        var strides = [Int](repeating: 0, count: space.count)
        var step = 1
        for dim in (0..<operand.count).reversed() {
            let size = operand[dim], target = space[lead + dim]
            if size == target {
                strides[lead + dim] = size == 1 ? 0 : step
            } else if size != 1 {
                return nil
            }
            step *= size
        }
        var merged: [(size: Int, stride: Int)] = []
        for (size, stride) in zip(space, strides) where size != 1 {
            if let last = merged.last, last.stride == stride * size {
                merged[merged.count - 1] = (last.size * size, stride)
            } else {
                merged.append((size, stride))
            }
        }
        dimensions = merged.isEmpty ? [(1, 0)] : merged
    }

    /// Extent of the innermost merged dimension: the longest run of positions the operand walks with one stride.
    var innerSize: Int { dimensions[dimensions.count - 1].size }
    /// Operand stride along the innermost merged dimension: 0 (repeated) or 1 (contiguous).
    var innerStride: Int { dimensions[dimensions.count - 1].stride }

    /// Operand index of iteration position `position`.
    func index(of position: Int) -> Int {
        var rest = position, index = 0
        for dimension in dimensions.reversed() {
            index += (rest % dimension.size) * dimension.stride
            rest /= dimension.size
        }
        return index
    }

    /// Positions from `position` up to the end of its innermost run.
    func runLength(at position: Int) -> Int { innerSize - position % innerSize }

    /// The smallest range of operand indices read by positions `positions`.
    func operandRange(of positions: Range<Int>) -> Range<Int> {
        guard !positions.isEmpty else { return 0..<0 }
        if positions.count >= dimensions.reduce(1, { $0 * $1.size }) {
            return 0..<(dimensions.reduce(1) { $0 + ($1.size - 1) * $1.stride })
        }
        var low = Int.max, high = Int.min, position = positions.lowerBound
        while position < positions.upperBound {
            let length = min(runLength(at: position), positions.upperBound - position)
            let first = index(of: position)
            low = min(low, first)
            high = max(high, first + (length - 1) * innerStride)
            position += length
        }
        return low..<(high + 1)
    }
}
