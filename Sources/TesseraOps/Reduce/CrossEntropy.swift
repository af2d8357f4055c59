import TesseraGraph

/// `out[p] = −values[p]` where the class of position `p` (its index along the last axis of
/// `[N, C]`) is the label of its row, else 0; positions `start ..< start + n`, labels read through
/// their broadcast pattern from flat index `labelBase`.
struct NegativePickCodelet: Codelet {
    var elementType: ElementType
    var classes: Int
    var labelPattern: BroadcastPattern
    var labelBase: Int
    var start: Int

    var name: String { "negativePick<\(elementType)>" }
    var fields: [Field] { [.input("values", elementType), .input("labels", .int32), .output("out", elementType)] }
    var stateBytes: Int { 24 + 8 * labelPattern.dimensions.count }

    /// A compare, a select and a negate per vector, plus one load/store slot (docs/ops-cost.md);
    /// one run per row.
    func estimateCycles(fieldSizes: [Int], target: Target) -> Int {
        ElementwiseCost.cycles(elements: fieldSizes[2], type: elementType, instructions: 4,
                               runs: (fieldSizes[2] + classes - 1) / classes + 1, target: target)
    }

    func compute(_ fields: VertexFields) {
        if elementType == .float16 { run(fields, Float16.self) } else { run(fields, Float.self) }
    }

    private func run<T: ElementLane>(_ fields: VertexFields, _: T.Type) {
        let values = fields.input(0, as: T.self), labels = fields.input(1, as: Int32.self), out = fields.output(2, as: T.self)
        for i in out.indices {
            let position = start + i
            let label = Int(labels[labelPattern.index(of: position) - labelBase])
            out[i] = position % classes == label ? T(rounding: -values[i].widened) : T(rounding: 0)
        }
    }
}

extension OpBuilder {
    /// Softmax cross-entropy of `logits` `[N, C]` (float32 or float16) against class indices
    /// `labels` `[N]` (int32): `perSample[n] = −logSoftmax(logits)[n, labels[n]]` (shape `[N]`,
    /// mapped like the rows' reductions) and `loss`, their mean (shape `[]`). A label outside
    /// `0 ..< C` selects no class and gives that sample a loss of 0 (it still counts in the mean).
    public func crossEntropyLoss(logits: Tensor, labels: Tensor, name: String) throws(OpError) -> (loss: Tensor, perSample: Tensor) {
        guard logits.rank == 2, labels.shape == [logits.shape[0]] else {
            throw .shapeMismatch(op: name, detail: "crossEntropyLoss needs logits [N, C] and labels [N], got \(logits.shape) and \(labels.shape)")
        }
        guard labels.elementType == .int32 else {
            throw .typeMismatch(op: name, detail: "labels must be int32, got \(labels.elementType) \(labels.shape)")
        }
        let first = plans.count
        let logProbabilities = try logSoftmax(logits, name: "\(name)/logSoftmax")
        let picked = try variable(like: logProbabilities, name: "\(name)/picked")
        let classes = logits.shape[1]
        let labelPattern = BroadcastPattern(operand: [labels.shape[0], 1], space: logits.shape)!
        let pieces = try elementwisePieces(of: picked, grainType: picked.elementType)
        let labelRanges = sharedOperandRanges(pieces, labelPattern)
        let computeSet = graph.addComputeSet("\(name)/pick")
        var model = ElementwiseStepModel(target: graph.target)
        let flatValues = logProbabilities.flatten(), flatPicked = picked.flatten()
        var parts: [(tile: Int, codelet: NegativePickCodelet, connections: [String: Tensor])] = []
        for (index, piece) in pieces.enumerated() {
            let codelet = NegativePickCodelet(elementType: picked.elementType, classes: classes, labelPattern: labelPattern,
                                              labelBase: labelRanges[index].lowerBound, start: piece.positions.lowerBound)
            let labelView = try building(name) { () throws(GraphError) in try labels.slice(labelRanges[index]) }
            let connections = try building(name) { () throws(GraphError) in
                ["values": try flatValues.slice(piece.positions), "labels": labelView, "out": try flatPicked.slice(piece.positions)]
            }
            parts.append((piece.tile, codelet, connections))
            model.receive(tile: piece.tile, bytes: try bytesToReceive(of: labelView, on: piece.tile))
        }
        let vertices = try addMultiVertices(computeSet, parts, name: name)
        for vertex in vertices { model.addVertex(tile: vertex.tile, cycles: vertex.cycles) }
        append(.execute(computeSet))
        record(OperationPlan(name: "\(name)/pick", kind: "negativePick",
                             partition: "\(vertices.count) vertices (one per tile, \(pieces.count) worker shares) over \(model.tiles.count) tiles",
                             tilesUsed: model.tiles.count, modelledCycles: model.cycles, temporaryBytesPerTile: 0))
        let perSample = try reduceSum(picked, axes: [1], name: "\(name)/perSample")
        let loss = try reduceMean(perSample, axes: [0], name: name)
        recordComposite(kind: "crossEntropyLoss", name: name, shape: logits.shape, since: first)
        return (loss, perSample)
    }
}
