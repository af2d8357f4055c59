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

    /// ``index(containing:in:)``, trying interval `hint` and the one after it first (as a walk
    /// through the elements in increasing order finds them) and leaving the index found in `hint`.
    package static func index(containing element: Int, in intervals: [TileInterval], hint: inout Int) -> Int? {
        if hint < intervals.count, intervals[hint].begin <= element {
            if element < intervals[hint].end { return hint }
            if hint + 1 < intervals.count, element < intervals[hint + 1].end {
                guard intervals[hint + 1].begin <= element else { return nil }
                hint += 1
                return hint
            }
        }
        guard let found = index(containing: element, in: intervals) else { return nil }
        hint = found
        return found
    }

    /// The interval holding `element`.
    package static func interval(containing element: Int, in intervals: [TileInterval]) -> TileInterval? {
        index(containing: element, in: intervals).map { intervals[$0] }
    }
}
