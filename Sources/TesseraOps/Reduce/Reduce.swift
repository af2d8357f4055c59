import TesseraGraph

extension OpBuilder {
    /// Sum of `x` over `axes` (negative axes count from the end). The result has `x`'s shape with
    /// those axes removed, or kept with size 1 when `keepDims`; its type is `x`'s (float32 or
    /// float16; partial sums are float32).
    ///
    /// Two steps, as poplibs' two-stage reductions: (1) every tile reduces each contiguous region
    /// of `x` it holds into float32 partials, one per output element the region reaches, kept on
    /// that tile; (2) the partials of each output element are exchanged to the output's tile and
    /// combined there. The output stays on the tile of its inputs when each output element's inputs
    /// are all on one tile (e.g. rows reduced over their last axis); otherwise it is spread linearly
    /// over the tiles one element at a time, so that as many tiles as possible share stage 2.
    /// Records an ``OperationPlan`` naming both stages. Throws `badParameter` for repeated or
    /// out-of-range axes or an empty `x`, `typeMismatch` for non-floating-point `x`, and `doesNotFit`
    /// when the partials and receive buffers of one tile exceed the temporary-memory budget.
    public func reduceSum(_ x: Tensor, axes: [Int], keepDims: Bool = false, name: String) throws(OpError) -> Tensor {
        try reduce(.sum, x, axes: axes, keepDims: keepDims, name: name)
    }

    /// Mean of `x` over `axes`: the float32 sum times 1 / (elements reduced into each output);
    /// shapes as ``reduceSum(_:axes:keepDims:name:)``.
    public func reduceMean(_ x: Tensor, axes: [Int], keepDims: Bool = false, name: String) throws(OpError) -> Tensor {
        try reduce(.mean, x, axes: axes, keepDims: keepDims, name: name)
    }

    /// Largest element of `x` over `axes`, with IEEE maxNum semantics as the IPU's `max` instructions:
    /// NaN elements are ignored (a group of only NaNs gives −∞); shapes as
    /// ``reduceSum(_:axes:keepDims:name:)``.
    public func reduceMax(_ x: Tensor, axes: [Int], keepDims: Bool = false, name: String) throws(OpError) -> Tensor {
        try reduce(.max, x, axes: axes, keepDims: keepDims, name: name)
    }

    /// The two-stage reduction documented on ``reduceSum(_:axes:keepDims:name:)``.
    func reduce(_ kind: ReductionKind, _ x: Tensor, axes: [Int], keepDims: Bool, name: String) throws(OpError) -> Tensor {
        try requireFloatingPoint(x, op: name)
        var reduced = Set<Int>()
        for axis in axes {
            let normalised = axis < 0 ? axis + x.rank : axis
            guard (0..<x.rank).contains(normalised), reduced.insert(normalised).inserted else {
                throw .badParameter(op: name, detail: "axes \(axes) must be distinct axes of shape \(x.shape)")
            }
        }
        guard x.elementCount > 0 else {
            throw .badParameter(op: name, detail: "cannot reduce the empty tensor of shape \(x.shape)")
        }
        let keptShape = x.shape.indices.map { reduced.contains($0) ? 1 : x.shape[$0] }
        let outputShape = keepDims ? keptShape : x.shape.indices.filter { !reduced.contains($0) }.map { x.shape[$0] }
        let stage1 = try reductionPartials(kind, x, into: keptShape, name: name)
        let output = graph.addVariable(x.elementType, outputShape, name: name)
        let local = try placeReductionOutput(output, stage1, name: name)
        let scale = Float(Double(output.elementCount) / Double(x.elementCount))
        let stage2 = try combinePartials(kind, stage1, into: output, scale: scale, name: name)
        let temporary = Set(stage1.partialBytes.keys).union(stage2.receivedBytes.keys)
            .map { stage1.partialBytes[$0, default: 0] + stage2.receivedBytes[$0, default: 0] }.max() ?? 0
        let partition = "\(x.shape) over axes \(reduced.sorted()) → \(outputShape): stage 1 one vertex on each of \(stage1.model.tiles.count) tiles (\(stage1.pieces.count) worker shares) → "
            + "\(stage1.partials.elementCount) float32 partials; stage 2 one vertex on each of \(stage2.vertices) tiles "
            + "(output \(local ? "on its inputs' tiles" : "mapped linearly"))"
        let budget = try temporaryBudget(op: name)
        guard temporary <= budget else {
            throw .doesNotFit(op: name, neededBytes: temporary, availableBytes: budget, bestPlan: partition)
        }
        append(.execute(stage1.computeSet))
        append(.execute(stage2.computeSet))
        record(OperationPlan(name: name, kind: "reduce\(kind.rawValue.prefix(1).uppercased())\(kind.rawValue.dropFirst())", partition: partition,
                             tilesUsed: stage1.model.tiles.union(stage2.model.tiles).count,
                             modelledCycles: stage1.model.cycles + stage2.model.cycles, temporaryBytesPerTile: temporary))
        return output
    }

