import TesseraGraph

/// An activation function, applied element-wise in float32 (float16 data is widened and the result
/// rounded to nearest even).
public enum Activation: String, Sendable, CaseIterable {
    /// `max(x, 0)`.
    case relu
    /// `1 / (1 + e^−x)`.
    case sigmoid
    /// SiLU (swish): `x · sigmoid(x)`.
    case silu
    /// Hyperbolic tangent.
    case tanh
    /// Hard swish (MobileNetV3): `x · min(max(x + 3, 0), 6) / 6`.
    case hardSwish

    var function: UnaryFunction {
        switch self {
        case .relu: .relu
        case .sigmoid: .sigmoid
        case .silu: .silu
        case .tanh: .tanh
        case .hardSwish: .hardSwish
        }
    }
}

extension OpBuilder {
    /// `activation(x)` element-wise into a new tensor of `x`'s shape and type, mapped like `x`
    /// position by position; each tile computes the positions it holds (no exchange).
    /// `x` is float32 or float16, of any shape and layout.
    public func activation(_ x: Tensor, _ activation: Activation, name: String) throws(OpError) -> Tensor {
        try mapElements(x, activation.function, name: name)
    }

    /// The end of a plan's partition naming the activation fused into its operation.
    func activationNote(_ activation: Activation?) -> String {
        activation.map { ", then \($0.rawValue) in the same step" } ?? ""
    }

    /// Applies `activation` to `x` in place (each tile on the elements it holds). `x` must be a
    /// float32 or float16 view without repeated elements (not a broadcast).
    public func activationInPlace(_ x: Tensor, _ activation: Activation, name: String) throws(OpError) {
        try mapElementsInPlace(x, activation.function, name: name)
    }

    /// `max(x, 0)` element-wise; see ``activation(_:_:name:)``.
    public func relu(_ x: Tensor, name: String) throws(OpError) -> Tensor { try activation(x, .relu, name: name) }
    /// `1 / (1 + e^−x)` element-wise; see ``activation(_:_:name:)``.
    public func sigmoid(_ x: Tensor, name: String) throws(OpError) -> Tensor { try activation(x, .sigmoid, name: name) }
    /// `x · sigmoid(x)` (swish) element-wise; see ``activation(_:_:name:)``.
    public func silu(_ x: Tensor, name: String) throws(OpError) -> Tensor { try activation(x, .silu, name: name) }
    /// Hyperbolic tangent element-wise; see ``activation(_:_:name:)``.
    public func tanh(_ x: Tensor, name: String) throws(OpError) -> Tensor { try activation(x, .tanh, name: name) }
    /// `x · min(max(x + 3, 0), 6) / 6` element-wise; see ``activation(_:_:name:)``.
    public func hardSwish(_ x: Tensor, name: String) throws(OpError) -> Tensor { try activation(x, .hardSwish, name: name) }
    /// `e^x` element-wise into a new tensor mapped like `x` (float32 or float16).
    public func exp(_ x: Tensor, name: String) throws(OpError) -> Tensor { try mapElements(x, .exp, name: name) }
    /// Natural logarithm element-wise into a new tensor mapped like `x` (float32 or float16).
    public func log(_ x: Tensor, name: String) throws(OpError) -> Tensor { try mapElements(x, .log, name: name) }
    /// `factor · x` element-wise into a new tensor mapped like `x` (float32 or float16).
    public func scale(_ x: Tensor, by factor: Float, name: String) throws(OpError) -> Tensor {
        try mapElements(x, .scale(factor), name: name)
    }
    /// `x ← factor · x` in place (float32 or float16, no repeated elements).
    public func scaleInPlace(_ x: Tensor, by factor: Float, name: String) throws(OpError) {
        try mapElementsInPlace(x, .scale(factor), name: name)
    }

    func mapElements(_ x: Tensor, _ function: UnaryFunction, name: String) throws(OpError) -> Tensor {
        try requireFloatingPoint(x, op: name)
        // On the range `x` permutes, in storage order, when it is one: the same vertices, found
        // from a few intervals per tile instead of every run of the view.
        if let permutation = try storagePermutation(of: x) {
            let output = try variable(like: permutation.storage, name: name)
            try addUnaryStep(function, input: permutation.storage, output: output, name: name)
            return relabel(permutation, onto: output)
        }
        let output = try variable(like: x, name: name)
        try addUnaryStep(function, input: x, output: output, name: name)
        return output
    }

    func mapElementsInPlace(_ x: Tensor, _ function: UnaryFunction, name: String) throws(OpError) {
        try requireFloatingPoint(x, op: name)
        try addUnaryStep(function, input: nil, output: try storagePermutation(of: x)?.storage ?? x, name: name)
    }

    private func addUnaryStep(_ function: UnaryFunction, input: Tensor?, output: Tensor, name: String) throws(OpError) {
        let work = try tileWork(of: output)
        let computeSet = graph.addComputeSet(name)
        var model = ElementwiseStepModel(target: graph.target)
        let flatOut = output.flatten(), flatIn = input?.flatten()
        var fieldCache = RegionFieldCache()
        var connections = VertexRegions(operands: [flatOut] + (flatIn.map { [$0] } ?? []))
        try building(name) { () throws(GraphError) in
            for tile in work {
                // The codelet's regions: runs of the tile's regions that it stores one after another.
                let regions = storedRuns(tile.regions, of: [flatIn, flatOut].compactMap { $0 }, tile: tile.tile)
                let codelet = UnaryCodelet(function: function, elementType: output.elementType, inPlace: input == nil, regions: regions.count,
                                           split: WorkerSplit(graph.target, output.elementType))
                // In field order: `in<r>`, `out<r>` (or `inOut<r>`) of each region.
                connections.removeFields()
                for region in regions {
                    if flatIn != nil { connections.addField(operand: 1, region[...]) }
                    connections.addField(operand: 0, region[...])
                }
                let vertex = try graph.addVertex(computeSet, codelet, tile: tile.tile,
                                                 fields: fieldCache.fields(of: codelet, counts: [regions.count]), regions: connections)
                model.addVertex(tile: tile.tile, cycles: graph.estimatedCycles(ofVertex: vertex.index))
            }
        }
        append(.execute(computeSet))
        record(OperationPlan(name: name, kind: function.name + (input == nil ? "InPlace" : ""),
                             partition: "\(work.count) vertices (one per tile, split over its worker contexts), each on the elements its tile holds",
                             tilesUsed: model.tiles.count, modelledCycles: model.cycles, temporaryBytesPerTile: 0))
    }

    func requireFloatingPoint(_ x: Tensor, op: String) throws(OpError) {
        guard x.elementType.isFloatingPoint else {
            throw .typeMismatch(op: op, detail: "needs float32 or float16, got \(x.elementType) tensor of shape \(x.shape)")
        }
    }
}
