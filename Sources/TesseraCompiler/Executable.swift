import TesseraGraph

/// A copy of `rows` rows of `count` elements from tile `sourceTile` into the tile whose group of a
/// ``TileGrouped`` holds it (possibly the same tile), with byte offsets, element strides and row
/// strides. Every field fits 32 bits: offsets and strides lie within one tile's memory, which the
/// compiler has checked is under 2³¹ bytes.
package struct CopyOp: Sendable {
    package var sourceTile: Int32
    package var count: Int32
    package var elementBytes: Int32
    package var sourceOffset: Int32
    package var destinationOffset: Int32
    package var sourceStride: Int32
    package var destinationStride: Int32
    package var rows: Int32
    package var sourceRowStride: Int32
    package var destinationRowStride: Int32
}

/// Items grouped by tile, in tile order: `items[tileStart[i]..<tileStart[i + 1]]` belong to `tiles[i]`.
package struct TileGrouped<Item: Sendable>: Sendable {
    package var tiles: [Int32] = []
    package var tileStart: [Int] = [0]
    package var items: [Item] = []

    package init() {}

    /// Builds the groups from items and their tiles (stable within a tile), by counting sort.
    package init(_ pairs: [(tile: Int, item: Item)]) {
        self.init(pairs, tile: { $0.tile }, item: { $0.item })
    }

    /// Builds the groups from `sources`, each giving its tile and its item (stable within a
    /// tile), by counting sort, without an intermediate array of pairs.
    package init<Source>(_ sources: [Source], tile: (Source) -> Int, item: (Source) -> Item) {
        guard let largest = sources.lazy.map(tile).max() else { return }
        var counts = [Int](repeating: 0, count: largest + 1)
        for source in sources { counts[tile(source)] += 1 }
        var next = [Int](repeating: 0, count: largest + 1)
        var total = 0
        for tile in 0...largest where counts[tile] > 0 {
            next[tile] = total
            tiles.append(Int32(tile))
            total += counts[tile]
            tileStart.append(total)
        }
        items = [Item](unsafeUninitializedCapacity: sources.count) { buffer, initialized in
            if let base = buffer.baseAddress { adviseHugePages(UnsafeMutableRawPointer(base), bytes: buffer.count * MemoryLayout<Item>.stride) }
            for source in sources {
                let slot = tile(source)
                (buffer.baseAddress! + next[slot]).initialize(to: item(source))
                next[slot] += 1
            }
            initialized = sources.count
        }
    }

    package var isEmpty: Bool { items.isEmpty }

    /// Indices into `tiles` of the groups whose tile lies in `range`.
    package func groups(inTiles range: Range<Int>) -> Range<Int> {
        func lowerBound(_ value: Int) -> Int {
            var low = 0, high = tiles.count
            while low < high {
                let mid = (low + high) / 2
                if Int(tiles[mid]) < value { low = mid + 1 } else { high = mid }
            }
            return low
        }
        return lowerBound(range.lowerBound)..<lowerBound(range.upperBound)
    }
}

/// One vertex ready to run: its codelet and where its field slots start.
package struct PlacedVertex: Sendable {
    package var codelet: any Codelet
    package var firstSlot: Int
}

/// The vertices of one superstep, grouped by tile, with their field slots.
package struct ComputePlan: Sendable {
    package var vertices = TileGrouped<PlacedVertex>()
    package var slots: [FieldSlot] = []
}

/// Elements moved between the host and one tile by a stream copy.
package struct HostPiece: Sendable {
    package var tileOffset: Int
    package var tileStride: Int
    package var hostElement: Int
    package var count: Int
}

/// The host side of a stream copy.
package struct HostTransfer: Sendable {
    package var stream: Int
    package var direction: StreamDirection
    package var elementBytes: Int
    package var pieces = TileGrouped<HostPiece>()
}

