import TesseraGraph

/// `a[i] += factor · b[i]` over one contiguous region, float32 or float16 (computed in float32).
struct ScaledAddCodelet: Codelet {
    var factor: Float
    var elementType: ElementType

    var name: String { "scaledAdd<\(elementType)>" }
    var fields: [Field] { [.inOut("a", elementType), .input("b", elementType)] }
    var stateBytes: Int { 4 }

    func sizeProblem(fieldSizes: [Int]) -> String? {
        fieldSizes[0] == fieldSizes[1] ? nil : "a has \(fieldSizes[0]) elements, b has \(fieldSizes[1])"
    }

    /// One axpy instruction and one load/store slot per vector (docs/ops-cost.md).
    func estimateCycles(fieldSizes: [Int], target: Target) -> Int {
        ElementwiseCost.cycles(elements: fieldSizes[0], type: elementType, instructions: 2, target: target)
    }

    func compute(_ fields: VertexFields) {
        if elementType == .float16 { run(fields, Float16.self) } else { run(fields, Float.self) }
    }

    private func run<T: ElementLane>(_ fields: VertexFields, _: T.Type) {
        let a = fields.output(0, as: T.self), b = fields.input(1, as: T.self)
        guard let aBase = a.baseAddress, let bBase = b.baseAddress else { return }
        var i = 0
        while i + 16 <= a.count {
            T.storeRounded16(T.loadWidened16(aBase + i) + factor * T.loadWidened16(bBase + i), aBase + i)
            i += 16
        }
        while i < a.count {
            a[i] = T(rounding: a[i].widened + factor * b[i].widened)
            i += 1
        }
    }
}

extension OpBuilder {
    /// `a ← a + factor · b` in place, as poplibs' `scaledAddTo`: `a` and `b` have one shape and one
    /// element type (float32 or float16; the sum is computed in float32 and rounded once). Each tile
    /// updates the elements of `a` it holds; elements of `b` held elsewhere are exchanged to it.
    public func scaledAddTo(_ a: Tensor, _ b: Tensor, scale factor: Float, name: String) throws(OpError) {
        guard a.shape == b.shape else {
            throw .shapeMismatch(op: name, detail: "scaledAddTo needs equal shapes, got a \(a.shape) and b \(b.shape)")
        }
        guard a.elementType == b.elementType, a.elementType.isFloatingPoint else {
            throw .typeMismatch(op: name, detail: "scaledAddTo needs two float32 or two float16 operands, got \(a.elementType) and \(b.elementType)")
        }
        let codelet = ScaledAddCodelet(factor: factor, elementType: a.elementType)
        let pieces = try elementwisePieces(of: a, grainType: a.elementType)
        let computeSet = graph.addComputeSet(name)
        var model = ElementwiseStepModel(target: graph.target)
        var temporary: [Int: Int] = [:]
        let flatA = a.flatten(), flatB = b.flatten()
        for piece in pieces {
            let bView = try building(name) { () throws(GraphError) in try flatB.slice(piece.positions) }
            _ = try building(name) { () throws(GraphError) in
                try graph.addVertex(computeSet, codelet, tile: piece.tile, ["a": flatA.slice(piece.positions), "b": bView])
            }
            let bytes = try bytesToReceive(of: bView, on: piece.tile)
            model.addVertex(tile: piece.tile, cycles: codelet.estimateCycles(fieldSizes: [piece.positions.count], target: graph.target))
            model.receive(tile: piece.tile, bytes: bytes)
            temporary[piece.tile, default: 0] += bytes
        }
        append(.execute(computeSet))
        record(OperationPlan(name: name, kind: "scaledAddTo", partition: "\(pieces.count) vertices over \(model.tiles.count) tiles, following a",
                             tilesUsed: model.tiles.count, modelledCycles: model.cycles, temporaryBytesPerTile: temporary.values.max() ?? 0))
    }
}
