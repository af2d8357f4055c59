/// Resolving and searching tile mappings held as interval lists.
package enum TileMappingIndex {
    /// Sorted, disjoint intervals from assignments in call order, a later assignment winning where
    /// two overlap; adjacent intervals on one tile are merged.
    package static func resolve(_ assigned: [TileInterval]) -> [TileInterval] {
        let sorted = assigned.enumerated().sorted { ($0.element.begin, $0.offset) < ($1.element.begin, $1.offset) }
        let overlapping = zip(sorted, sorted.dropFirst()).contains { $0.element.end > $1.element.begin }
        let resolved = overlapping ? resolveOverrides(assigned) : sorted.map(\.element)
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

    /// Index of the interval holding `element`, by binary search over sorted disjoint intervals.
    package static func index(containing element: Int, in intervals: [TileInterval]) -> Int? {
        var low = 0, high = intervals.count
        while low < high {
            let mid = (low + high) / 2
            if intervals[mid].end <= element { low = mid + 1 } else { high = mid }
        }
        guard low < intervals.count, intervals[low].begin <= element else { return nil }
        return low
    }

    /// ``index(containing:in:)``, trying first interval `hint.index`, the one after it and the one
    /// `hint.step` after it (as walks through the elements in increasing order or along a box
    /// view's rows find them), and leaving the index found, and its distance from the last, in `hint`.
    package static func index(containing element: Int, in intervals: [TileInterval], hint: inout IntervalHint) -> Int? {
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
package struct IntervalHint {
    package var index = 0
    package var step = 0

    package init() {}
}