    /// Stage 1: each worker share (piece) of `x`, run as part of its tile's one vertex, reduces it into a block of float32 partials on the
    /// piece's tile, one partial per output index (of `keptShape`, flattened) the piece reaches.
    private func reductionPartials(_ kind: ReductionKind, _ x: Tensor, into keptShape: [Int], name: String) throws(OpError) -> ReductionPartials {
        let pattern = BroadcastPattern(operand: keptShape, space: x.shape)!
        let pieces = try elementwisePieces(of: x, grainType: x.elementType)
        let blocks = pieces.map { pattern.operandRange(of: $0.positions) }
        var offsets: [Int] = [], count = 0
        for block in blocks {
            offsets.append(count)
            count += block.count
        }
        let partials = graph.addVariable(.float32, [count], name: "\(name)/partials")
        var stage = ReductionPartials(pieces: pieces, blocks: blocks, offsets: offsets, partials: partials,
                                      computeSet: graph.addComputeSet("\(name)/partials"), model: ElementwiseStepModel(target: graph.target))
        let flatX = x.flatten()
        var parts: [(tile: Int, codelet: ReducePartialCodelet, connections: [String: Tensor])] = []
        for (index, piece) in pieces.enumerated() {
            let codelet = ReducePartialCodelet(kind: kind, elementType: x.elementType, pattern: pattern,
                                               start: piece.positions.lowerBound, base: blocks[index].lowerBound,
                                               runs: broadcastRunCount(piece.positions, [pattern]))
            let slots = offsets[index]..<(offsets[index] + blocks[index].count)
            let connections = try building(name) { () throws(GraphError) in
                try graph.setTileMapping(partials.slice(slots), tile: piece.tile)
                return ["in": try flatX.slice(piece.positions), "partials": try partials.slice(slots)]
            }
            parts.append((piece.tile, codelet, connections))
            stage.partialBytes[piece.tile, default: 0] += slots.count * 4
        }
        for vertex in try addMultiVertices(stage.computeSet, parts, name: name) { stage.model.addVertex(tile: vertex.tile, cycles: vertex.cycles) }
        return stage
    }

    /// Maps each output element to the one tile its partials are on, if every element has one;
    /// otherwise spreads the output linearly, one element per grain. Returns whether it stayed local.
    private func placeReductionOutput(_ output: Tensor, _ stage: ReductionPartials, name: String) throws(OpError) -> Bool {
        var home = [Int](repeating: -1, count: output.elementCount)
        for (index, block) in stage.blocks.enumerated() {
            for o in block {
                if home[o] == -1 {
                    home[o] = stage.pieces[index].tile
                } else if home[o] != stage.pieces[index].tile {
                    try building(name) { () throws(GraphError) in try graph.mapLinearly(output, grainSize: 1, minElementsPerTile: 1) }
                    return false
                }
            }
        }
        let flatOutput = output.flatten()
        try building(name) { () throws(GraphError) in
            var begin = 0
            for o in 1...home.count where o == home.count || home[o] != home[begin] {
                try graph.setTileMapping(flatOutput.slice(begin..<o), tile: home[begin])
                begin = o
            }
        }
        return true
    }

    /// Stage 2: each worker share of `output`, run as part of its tile's one vertex, gathers the slices of every partial block that
    /// reaches it (exchanged from their tiles) and combines them.
    private func combinePartials(_ kind: ReductionKind, _ stage: ReductionPartials, into output: Tensor, scale: Float,
                                 name: String) throws(OpError) -> (computeSet: ComputeSet, model: ElementwiseStepModel, vertices: Int, receivedBytes: [Int: Int]) {
        let order = stage.blocks.indices.sorted { (stage.blocks[$0].lowerBound, $0) < (stage.blocks[$1].lowerBound, $1) }
        let computeSet = graph.addComputeSet("\(name)/combine")
        var model = ElementwiseStepModel(target: graph.target)
        var receivedBytes: [Int: Int] = [:]
        let pieces = try elementwisePieces(of: output, grainType: output.elementType)
        let flatOutput = output.flatten()
        var parts: [(tile: Int, codelet: ReduceCombineCodelet, connections: [String: Tensor])] = []
        for piece in pieces {
            let range = piece.positions
            var slices: [Tensor] = [], offsets: [Int] = [], counts: [Int] = [], remote = 0
            for index in order {
                let block = stage.blocks[index]
                if block.lowerBound >= range.upperBound { break }
                let lower = max(block.lowerBound, range.lowerBound), upper = min(block.upperBound, range.upperBound)
                guard lower < upper else { continue }
                let first = stage.offsets[index] + lower - block.lowerBound
                slices.append(try building(name) { () throws(GraphError) in try stage.partials.slice(first..<(first + upper - lower)) })
                offsets.append(lower - range.lowerBound)
                counts.append(upper - lower)
                if stage.pieces[index].tile != piece.tile { remote += (upper - lower) * 4 }
            }
            let gathered = try building(name) { () throws(GraphError) in try Tensor.concatenate(slices) }
            let codelet = ReduceCombineCodelet(kind: kind, elementType: output.elementType, offsets: offsets, counts: counts, scale: scale)
            let out = try building(name) { () throws(GraphError) in try flatOutput.slice(range) }
            parts.append((piece.tile, codelet, ["partials": gathered, "out": out]))
            model.receive(tile: piece.tile, bytes: remote)
            receivedBytes[piece.tile, default: 0] += remote
        }
        let vertices = try addMultiVertices(computeSet, parts, name: name)
        for vertex in vertices { model.addVertex(tile: vertex.tile, cycles: vertex.cycles) }
        return (computeSet, model, vertices.count, receivedBytes)
    }
}

/// The first stage of a reduction: its vertex pieces, the output-index block each piece reduces
/// into, and where each block sits in the partials variable.
private struct ReductionPartials {
    /// Pieces of the input, one vertex each.
    var pieces: [ElementwisePiece]
    /// Output indices (flat, of the kept-dimensions shape) piece `k` has partials for.
    var blocks: [Range<Int>]
    /// Offset of block `k` in `partials`.
    var offsets: [Int]
    /// All blocks, float32, each on its piece's tile.
    var partials: Tensor
    /// The stage's compute set.
    var computeSet: ComputeSet
    /// The stage's modelled cost.
    var model: ElementwiseStepModel
    /// Partial bytes per tile.
    var partialBytes: [Int: Int] = [:]
}
