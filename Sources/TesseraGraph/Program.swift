/// A group of vertices that run in one bulk-synchronous compute phase.
public struct ComputeSet: Sendable, Hashable {
    package let graphID: Int
    /// Index of the compute set in its graph.
    public let index: Int
    /// Debug name, shown in reports.
    public let name: String
}

/// Direction of a host stream.
public enum StreamDirection: String, Sendable, Codable {
    /// Data flows from the host into tile memory.
    case hostToDevice
    /// Data flows from tile memory to the host.
    case deviceToHost
}

/// A named FIFO between the host and the device; each copy moves `elementCount` elements.
public struct HostStream: Sendable, Hashable {
    package let graphID: Int
    /// Index of the stream in its graph.
    public let index: Int
    /// Name used to connect the stream on the engine.
    public let name: String
    /// Element type of the data.
    public let elementType: ElementType
    /// Elements moved by each copy.
    public let elementCount: Int
    /// Direction of the data.
    public let direction: StreamDirection
}

/// A control program: what the device does, step by step.
public indirect enum Program: Sendable {
    /// The programs in order.
    case sequence([Program])
    /// One compute set as a bulk-synchronous superstep (exchange in, compute, exchange out).
    case execute(ComputeSet)
    /// Copies every element of `from` to the same position of `to` (same shape and type).
    case copy(from: Tensor, to: Tensor)
    /// The body `count` times.
    case `repeat`(count: Int, body: Program)
    /// `then` if the one-element `predicate` is non-zero, else `else`.
    case `if`(predicate: Tensor, then: Program, else: Program)
    /// The next `elementCount` elements of a host-to-device stream into a tensor.
    case streamToDevice(HostStream, Tensor)
    /// A tensor's elements to a device-to-host stream.
    case streamToHost(Tensor, HostStream)
    /// Ends the tensor's liveness: its memory may be reused until it is written again.
    case writeUndef(Tensor)
    /// Reduces each tensor element-wise over the replicas of each group and leaves the result in
    /// every replica (in place). Several tensors, of any types, form one merged collective.
    case allReduce([Tensor], ReduceOperator, group: ReplicaGroup)
    /// Reduces `from` over each group and leaves shard `k` of the result (elements
    /// `k·s ..< (k+1)·s`, `s = ⌈n / groupSize⌉`, zero past `n`) in `to` on the group's `k`-th replica.
    case reduceScatter(from: Tensor, to: Tensor, ReduceOperator, group: ReplicaGroup)
    /// Concatenates `from` of the group's replicas in replica order into `to` on each of them;
    /// `to` may be shorter than the concatenation (the tail is dropped), by less than one shard.
    case allGather(from: Tensor, to: Tensor, group: ReplicaGroup)

    /// The programs in order.
    public static func sequence(_ programs: Program...) -> Program { .sequence(programs) }
}

/// A tensor sharded over all replicas: each holds `shard`, one `⌈n / R⌉`-element part of a whole
/// tensor of `wholeShape` (zero-padded past `n` in the last replicas).
public struct ReplicaShardedTensor: Sendable {
    /// This replica's shard.
    public let shard: Tensor
    /// Shape of the whole tensor the shards make up.
    public let wholeShape: [Int]

    /// Elements of the whole tensor.
    public var wholeElementCount: Int { wholeShape.reduce(1, *) }
}

extension Program {
    /// Rebuilds the whole tensor from its shards in every replica.
    public static func allGather(_ sharded: ReplicaShardedTensor, to whole: Tensor) -> Program {
        .allGather(from: sharded.shard, to: whole, group: .all)
    }

    /// Reduces `whole` over all replicas and keeps each replica's shard of the result.
    public static func reduceScatter(_ whole: Tensor, to sharded: ReplicaShardedTensor, _ op: ReduceOperator) -> Program {
        .reduceScatter(from: whole, to: sharded.shard, op, group: .all)
    }
}

/// How a collective combines the replicas' values.
public enum ReduceOperator: String, Sendable, Codable, CaseIterable {
    /// Sum (wrapping for integers).
    case sum
    /// Sum divided by the group size (truncating for integers).
    case mean
    /// Largest value.
    case max
    /// Smallest value.
    case min
}

/// Which replicas a collective joins: all of them, or consecutive groups of `size`.
public struct ReplicaGroup: Sendable, Hashable, Codable {
    /// Replicas per group; nil means all replicas.
    public var size: Int?

    /// Every replica in one group.
    public static let all = ReplicaGroup(size: nil)

    /// Consecutive groups of `size` replicas: `0..<size`, `size..<2·size`, …
    public static func consecutive(_ size: Int) -> ReplicaGroup { ReplicaGroup(size: size) }
}
