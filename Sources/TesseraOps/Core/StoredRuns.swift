import TesseraGraph

extension OpBuilder {
    /// `ranges` (flattened positions held by `tile`, in increasing order) joined into runs that
    /// every tensor of `tensors` (all of one element count) stores one after another on `tile`:
    /// a range joins the run before it when, in each tensor, it is consecutive elements of one
    /// variable following the run's last range with no element of that variable on the tile
    /// between them. The compiler keeps a variable's elements on a tile in element order, so a
    /// field over a run is connected to tile memory directly, as popops' vertices take a tile's
    /// contiguous regions of a tensor rather than its mapped intervals.
    func storedRuns(_ ranges: [Range<Int>], of tensors: [Tensor], tile: Int) -> [[Range<Int>]] {
        // One range is one run (a tile's part of a convolution's output in storage order).
        guard ranges.count > 1 else { return ranges.isEmpty ? [] : [ranges] }
        var runs: [[Range<Int>]] = []
        let elements = tensors.map { $0.elements }
        var next = [(data: Int, element: Int)?](repeating: nil, count: tensors.count)
        var hints = [SearchHint](repeating: SearchHint(), count: tensors.count)
        var gaps = [TileGapWalk](repeating: TileGapWalk(), count: tensors.count)
        for range in ranges {
            var joins = !runs.isEmpty
            for k in tensors.indices {
                let start = elements[k].consecutiveElements(range, hint: &hints[k])
                if joins {
                    if let start, let last = next[k], last.data == start.data, last.element <= start.start {
                        joins = gaps[k].tileHoldsNone(of: start.data, in: last.element..<start.start, tile: tile, graph: graph)
                    } else {
                        joins = false
                    }
                }
                next[k] = start.map { ($0.data, $0.start + range.count) }
            }
            if joins { runs[runs.count - 1].append(range) } else { runs.append([range]) }
        }
        return runs
    }
}
