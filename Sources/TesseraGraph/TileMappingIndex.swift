/// Resolving and searching tile mappings held as interval lists.
package enum TileMappingIndex {
    /// Sorted, disjoint intervals from assignments in call order, a later assignment winning where
    /// two overlap; adjacent intervals on one tile are merged.
    package static func resolve(_ assigned: [TileInterval]) -> [TileInterval] {
        let sorted = assigned.enumerated().sorted { ($0.element.begin, $0.offset) < ($1.element.begin, $1.offset) }
        let overlapping = zip(sorted, sorted.dropFirst()).contains { $0.element.end > $1.element.begin }
        let resolved = overlapping ? resolveOverrides(assigned) : sorted.map { $0.element }
        var merged: [TileInterval] = []
        merged.reserveCapacity(resolved.count)
        for interval in resolved where interval.count > 0 {
            if let last = merged.last, last.end == interval.begin, last.tile == interval.tile {
                merged[merged.count - 1].end = interval.end
            } else {
                merged.append(interval)
            }
        }
        return merged
    }

    /// The slow path: walk assignments from the last, keeping only the parts not yet covered.
    private static func resolveOverrides(_ assigned: [TileInterval]) -> [TileInterval] {
        var covered: [Range<Int>] = []
        var result: [TileInterval] = []
        for interval in assigned.reversed() {
            var cursor = interval.begin
            for range in covered where range.upperBound > interval.begin && range.lowerBound < interval.end {
                if range.lowerBound > cursor {
                    result.append(TileInterval(begin: cursor, end: range.lowerBound, tile: interval.tile))
                }
                cursor = max(cursor, range.upperBound)
            }
            if cursor < interval.end { result.append(TileInterval(begin: cursor, end: interval.end, tile: interval.tile)) }
            covered.append(interval.begin..<interval.end)
            covered.sort { $0.lowerBound < $1.lowerBound }
            covered = covered.reduce(into: []) { acc, range in
                if let last = acc.last, last.upperBound >= range.lowerBound {
                    acc[acc.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
                } else {
                    acc.append(range)
                }
            }
        }
        return result.sorted { $0.begin < $1.begin }
    }

    /// Index of the first of sorted disjoint intervals that ends after `element` (the count when none does).
    package static func firstIndex(endingAfter element: Int, in intervals: [TileInterval]) -> Int {
        var low = 0, high = intervals.count
        while low < high {
            let mid = (low + high) / 2
            if intervals[mid].end <= element { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// Index of the interval holding `element`, by binary search over sorted disjoint intervals.
    package static func index(containing element: Int, in intervals: [TileInterval]) -> Int? {
        let low = firstIndex(endingAfter: element, in: intervals)
        guard low < intervals.count, intervals[low].begin <= element else { return nil }
        return low
    }

    /// ``index(containing:in:)``, trying first interval `hint.index`, the one after it and the one
    /// `hint.step` after it (as walks through the elements in increasing order or along a box
    /// view's rows find them), and leaving the index found, and its distance from the last, in `hint`.
    package static func index(containing element: Int, in intervals: [TileInterval], hint: inout SearchHint) -> Int? {
        let last = hint.index
        func holds(_ candidate: Int) -> Bool {
            candidate >= 0 && candidate < intervals.count && intervals[candidate].begin <= element && element < intervals[candidate].end
        }
        if holds(last) { return last }
        let guess = holds(last + 1) ? last + 1 : holds(last + hint.step) ? last + hint.step : nil
        guard let found = guess ?? index(containing: element, in: intervals) else { return nil }
        hint.step = found - last
        hint.index = found
        return found
    }

    /// The interval holding `element`.
    package static func interval(containing element: Int, in intervals: [TileInterval]) -> TileInterval? {
        index(containing: element, in: intervals).map { intervals[$0] }
    }
}

/// Where a walk through a mapping's intervals last was: the interval found last and its distance
/// from the one before, so that a walk with a regular stride (a box view's rows, channel after
/// channel) finds its next interval without a binary search.
package struct SearchHint {
    package var index = 0
    package var step = 0

    package init() {}
}

/// A walk through one variable's tile mapping that tells, for gaps met in increasing order,
/// whether a tile holds none of a gap's elements: the gap between two regions of a field, which
/// the tile then stores one right after the other (the compiler keeps a variable's elements on a
/// tile in element order).
package struct TileGapWalk {
    private var data = -1
    private var intervals: [TileInterval] = []
    private var nextOnSameTile: [Int32] = []
    private var hint = SearchHint()

    package init() {}

    /// True when `tile` holds no element `elements` of variable `data` of `graph`; false also when
    /// telling takes more than `limit` mapped intervals.
    package mutating func tileHoldsNone(of data: Int, in elements: Range<Int>, tile: Int, graph: Graph, limit: Int = 64) -> Bool {
        guard !elements.isEmpty else { return true }
        if data != self.data {
            self.data = data
            intervals = graph.resolvedMapping(data)
            nextOnSameTile = graph.nextIntervalsOnSameTile(data)
            hint = SearchHint()
        }
        // When `tile` holds the element just before the gap, the gap is free of it exactly when
        // that element's interval ends there and the tile's next interval starts after the gap.
        if let before = TileMappingIndex.index(containing: elements.lowerBound - 1, in: intervals, hint: &hint),
           intervals[before].tile == tile {
            let next = Int(nextOnSameTile[before])
            return intervals[before].end <= elements.lowerBound && (next == intervals.count || intervals[next].begin >= elements.upperBound)
        }
        // The first interval ending after the gap's first element (the gap's first element may be unmapped).
        var index = TileMappingIndex.index(containing: elements.lowerBound, in: intervals, hint: &hint)
            ?? TileMappingIndex.firstIndex(endingAfter: elements.lowerBound, in: intervals)
        let first = index
        while index < intervals.count && intervals[index].begin < elements.upperBound {
            guard intervals[index].tile != tile, index - first < limit else { return false }
            index += 1
        }
        return true
    }
}