/// One bulk-synchronous step: exchange in, compute, exchange out, or a host transfer.
package struct Superstep: Sendable {
    package var exchangeIn = TileGrouped<CopyOp>()
    package var compute = ComputePlan()
    package var exchangeOut = TileGrouped<CopyOp>()
    /// Whether a tile's exchange-in may run just before its compute, without waiting for every
    /// tile's exchange-in: no vertex of the step writes anything that the step's exchange-in copies
    /// read, vertices touch only their own tile and each tile's copies are done by the worker that
    /// runs the tile, so the values every copy and vertex sees are those of the bulk-synchronous order.
    package var tileOrdered = false
    package var host: HostTransfer?
    package var predicate: PredicateLocation?
    package var collective: CollectivePlan?
}

/// The kind of a cross-replica collective.
public enum CollectiveKind: String, Sendable, Codable {
    case allReduce, reduceScatter, allGather
}

/// Elements of one tensor in every replica, as runs in tile memory, in the tensor's element order.
package struct CollectiveOperand: Sendable {
    package var elementType: ElementType
    package var elementCount: Int
    /// `(tile, byte offset, byte stride, count)`, in element order.
    package var pieces: [(tile: Int, offset: Int, stride: Int, count: Int)]
    /// Element position where each piece starts.
    package var pieceStart: [Int]
}

/// A collective ready to run: its operands laid out in every replica the same way.
package struct CollectivePlan: Sendable {
    package var kind: CollectiveKind
    package var op: ReduceOperator
    package var groupSize: Int
    /// All-reduce: every tensor. Reduce-scatter and all-gather: `[from, to]`.
    package var operands: [CollectiveOperand]
}

/// Where an `if` predicate lives.
package struct PredicateLocation: Sendable {
    package var tile: Int
    package var offset: Int
    package var type: ElementType
}

/// The control program as the runtime walks it.
package indirect enum PlannedProgram: Sendable {
    case sequence([PlannedProgram])
    case step(Int)
    case loop(count: Int, body: PlannedProgram)
    /// Runs `then` if the predicate read by step `predicateStep` is non-zero, else `else`.
    case branch(predicateStep: Int, then: PlannedProgram, else: PlannedProgram)
    case nothing
}

/// Where one variable's elements are: its mapped intervals and each interval's byte offset in its
/// tile (none for data that is not always live, which shares its bytes and which the host cannot reach).
package struct DataPlacement: Sendable {
    package var name: String
    package var elementType: ElementType
    package var intervals: [TileInterval]
    /// Per interval, the byte offset in its tile (32 bits: a tile's memory is addressed in 32 bits).
    package var byteOffsets: [Int32]
    package var alwaysLive: Bool
    package var constantBytes: [UInt8]?
    package var isReplicaIndex: Bool
}

/// A compiled graph: every byte placed, every exchange planned, every step costed.
/// An ``Executable`` is immutable; engines load it to run it.
public final class Executable: Sendable {
    /// The chip it was compiled for.
    public let target: Target
    /// Where every byte of every tile went.
    public let memory: MemoryProfile
    /// Modelled cycles of every step, in step order.
    public let steps: [StepCycles]
    /// Replicas the program runs as, each a full copy of the target.
    public let replicas: Int
    /// Number of programs; run them by index.
    public var programCount: Int { programs.count }

    package let graphID: Int
    package let supersteps: [Superstep]
    package let programs: [PlannedProgram]
    package let data: [DataPlacement?]
    package let streams: [HostStream]
    /// Modelled compute cycles per tile of every step (`tileComputeCycles[step][tile]`).
    package let tileComputeCycles: [[Int]]
    /// How long the compiler's phases took and how large the program is.
    public let statistics: CompileStatistics

    package init(target: Target, replicas: Int, memory: MemoryProfile, steps: [StepCycles], graphID: Int,
                 supersteps: [Superstep], programs: [PlannedProgram], data: [DataPlacement?],
                 streams: [HostStream], tileComputeCycles: [[Int]], statistics: CompileStatistics) {
        self.target = target
        self.replicas = replicas
        self.memory = memory
        self.steps = steps
        self.graphID = graphID
        self.supersteps = supersteps
        self.programs = programs
        self.data = data
        self.streams = streams
        self.tileComputeCycles = tileComputeCycles
        self.statistics = statistics
    }
}
