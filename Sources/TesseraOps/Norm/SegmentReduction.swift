import TesseraGraph

extension OpBuilder {
    /// Reduces the rows of `x` (flattened, rows of `rowLength` elements) into `statistics` results
    /// in two steps: each tile's vertex sums the rows of its regions of `x` into a partial entry per row and region
    /// (step `<name>/partialSums`), then each statistic's entries are gathered by exchange onto one
    /// tile and added (step `<name>/reduce`). Row `r` feeds statistic `statisticOfRow(r)`.
    ///
    /// Returns the results, spread in equal blocks over the tiles holding `x`: `[statistics, 2]`
    /// float32 (Σx, Σx²) for `.sums`, `[statistics]` of the requested type for `.mean`.
    func segmentReduction(_ x: Tensor, rowLength: Int, statistics: Int, statisticOfRow: (Int) -> Int,
                          output: PartialReduceOutput, name: String, op: String, steps: inout NormSteps) throws(OpError) -> Tensor {
        let squares = output == .sums
        let width = squares ? 2 : 1
        let layout = try normLayout(of: x, op: op)
        let groups = layout.groups

        // Entries of `partials`: one per row each region touches, group after group; statistic `s`'s entries are
        // `entriesOfStatistic[statisticStart[s] ..< statisticStart[s + 1]]`, in entry order (counted, then filled).
        @inline(__always) func rows(of region: Range<Int>) -> Range<Int> { (region.lowerBound / rowLength)..<((region.upperBound - 1) / rowLength + 1) }
        var statisticStart = [Int](repeating: 0, count: statistics + 1)
        for group in groups { for region in group.regions { for row in rows(of: region) { statisticStart[statisticOfRow(row) + 1] += 1 } } }
        for s in 0..<statistics { statisticStart[s + 1] += statisticStart[s] }
        var entriesOfStatistic = [Int](repeating: 0, count: statisticStart[statistics]), nextOfStatistic = statisticStart
        var firstEntry: [Int] = [], segments: [[NormSegment]] = []
        var entryCount = 0
        for group in groups {
            firstEntry.append(entryCount)
            var groupSegments: [NormSegment] = []
            for region in group.regions {
                groupSegments.append(NormSegment(count: region.count, offset: region.lowerBound % rowLength, first: entryCount - firstEntry[firstEntry.count - 1]))
                for row in rows(of: region) {
                    let statistic = statisticOfRow(row)
                    entriesOfStatistic[nextOfStatistic[statistic]] = entryCount
                    nextOfStatistic[statistic] += 1
                    entryCount += 1
                }
            }
            segments.append(groupSegments)
        }
        let partials = graph.addVariable(.float32, [entryCount * width], name: "\(name)/partials")
        var partialBytes: [Int: Int] = [:]
        let sumsSet = graph.addComputeSet("\(name)/partialSums")
        var sumsCost = NormStepCost(target: graph.target)
        for (index, group) in groups.enumerated() {
            let end = index + 1 < groups.count ? firstEntry[index + 1] : entryCount
            let entries = firstEntry[index] * width..<end * width
            try building(op) { () throws(GraphError) in try graph.setTileMapping(partials, positions: [entries], tile: group.tile) }
            partialBytes[group.tile, default: 0] += entries.count * 4
            let codelet = SegmentSumsCodelet(elementType: x.elementType, rowLength: rowLength, segments: segments[index], squares: squares)
            try addNormVertex(sumsSet, codelet, tile: group.tile, regions: [(of: layout.source, positions: layout.fieldPositions(group.regions, in: group)),
                                                                                  (of: partials, positions: [entries])],
                              cost: &sumsCost, op: op)
        }
        appendNormStep(sumsSet, sumsCost, to: &steps)
        steps.temporaryBytesPerTile = max(steps.temporaryBytesPerTile, partialBytes.values.max() ?? 0)

        let resultType: ElementType
        switch output {
        case .sums: resultType = .float32
        case .mean(_, let type): resultType = type
        }
        let result = graph.addVariable(resultType, squares ? [statistics, 2] : [statistics], name: name)
        let resultFlat = result.flatten()
        let partialOwners = try normOwners(partials, &steps)
        let reduceSet = graph.addComputeSet("\(name)/reduce")
        var reduceCost = NormStepCost(target: graph.target)
        for piece in try normBlockPieces(count: statistics, over: layout.source) {
            let range = piece.positions
            let out = range.lowerBound * width..<range.upperBound * width
            try building(op) { () throws(GraphError) in try graph.setTileMapping(resultFlat, positions: [out], tile: piece.tile) }
            // The entries in the partials' order, so that each tile's entries arrive as one run; the
            // codelet finds them in statistic order through `order` (empty when the two agree).
            let inStatisticOrder = entriesOfStatistic[statisticStart[range.lowerBound]..<statisticStart[range.upperBound]]
            var sorted = Array(inStatisticOrder), order: [Int32] = []
            if zip(sorted, sorted.dropFirst()).contains(where: { $0 > $1 }) {
                // The entries are distinct: entry `i` in statistic order is `sorted[order[i]]`.
                let ranks = sorted.indices.sorted { sorted[$0] < sorted[$1] }
                order = [Int32](repeating: 0, count: ranks.count)
                for (rank, i) in ranks.enumerated() { order[i] = Int32(rank) }
                sorted = ranks.map { sorted[$0] }
            }
            let runs = NormPiece.consecutiveRuns(sorted).map { $0.lowerBound * width..<$0.upperBound * width }
            for run in runs { reduceCost.read(partialOwners, run, on: piece.tile) }
            let codelet = PartialReduceCodelet(entries: range.map { statisticStart[$0 + 1] - statisticStart[$0] }, output: output, order: order)
            try addNormVertex(reduceSet, codelet, tile: piece.tile, regions: [(of: partials, positions: runs), (of: resultFlat, positions: [out])],
                              cost: &reduceCost, op: op)
        }
        appendNormStep(reduceSet, reduceCost, to: &steps)
        return result
    }
}
