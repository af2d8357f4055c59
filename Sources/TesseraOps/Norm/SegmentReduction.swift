import TesseraGraph

extension OpBuilder {
    /// Reduces the rows of `x` (flattened, rows of `rowLength` elements) into `statistics` results
    /// in two steps: each piece of `x` sums its rows on its own tile into a partial entry per row
    /// (step `<name>/partialSums`), then each statistic's entries are gathered by exchange onto one
    /// tile and added (step `<name>/reduce`). Row `r` feeds statistic `statisticOfRow(r)`.
    ///
    /// Returns the results, spread in equal blocks over the tiles holding `x`: `[statistics, 2]`
    /// float32 (Σx, Σx²) for `.sums`, `[statistics]` of the requested type for `.mean`.
    func segmentReduction(_ x: Tensor, rowLength: Int, statistics: Int, statisticOfRow: (Int) -> Int,
                          output: PartialReduceOutput, name: String, op: String, steps: inout NormSteps) throws(OpError) -> Tensor {
        let flat = x.flatten()
        let squares = output == .sums
        let width = squares ? 2 : 1
        let pieces = try normPieces(of: flat, op: op)

        var firstEntry: [Int] = []
        var entriesByStatistic = [[Int]](repeating: [], count: statistics)
        var entryCount = 0
        for piece in pieces {
            firstEntry.append(entryCount)
            let firstRow = piece.positions.lowerBound / rowLength, endRow = (piece.positions.upperBound - 1) / rowLength + 1
            for row in firstRow..<endRow {
                entriesByStatistic[statisticOfRow(row)].append(entryCount)
                entryCount += 1
            }
        }
        let partials = graph.addVariable(.float32, [entryCount * width], name: "\(name)/partials")
        var partialBytes: [Int: Int] = [:]
        let sumsSet = graph.addComputeSet("\(name)/partialSums")
        var sumsCost = NormStepCost(target: graph.target)
        for (index, piece) in pieces.enumerated() {
            let end = index + 1 < pieces.count ? firstEntry[index + 1] : entryCount
            let out = try building(op) { () throws(GraphError) in try partials.slice(firstEntry[index] * width..<end * width) }
            try building(op) { () throws(GraphError) in try graph.setTileMapping(out, tile: piece.tile) }
            partialBytes[piece.tile, default: 0] += out.byteCount
            let codelet = SegmentSumsCodelet(elementType: x.elementType, rowLength: rowLength,
                                             offset: piece.positions.lowerBound % rowLength, squares: squares)
            let input = try building(op) { () throws(GraphError) in try flat.slice(piece.positions) }
            try addNormVertex(sumsSet, codelet, tile: piece.tile, [input, out], cost: &sumsCost, op: op)
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
        for piece in try normBlockPieces(count: statistics, over: flat) {
            let range = piece.positions
            let out = try building(op) { () throws(GraphError) in try resultFlat.slice(range.lowerBound * width..<range.upperBound * width) }
            try building(op) { () throws(GraphError) in try graph.setTileMapping(out, tile: piece.tile) }
            let runs = NormPiece.consecutiveRuns(range.flatMap { entriesByStatistic[$0] }).map { $0.lowerBound * width..<$0.upperBound * width }
            for run in runs { reduceCost.read(partialOwners, run, on: piece.tile) }
            let gathered = try building(op) { () throws(GraphError) in
                try Tensor.concatenate(runs.map { run throws(GraphError) in try partials.slice(run) })
            }
            let codelet = PartialReduceCodelet(entries: range.map { entriesByStatistic[$0].count }, output: output)
            try addNormVertex(reduceSet, codelet, tile: piece.tile, [gathered, out], cost: &reduceCost, op: op)
        }
        appendNormStep(reduceSet, reduceCost, to: &steps)
        return result
    }
}
