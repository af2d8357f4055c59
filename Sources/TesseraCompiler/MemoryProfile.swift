import TesseraGraph

/// What the bytes of a tile hold. Names follow Poplar's memory report.
public enum MemoryCategory: String, CaseIterable, Codable, Sendable {
    /// Variables (tensors the program reads and writes).
    case variables
    /// Constants, written at load.
    case constants
    /// Buffers that receive a vertex field's elements from other tiles, or gather them on the tile.
    case exchangeBuffers
    /// Vertex instances: field descriptors and codelet parameters.
    case vertexState
    /// Machine code of every codelet used on the tile, once per codelet.
    case vertexCode
    /// The control program every tile runs (syncs, branches, compute-set calls).
    case controlCode
    /// Send and receive instructions of the tile's exchanges.
    case exchangeCode
    /// Worker and supervisor stacks.
    case stack
}

/// Bytes per memory category (each field the bytes of the ``MemoryCategory`` case of its name).
public struct CategoryBytes: Sendable, Codable, Hashable {
    /// Bytes of ``MemoryCategory/variables``.
    public var variables = 0
    /// Bytes of ``MemoryCategory/constants``.
    public var constants = 0
    /// Bytes of ``MemoryCategory/exchangeBuffers``.
    public var exchangeBuffers = 0
    /// Bytes of ``MemoryCategory/vertexState``.
    public var vertexState = 0
    /// Bytes of ``MemoryCategory/vertexCode``.
    public var vertexCode = 0
    /// Bytes of ``MemoryCategory/controlCode``.
    public var controlCode = 0
    /// Bytes of ``MemoryCategory/exchangeCode``.
    public var exchangeCode = 0
    /// Bytes of ``MemoryCategory/stack``.
    public var stack = 0

    /// No bytes in any category.
    public init() {}

    /// Bytes of one category.
    public subscript(category: MemoryCategory) -> Int {
        get {
            switch category {
            case .variables: variables
            case .constants: constants
            case .exchangeBuffers: exchangeBuffers
            case .vertexState: vertexState
            case .vertexCode: vertexCode
            case .controlCode: controlCode
            case .exchangeCode: exchangeCode
            case .stack: stack
            }
        }
        set {
            switch category {
            case .variables: variables = newValue
            case .constants: constants = newValue
            case .exchangeBuffers: exchangeBuffers = newValue
            case .vertexState: vertexState = newValue
            case .vertexCode: vertexCode = newValue
            case .controlCode: controlCode = newValue
            case .exchangeCode: exchangeCode = newValue
            case .stack: stack = newValue
            }
        }
    }

    /// Sum over categories.
    public var total: Int { MemoryCategory.allCases.reduce(0) { $0 + self[$1] } }
}

/// The memory of one tile after placement.
public struct TileMemory: Sendable, Codable, Hashable {
    /// Tile index.
    public var tile: Int
    /// Bytes live during the whole program, by category.
    public var alwaysLive: CategoryBytes
    /// Bytes of not-always-live data at the tile's peak program step, by category.
    public var notAlwaysLivePeak: CategoryBytes
    /// Program step (in liveness order) at which the not-always-live bytes peak, if any are used.
    public var peakStep: Int?
    /// Highest byte in use, including alignment and fragmentation gaps: what must fit in the tile.
    public var totalBytes: Int

    /// Bytes of always-live data.
    public var alwaysLiveBytes: Int { alwaysLive.total }
    /// Bytes of not-always-live data at the peak.
    public var notAlwaysLivePeakBytes: Int { notAlwaysLivePeak.total }
    /// Bytes lost to alignment and fragmentation at the peak.
    public var gapBytes: Int { totalBytes - alwaysLiveBytes - notAlwaysLivePeakBytes }
    /// Bytes of a category at the peak (always-live plus not-always-live).
    public func bytes(_ category: MemoryCategory) -> Int { alwaysLive[category] + notAlwaysLivePeak[category] }
}

/// One variable or constant as placed: its size and liveness.
public struct VariableMemory: Sendable, Codable, Hashable {
    /// Debug name.
    public var name: String
    /// Element type.
    public var elementType: ElementType
    /// Bytes over all tiles (without alignment).
    public var bytes: Int
    /// Tiles holding some of its elements.
    public var tileCount: Int
    /// True when it is live for the whole program; false when its memory is shared over time.
    public var alwaysLive: Bool
    /// First and last program step (in liveness order) at which it is live, for not-always-live data.
    public var liveSteps: ClosedRange<Int>?
}

/// Where every byte of every tile went: the compiler's memory report, written even when the graph
/// does not fit.
public struct MemoryProfile: Sendable, Codable {
    /// Schema identifier of the JSON form (docs/report-schema.md).
    public var schema = "tessera.memory/1"
    /// The target compiled for.
    public var target: Target
    /// Every tile, in tile order.
    public var tiles: [TileMemory]
    /// Every variable and constant that occupies memory.
    public var variables: [VariableMemory]

    /// The tile with the highest `totalBytes` (the lowest index on ties).
    public var fullestTile: TileMemory {
        tiles.reduce(tiles[0]) { $1.totalBytes > $0.totalBytes ? $1 : $0 }
    }
    /// Sum of `totalBytes` over tiles.
    public var totalBytes: Int { tiles.reduce(0) { $0 + $1.totalBytes } }
    /// Sum of always-live bytes over tiles.
    public var alwaysLiveBytes: Int { tiles.reduce(0) { $0 + $1.alwaysLiveBytes } }
    /// Sum of peak not-always-live bytes over tiles.
    public var notAlwaysLivePeakBytes: Int { tiles.reduce(0) { $0 + $1.notAlwaysLivePeakBytes } }
    /// Tiles whose `totalBytes` exceed the target's memory.
    public var tilesOverBudget: [Int] { tiles.filter { $0.totalBytes > target.bytesPerTile }.map { $0.tile } }
}
