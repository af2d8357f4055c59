// Replicated tensor sharding: data-parallel training keeps optimiser state on every replica, but
// each replica only needs to update its share of the weights. Sharding the momentum and a master
// copy of the weights over R replicas divides that memory by R; a reduce-scatter hands each replica
// its shard of the mean gradient, and an all-gather rebuilds the weights every replica uses.
import Tessera

/// Momentum SGD on one tile's elements: `m = μ·m + g`, `w = w − η·m`.
public struct MomentumUpdate: Codelet {
    /// Learning rate η.
    public var learningRate: Float
    /// Momentum μ.
    public var momentum: Float

    public init(learningRate: Float, momentum: Float) {
        self.learningRate = learningRate
        self.momentum = momentum
    }

    public var fields: [Field] { [.inOut("weights", .float32), .inOut("velocity", .float32), .input("gradient", .float32)] }
    public var stateBytes: Int { 8 }
    public func sizeProblem(fieldSizes: [Int]) -> String? {
        Set(fieldSizes).count == 1 ? nil : "weights, velocity and gradient differ in size: \(fieldSizes)"
    }
    /// Two vector multiply-adds per pair of float32 elements plus loop set-up.
    public func estimateCycles(fieldSizes: [Int], target: Target) -> Int {
        12 + 2 * ((fieldSizes[0] + target.vectorWidth(.float32) - 1) / target.vectorWidth(.float32))
    }
    public func compute(_ fields: VertexFields) {
        let weights = fields.output(0, as: Float.self), velocity = fields.output(1, as: Float.self)
        let gradient = fields.input(2, as: Float.self)
        for i in weights.indices {
            velocity[i] = momentum * velocity[i] + gradient[i]
            weights[i] -= learningRate * velocity[i]
        }
    }
}

/// One optimiser step of data-parallel training, with the optimiser state whole or sharded.
public enum ShardedOptimizerExample {
    /// The compiled step and the tensors a caller reads and writes.
    public struct Step {
        public var executable: Executable
        /// The weights every replica uses (whole).
        public var weights: Tensor
        /// Each replica's gradient (whole).
        public var gradients: Tensor
        /// The momentum: whole, or one replica's shard.
        public var velocity: Tensor
    }

    /// Builds and compiles one step over `parameters` float32 weights on `replicas` replicas.
    public static func compile(target: Target, replicas: Int, parameters: Int, sharded: Bool,
                               learningRate: Float = 0.1, momentum: Float = 0.9) throws -> Step {
        let graph = try Graph(target: target, replicas: replicas)
        let weights = graph.addVariable(.float32, [parameters], name: "weights")
        let gradients = graph.addVariable(.float32, [parameters], name: "gradients")
        try graph.mapLinearly(weights)
        try graph.mapLinearly(gradients)
        try graph.makeHostVisible(weights)
        try graph.makeHostVisible(gradients)
        let update = MomentumUpdate(learningRate: learningRate, momentum: momentum)
        let step = graph.addComputeSet("momentum update")
        let program: Program
        let velocity: Tensor
        if sharded {
            let master = graph.addReplicaShardedVariable(.float32, [parameters], name: "master weights")
            let shardVelocity = graph.addReplicaShardedVariable(.float32, [parameters], name: "velocity")
            let shardGradient = graph.addReplicaShardedVariable(.float32, [parameters], name: "gradient shard")
            for shard in [master.shard, shardVelocity.shard, shardGradient.shard] { try graph.mapLinearly(shard) }
            try graph.makeHostVisible(master.shard)
            try addUpdateVertices(graph, step, update, master.shard, shardVelocity.shard, shardGradient.shard)
            program = .sequence(.reduceScatter(gradients, to: shardGradient, .mean), .execute(step), .allGather(master, to: weights))
            velocity = shardVelocity.shard
        } else {
            velocity = graph.addVariable(.float32, [parameters], name: "velocity")
            try graph.mapLinearly(velocity)
            try addUpdateVertices(graph, step, update, weights, velocity, gradients)
            program = .sequence(.allReduce([gradients], .mean, group: .all), .execute(step))
        }
        try graph.makeHostVisible(velocity)
        return Step(executable: try Compiler.compile(graph, program: program), weights: weights, gradients: gradients, velocity: velocity)
    }

    /// One update vertex per tile, over the elements that tile holds (the three tensors are mapped alike).
    private static func addUpdateVertices(_ graph: Graph, _ step: ComputeSet, _ update: MomentumUpdate,
                                          _ weights: Tensor, _ velocity: Tensor, _ gradient: Tensor) throws {
        for (tile, ranges) in try graph.tileMapping(of: weights).enumerated() {
            for range in ranges {
                try graph.addVertex(step, update, tile: tile, ["weights": weights.slice(range), "velocity": velocity.slice(range),
                                                               "gradient": gradient.slice(range)])
            }
        }
    }

    /// Fullest-tile and total bytes per replica of the whole and sharded layouts, for each replica count.
    public static func memoryComparison(target: Target, parameters: Int, replicaCounts: [Int]) throws
        -> [(replicas: Int, whole: TileMemory, sharded: TileMemory)] {
        try replicaCounts.map { replicas in
            (replicas,
             try compile(target: target, replicas: replicas, parameters: parameters, sharded: false).executable.memory.fullestTile,
             try compile(target: target, replicas: replicas, parameters: parameters, sharded: true).executable.memory.fullestTile)
        }
    }
}
