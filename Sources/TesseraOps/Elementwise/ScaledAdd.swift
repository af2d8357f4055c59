import TesseraGraph

/// `a[i] += factor · b[i]`, float32 or float16 (computed in float32), over the `regions`
/// contiguous regions of `a` its tile holds — one MultiVertex per tile, fields `a<r>`, `b<r>` per
/// region, split over the worker contexts (``WorkerSplit``) when it computes.
struct ScaledAddCodelet: Codelet {
    var factor: Float
    var elementType: ElementType
    var regions: Int
    var split: WorkerSplit

    var name: String { "scaledAdd<\(elementType)>" }
    var fields: [Field] { (0..<regions).flatMap { [Field.inOut("a\($0)", elementType), .input("b\($0)", elementType)] } }
    var stateBytes: Int { 4 + 8 * regions }

    func sizeProblem(fieldSizes: [Int]) -> String? {
        for r in 0..<regions where fieldSizes[2 * r] != fieldSizes[2 * r + 1] {
            return "region \(r): a has \(fieldSizes[2 * r]) elements, b has \(fieldSizes[2 * r + 1])"
        }
        return nil
    }

    /// One axpy instruction and one load/store slot per vector, per worker share; the slowest
    /// worker's cycles (docs/ops-cost.md).
    func estimateCycles(fieldSizes: [Int], target: Target) -> Int {
        let shares = WorkerSplit(target, elementType).shares((0..<regions).map { fieldSizes[2 * $0] })
        return slowestWorkerCycles(shares.map {
            ElementwiseCost.cycles(elements: $0.offsets.count, type: elementType, instructions: 2, target: target)
        }, contexts: target.workerContexts)
    }

    func compute(_ fields: VertexFields) {
        if elementType == .float16 { run(fields, Float16.self) } else { run(fields, Float.self) }
    }

    private func run<T: ElementLane>(_ fields: VertexFields, _: T.Type) {
        for share in split.shares((0..<regions).map { fields.count(2 * $0) }) {
            let a = fields.output(2 * share.region, as: T.self), b = fields.input(2 * share.region + 1, as: T.self)
            guard let aStart = a.baseAddress, let bStart = b.baseAddress else { continue }
            let aBase = aStart + share.offsets.lowerBound, bBase = bStart + share.offsets.lowerBound, count = share.offsets.count
            var i = 0
            while i + 16 <= count {
                T.storeRounded16(T.loadWidened16(aBase + i) + factor * T.loadWidened16(bBase + i), aBase + i)
                i += 16
            }
            while i < count {
                aBase[i] = T(rounding: aBase[i].widened + factor * bBase[i].widened)
                i += 1
            }
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
        let work = try tileWork(of: a)
        let computeSet = graph.addComputeSet(name)
        var model = ElementwiseStepModel(target: graph.target)
        var temporary: [Int: Int] = [:]
        let flatA = a.flatten(), flatB = b.flatten()
        for tile in work {
            let codelet = ScaledAddCodelet(factor: factor, elementType: a.elementType, regions: tile.regions.count,
                                           split: WorkerSplit(graph.target, a.elementType))
            var connections: [String: Tensor] = [:]
            for (r, region) in tile.regions.enumerated() {
                let bView = try building(name) { () throws(GraphError) in try flatB.slice(region) }
                connections["a\(r)"] = try building(name) { () throws(GraphError) in try flatA.slice(region) }
                connections["b\(r)"] = bView
                let bytes = try bytesToReceive(of: bView, on: tile.tile)
                model.receive(tile: tile.tile, bytes: bytes)
                temporary[tile.tile, default: 0] += bytes
            }
            _ = try building(name) { () throws(GraphError) in try graph.addVertex(computeSet, codelet, tile: tile.tile, connections) }
            let sizes = tile.regions.flatMap { [$0.count, $0.count] }
            model.addVertex(tile: tile.tile, cycles: codelet.estimateCycles(fieldSizes: sizes, target: graph.target))
        }
        append(.execute(computeSet))
        record(OperationPlan(name: name, kind: "scaledAddTo", partition: "\(work.count) vertices (one per tile) over \(model.tiles.count) tiles, following a",
                             tilesUsed: model.tiles.count, modelledCycles: model.cycles, temporaryBytesPerTile: temporary.values.max() ?? 0))
    }
}
