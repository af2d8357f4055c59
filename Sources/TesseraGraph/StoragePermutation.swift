/// A view that holds every element of one contiguous range of one variable exactly once, in some
/// order: a convolution's output seen as `[N, C, H, W]` while it is stored box by box, or any clone
/// of such a view.
///
/// Work that treats every element alike (an activation, an element-wise operation of two views
/// that permute their ranges the same way) can be done on the range in storage order, where a tile
/// holds a few long intervals, instead of on the view, which may be a hundred thousand runs; the
/// result is then seen through the same permutation (``relabeled(onto:)``). Poplar's element-wise
/// operations likewise work on a tile's contiguous regions sorted by address.
package struct StoragePermutation: Sendable {
    /// The range as a one-dimensional view in storage order.
    package let storage: Tensor
    /// The view the permutation was found in.
    package let view: Tensor
    /// First element of the range in its variable.
    private let base: Int
    /// The view's runs in storage order: their indices, and the view position each starts at.
    private let runsInStorageOrder: [Int32]
    private let runPositions: [Int]

    fileprivate init(storage: Tensor, view: Tensor, base: Int, runsInStorageOrder: [Int32], runPositions: [Int]) {
        self.storage = storage
        self.view = view
        self.base = base
        self.runsInStorageOrder = runsInStorageOrder
        self.runPositions = runPositions
    }

    /// The same permutation of `other` (one run of consecutive elements, as many as the range):
    /// its view, of shape `view.shape`, has at position `p` the element of `other` at the place
    /// in storage order that `p` has in this range.
    package func relabeled(onto other: Tensor) -> StoragePermutation {
        precondition(other.elementCount == storage.elementCount && other.elements.runs.count == 1 && other.elements.runs[0].stride == 1,
                     "a permutation is relabeled onto one run of as many consecutive elements")
        let target = other.elements.runs[0], shift = target.start - base
        let runs = view.elements.runs.map { ElementRun(data: target.data, start: $0.start + shift, count: $0.count) }
        let relabeled = Tensor(graphID: other.graphID, elementType: other.elementType, shape: view.shape, elements: ElementRunList(runs))
        return StoragePermutation(storage: other.flatten(), view: relabeled, base: target.start, runsInStorageOrder: runsInStorageOrder, runPositions: runPositions)
    }

    /// This permutation seen through `tensor`, a view with the same runs in another shape.
    package func seen(as tensor: Tensor) -> StoragePermutation {
        precondition(tensor.elements === view.elements, "a permutation is seen only through a view of its own runs")
        return StoragePermutation(storage: storage, view: tensor, base: base, runsInStorageOrder: runsInStorageOrder, runPositions: runPositions)
    }

    /// `other` (a view of ``view``'s shape) seen in this permutation's storage order: a
    /// one-dimensional view whose position `i` is `other`'s element at the view position that
    /// storage place `i` holds here — `other` rearranged to follow this range's layout.
    package func inStorageOrder(_ other: Tensor) -> Tensor {
        precondition(other.shape == view.shape, "a view of the permutation's shape is put in its storage order")
        let runs = view.elements.runs
        var positions: [Range<Int>] = []
        positions.reserveCapacity(runsInStorageOrder.count)
        for index in runsInStorageOrder {
            let first = runPositions[Int(index)]
            positions.append(first..<(first + runs[Int(index)].count))
        }
        var builder = ElementRunBuilder(), hint = SearchHint()
        other.elements.appendElements(positions[...], to: &builder, hint: &hint)
        return Tensor(graphID: other.graphID, elementType: other.elementType, shape: [other.elementCount], elements: builder.build())
    }

    /// True when `other` orders its range as this permutation orders its own: view position `p`
    /// is the same place in storage order in both.
    package func ordersLike(_ other: StoragePermutation) -> Bool {
        let runs = view.elements.runs, otherRuns = other.view.elements.runs
        guard runs.count == otherRuns.count, storage.elementCount == other.storage.elementCount else { return false }
        for k in runs.indices where runs[k].start - base != otherRuns[k].start - other.base || runs[k].count != otherRuns[k].count {
            return false
        }
        return true
    }

    /// The pieces of the view that `ranges` of the storage hold (offsets from the range's start,
    /// in increasing order), in storage order: each piece is consecutive view positions whose
    /// elements are consecutive in storage, joined with the piece before when both continue it.
    package func pieces(inStorage ranges: [Range<Int>]) -> [StoragePiece] {
        let runs = view.elements.runs
        /// The last run (in storage order) starting at or before storage offset `offset`.
        func lastRun(startingBy offset: Int) -> Int {
            var low = 0, high = runsInStorageOrder.count
            while high - low > 1 {
                let middle = (low + high) / 2
                if runs[Int(runsInStorageOrder[middle])].start - base <= offset { low = middle } else { high = middle }
            }
            return low
        }
        // At most a piece per run the ranges meet, counted first so that the array grows once.
        let firsts = ranges.map { lastRun(startingBy: $0.lowerBound) }
        var pieces: [StoragePiece] = []
        pieces.reserveCapacity(zip(ranges, firsts).reduce(0) { $0 + max(0, lastRun(startingBy: $1.0.upperBound - 1) - $1.1 + 1) })
        for (range, low) in zip(ranges, firsts) {
            for k in low..<runsInStorageOrder.count {
                let index = Int(runsInStorageOrder[k]), first = runs[index].start - base
                guard first < range.upperBound else { break }
                let begin = max(first, range.lowerBound), end = min(first + runs[index].count, range.upperBound)
                guard begin < end else { continue }
                let position = runPositions[index] + begin - first
                if let last = pieces.last, last.positions.upperBound == position, last.storage + last.positions.count == begin {
                    pieces[pieces.count - 1].positions = last.positions.lowerBound..<(position + end - begin)
                } else {
                    pieces.append(StoragePiece(positions: position..<(position + end - begin), storage: begin))
                }
            }
        }
        return pieces
    }
}

