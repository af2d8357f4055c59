import TesseraGraph

/// What a step does.
public enum StepKind: String, Codable, Sendable {
    /// A compute set, with the exchanges its vertices need.
    case compute
    /// A tensor-to-tensor copy (exchange and on-tile copies only).
    case copy
    /// A host-to-device stream copy.
    case hostToDevice
    /// A device-to-host stream copy.
    case deviceToHost
    /// Reading an `if` predicate and broadcasting it to every tile.
    case predicate
    /// A cross-replica collective over the IPU-Links.
    case collective
}

/// Modelled cycles of one step, by phase, as documented in docs/cost-model.md.
public struct StepCycles: Sendable, Codable, Hashable {
    /// Index of the step in the executable.
    public var index: Int
    /// Compute set or copy name.
    public var name: String
    /// What the step does.
    public var kind: StepKind
    /// Cycles spent synchronising all tiles before each phase.
    public var syncCycles = 0
    /// Cycles of the exchange that brings vertex inputs to their tiles.
    public var exchangeInCycles = 0
    /// Cycles of the slowest tile's compute (its vertices and on-tile copies).
    public var computeCycles = 0
    /// Cycles of the exchange that sends vertex outputs to their tiles.
    public var exchangeOutCycles = 0
    /// Cycles of host transfers.
    public var hostCycles = 0
    /// Cycles of a cross-replica collective: the ring over the IPU-Links and the exchange to the links.
    public var collectiveCycles = 0
    /// Fewest compute cycles of any tile with work.
    public var tileComputeMin = 0
    /// Mean compute cycles over tiles with work.
    public var tileComputeMean = 0.0
    /// Tiles that run vertices or on-tile copies.
    public var activeTiles = 0
    /// Vertices run.
    public var vertices = 0
    /// Bytes sent between tiles.
    public var exchangedBytes = 0
    /// Bytes copied within tiles.
    public var onTileCopyBytes = 0
    /// Bytes moved to or from the host.
    public var hostBytes = 0
    /// Bytes of every replica's data entering a collective.
    public var collectiveBytes = 0

    /// Exchange cycles of both exchange phases.
    public var exchangeCycles: Int { exchangeInCycles + exchangeOutCycles }
    /// All cycles of the step.
    public var totalCycles: Int { syncCycles + exchangeInCycles + computeCycles + exchangeOutCycles + hostCycles + collectiveCycles }
}

/// The cycle model: codelet estimates scheduled over worker contexts, exchange from bytes per tile,
/// sync per phase. Formulas and sources: docs/cost-model.md.
enum CycleModel {
    /// Tile cycles to run vertices whose worker-context cycle estimates are `estimates`: each vertex goes
    /// to the least-loaded of the `workerContexts` contexts in order, and because the contexts share
    /// the tile's issue slots round-robin, each context advances one instruction every
    /// `workerContexts` tile cycles.
    static func workerSchedule(_ estimates: [Int], target: Target) -> Int {
        var loads = [Int](repeating: 0, count: target.workerContexts)
        for cycles in estimates {
            let slot = loads.indices.min { loads[$0] < loads[$1] }!
            loads[slot] += cycles
        }
        return (loads.max() ?? 0) * target.workerContexts
    }

    /// Cycles of an exchange phase in which tiles send `sent[t]` and receive `received[t]` bytes.
    static func exchange(sent: [Int], received: [Int], target: Target) -> Int {
        var busiest = 0
        for tile in sent.indices { busiest = max(busiest, sent[tile], received[tile]) }
        guard busiest > 0 else { return 0 }
        return target.exchangeFixedCycles + (busiest + target.exchangeBytesPerCycle - 1) / target.exchangeBytesPerCycle
    }

    /// Cycles of an on-tile copy of `bytes` bytes.
    static func onTileCopy(_ bytes: Int, target: Target) -> Int {
        (bytes + target.memcpyBytesPerCycle - 1) / target.memcpyBytesPerCycle
    }

    /// Cycles of a ring collective over `groupSize` replicas of `bytes` bytes per replica, held on tiles
    /// whose busiest holds `busiestTileBytes`: `steps` ring steps (all-reduce 2(p−1), reduce-scatter and
    /// all-gather p−1), each a global sync across the group plus `bytes / p` over the links of one step;
    /// plus the on-chip exchange that brings the data from the tiles to the links and back.
    static func collective(kind: CollectiveKind, bytes: Int, groupSize p: Int, busiestTileBytes: Int, target: Target) -> Int {
        guard p > 1, bytes > 0 else { return 0 }
        let steps = kind == .allReduce ? 2 * (p - 1) : p - 1
        let linkBytesPerSecond = target.ipuLinkBytesPerSecond * Double(target.replicaTopology.linksPerStep)
        let chunkCycles = Double(bytes) / Double(p) / linkBytesPerSecond * target.clockHz
        let ring = Double(steps) * (Double(target.globalSyncCycles(ipus: p)) + chunkCycles)
        let onChip = 2 * (target.exchangeFixedCycles + (busiestTileBytes + target.exchangeBytesPerCycle - 1) / target.exchangeBytesPerCycle)
        return Int(ring.rounded(.up)) + onChip
    }

    /// Cycles of moving `bytes` over the host link.
    static func host(_ bytes: Int, target: Target) -> Int {
        target.exchangeFixedCycles + Int((Double(bytes) / target.hostLinkBytesPerSecond * target.clockHz).rounded(.up))
    }
}
