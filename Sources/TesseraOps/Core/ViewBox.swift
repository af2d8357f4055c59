import TesseraGraph

/// A box of a view's positions (a range per dimension) that one tile stores in one contiguous
/// range, in row-major order: a convolution tile's output part. An element-wise operation on such
/// a tile can iterate the box as its own space, one region instead of one per contiguous run.
struct ViewBox: Equatable {
    /// Per dimension of the view, the indices the box covers.
    var ranges: [Range<Int>]

    /// The box's extents.
    var shape: [Int] { ranges.map { $0.count } }

    /// The box whose positions in row-major order are, run after run, `pieces` (one storage
    /// range's pieces, in storage order: each consecutive in storage after the one before) of a
    /// view of `shape`; nil when they are not one box.
    init?(pieces: [StoragePiece], shape: [Int]) {
        guard let first = pieces.first, let last = pieces.last, !shape.isEmpty else { return nil }
        let low = Self.indices(of: first.positions.lowerBound, in: shape), high = Self.indices(of: last.positions.upperBound - 1, in: shape)
        var ranges: [Range<Int>] = [], count = 1, total = 0
        ranges.reserveCapacity(shape.count)
        for d in shape.indices {
            guard low[d] <= high[d] else { return nil }
            ranges.append(low[d]..<(high[d] + 1))
            count *= high[d] + 1 - low[d]
        }
        for piece in pieces { total += piece.positions.count }
        guard count == total else { return nil }
        var k = 0
        let matches = Self.forEachRun(ranges, in: shape) { run in
            guard k < pieces.count, pieces[k].positions == run, pieces[k].storage == first.storage + k * run.count else { return false }
            k += 1
            return true
        }
        guard matches, k == pieces.count else { return nil }
        self.ranges = ranges
    }

    /// The flat positions of the box `ranges` of a tensor of `shape`, in row-major order, as the
    /// fewest ranges (the innermost dimensions the box covers fully join the one outside them).
    static func flatRanges(_ ranges: [Range<Int>], in shape: [Int]) -> [Range<Int>] {
        var result: [Range<Int>] = []
        _ = forEachRun(ranges, in: shape) { result.append($0); return true }
        return result
    }

    /// Calls `body` with each of ``flatRanges(_:in:)`` in turn while it returns true; false if it stopped.
    private static func forEachRun(_ ranges: [Range<Int>], in shape: [Int], _ body: (Range<Int>) -> Bool) -> Bool {
        for range in ranges where range.isEmpty { return true }
        // Dimensions `inner...` are walked as one run of `length` positions.
        var inner = shape.count - 1, length = ranges[inner].count
        while inner > 0 && ranges[inner].count == shape[inner] {
            inner -= 1
            length *= ranges[inner].count
        }
        var strides = [Int](repeating: 1, count: shape.count), start = 0
        for d in stride(from: shape.count - 2, through: 0, by: -1) { strides[d] = strides[d + 1] * shape[d + 1] }
        for d in shape.indices { start += ranges[d].lowerBound * strides[d] }
        // An odometer over the outer dimensions, `start` following it.
        var index = [Int](repeating: 0, count: inner)
        while true {
            guard body(start..<(start + length)) else { return false }
            var d = inner - 1
            while d >= 0 {
                index[d] += 1
                start += strides[d]
                if index[d] < ranges[d].count { break }
                start -= ranges[d].count * strides[d]
                index[d] = 0
                d -= 1
            }
            if d < 0 { return true }
        }
    }

    /// The indices of flat position `position` in a tensor of `shape`.
    private static func indices(of position: Int, in shape: [Int]) -> [Int] {
        var rest = position, result = [Int](repeating: 0, count: shape.count)
        for d in shape.indices.reversed() {
            result[d] = rest % shape[d]
            rest /= shape[d]
        }
        return result
    }
}