/// Consecutive view positions of a ``StoragePermutation`` whose elements are consecutive in storage.
package struct StoragePiece: Sendable {
    /// The view positions.
    package var positions: Range<Int>
    /// The storage offset (from the range's start) of the first.
    package var storage: Int

    /// The storage offsets of `positions` (ranges, each within one of `pieces`, in their order),
    /// joined where they continue one another.
    package static func storageRanges(of positions: [Range<Int>], in pieces: [StoragePiece]) -> [Range<Int>] {
        var ranges: [Range<Int>] = [], k = 0
        for range in positions {
            while !pieces[k].positions.contains(range.lowerBound) { k += 1 }
            let begin = pieces[k].storage + range.lowerBound - pieces[k].positions.lowerBound
            if let last = ranges.last, last.upperBound == begin {
                ranges[ranges.count - 1] = last.lowerBound..<(begin + range.count)
            } else {
                ranges.append(begin..<(begin + range.count))
            }
        }
        return ranges
    }
}

extension Graph {
    /// `tensor` as a permutation of one contiguous range of one variable (or constant), or nil when
    /// it reads several, repeats an element or leaves a gap. Costs a pass over the view's runs and
    /// a table of the range's elements in blocks of the runs' common granularity.
    package func storagePermutation(of tensor: Tensor) throws(GraphError) -> StoragePermutation? {
        try checkOwned(tensor, "storagePermutation")
        let runs = tensor.elements.runs
        guard let data = tensor.elements.onlyData, !runs.isEmpty else { return nil }
        var low = Int.max, high = Int.min
        for run in runs {
            guard run.stride == 1, run.count > 0 else { return nil }
            low = min(low, run.start)
            high = max(high, run.start + run.count)
        }
        guard high - low == tensor.elementCount else { return nil }
        // Every run starts and ends on a multiple of `grain` from `low`: the range in grains,
        // each grain recording the run starting there (runs that cover the range exactly once
        // start on distinct grains and are found by walking from each run's end to the next).
        var grain = 0
        for run in runs { grain = greatestCommonDivisor(greatestCommonDivisor(grain, run.start - low), run.count) }
        let grains = (high - low) / grain
        // A gap-free range of fewer runs than grains is common (a run per row); beyond a few
        // grains per run the table costs more than it saves, and the view is left alone.
        guard grains <= 64 * runs.count + 64 else { return nil }
        var runAt = [Int32](repeating: -1, count: grains)
        for (index, run) in runs.enumerated() {
            let slot = (run.start - low) / grain
            guard runAt[slot] < 0 else { return nil }
            runAt[slot] = Int32(index)
        }
        var order: [Int32] = []
        order.reserveCapacity(runs.count)
        var slot = 0
        while slot < grains {
            let index = runAt[slot]
            guard index >= 0 else { return nil }
            order.append(index)
            slot += runs[Int(index)].count / grain
        }
        guard order.count == runs.count else { return nil }
        var positions: [Int] = [], position = 0
        positions.reserveCapacity(runs.count)
        for run in runs {
            positions.append(position)
            position += run.count
        }
        let storage = Tensor(graphID: id, elementType: tensor.elementType, shape: [high - low],
                             elements: ElementRunList([ElementRun(data: data, start: low, count: high - low)]))
        return StoragePermutation(storage: storage, view: tensor, base: low, runsInStorageOrder: order, runPositions: positions)
    }
}

/// The greatest common divisor of two non-negative integers (`gcd(0, n) = n`).
private func greatestCommonDivisor(_ a: Int, _ b: Int) -> Int {
    var (a, b) = (a, b)
    while b != 0 { (a, b) = (b, a % b) }
    return a
}
