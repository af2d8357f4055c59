import TesseraCompiler
import TesseraGraph

/// Options every operation takes.
public struct OpOptions: Sendable, Hashable {
    /// Fraction of a tile's memory an operation's planner may use for temporaries (Poplar's
    /// "available memory proportion"; default 0.6).
    public var availableMemoryProportion: Double = 0.6

    /// The defaults.
    public init(availableMemoryProportion: Double = 0.6) {
        self.availableMemoryProportion = availableMemoryProportion
    }

    /// Bytes of a tile of `bytesPerTile` an operation `op` may use for temporaries; `badParameter` for a
    /// proportion outside 0 … 1 (NaN included).
    public func temporaryBudget(bytesPerTile: Int, op: String) throws(OpError) -> Int {
        guard (0...1).contains(availableMemoryProportion) else {
            throw .badParameter(op: op, detail: "available memory proportion \(availableMemoryProportion) is not between 0 and 1")
        }
        return Int(Double(bytesPerTile) * availableMemoryProportion)
    }
}

/// The plan chosen for one operation, for reports: how the work was split, what it costs.
public struct OperationPlan: Sendable, Codable, Hashable {
    /// Operation instance name.
    public var name: String
    /// Operation kind ("matmul", "conv", "relu", …).
    public var kind: String
    /// How the work is split, in words ("batch 2 × out-channels 8 × in-channels 4 over 64 tiles").
    public var partition: String
    /// Tiles that run the operation's vertices.
    public var tilesUsed: Int
    /// Modelled cycles of the operation's steps (compute and exchange, from the planner's model).
    public var modelledCycles: Int
    /// Temporary bytes on the busiest tile.
    public var temporaryBytesPerTile: Int

    /// A plan with every field given.
    public init(name: String, kind: String, partition: String, tilesUsed: Int, modelledCycles: Int, temporaryBytesPerTile: Int) {
        self.name = name
        self.kind = kind
        self.partition = partition
        self.tilesUsed = tilesUsed
        self.modelledCycles = modelledCycles
        self.temporaryBytesPerTile = temporaryBytesPerTile
    }
}

/// Builds operations into a graph, as poplibs does: each operation adds its tensors, vertices and
/// compute sets to `graph` and appends the steps that run them to `steps`, in order.
public final class OpBuilder {
    /// The graph operations are added to.
    public let graph: Graph
    /// Options for operations that are not given their own.
    public var options: OpOptions
    /// The program steps added so far.
    public private(set) var steps: [Program] = []
    /// The plan of every operation added so far.
    public private(set) var plans: [OperationPlan] = []
    /// Run lists lately asked about, and the permutation each is (``storagePermutation(of:)``).
    private var knownPermutations: [(elements: ElementRunList, permutation: StoragePermutation?)] = []

    /// A builder adding to `graph`.
    public init(_ graph: Graph, options: OpOptions = OpOptions()) {
        self.graph = graph
        self.options = options
    }

    /// Lets go of what the builder keeps to answer repeated questions fast (the views it last
    /// found to be storage permutations, with their run lists): a model's lowering calls it
    /// before the compile, which needs the memory more. Later operations rebuild what they use.
    public func releaseCaches() {
        knownPermutations = []
    }

    /// The steps added so far, as one program.
    public var program: Program { .sequence(steps) }

    /// Appends a program step.
    public func append(_ step: Program) { steps.append(step) }

    /// Records the plan of an operation.
    public func record(_ plan: OperationPlan) { plans.append(plan) }

    /// Runs `body`, turning graph errors into errors of operation `op`.
    public func building<T>(_ op: String, _ body: () throws(GraphError) -> T) throws(OpError) -> T {
        do { return try body() } catch { throw .graph(op: op, error) }
    }

    /// A new variable `name` with the shape of `like`, mapped and stored as `like` is
    /// (``Graph/clone(_:type:name:)``, Poplar's `clone`).
    public func variable(like: Tensor, type: ElementType? = nil, name: String) throws(OpError) -> Tensor {
        try building(name) { () throws(GraphError) in try graph.clone(like, type: type, name: name) }
    }

    /// `tensor` as a permutation of one contiguous variable range (``StoragePermutation``), or nil;
    /// the answers for the last few run lists asked about (or made by ``relabel(_:onto:)``) are kept,
    /// as one operation's output is the next one's input.
    func storagePermutation(of tensor: Tensor) throws(OpError) -> StoragePermutation? {
        if let known = knownPermutations.first(where: { $0.elements === tensor.elements }) { return known.permutation?.seen(as: tensor) }
        let permutation = try building("storagePermutation") { () throws(GraphError) in try graph.storagePermutation(of: tensor) }
        remember(tensor.elements, permutation)
        return permutation
    }

    /// The view `permutation` makes of `other` (``StoragePermutation/relabeled(onto:)``), remembered as a permutation.
    func relabel(_ permutation: StoragePermutation, onto other: Tensor) -> Tensor {
        let relabeled = permutation.relabeled(onto: other)
        remember(relabeled.view.elements, relabeled)
        return relabeled.view
    }

    private func remember(_ elements: ElementRunList, _ permutation: StoragePermutation?) {
        if knownPermutations.count == 8 { knownPermutations.removeFirst() }
        knownPermutations.append((elements, permutation))
    }

    /// The contiguous position ranges of `tensor` on each tile that holds some of it, in tile order.
    public func tileRegions(of tensor: Tensor) throws(OpError) -> [(tile: Int, ranges: [Range<Int>])] {
        try building("tileRegions") { () throws(GraphError) in try graph.tileRegions(of: tensor) }
    }

    /// Temporary bytes per tile operation `op` may use under `options` (default: the builder's).
    public func temporaryBudget(_ options: OpOptions? = nil, op: String) throws(OpError) -> Int {
        try (options ?? self.options).temporaryBudget(bytesPerTile: graph.target.bytesPerTile, op: op)
    }
}
