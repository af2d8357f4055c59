/// The simulated chip: tile count, per-tile memory and the parameters of the cycle model.
///
/// Every constant of the presets is cited in docs/cost-model.md. Tests and teaching material
/// build small targets of their own with ``Target/init(name:tiles:bytesPerTile:clockHz:)``.
public struct Target: Sendable, Codable, Hashable {
    /// Preset or user-chosen name, shown in reports.
    public var name: String
    /// Tiles per IPU.
    public var tiles: Int
    /// SRAM bytes per tile.
    public var bytesPerTile: Int
    /// Tile clock, in hertz.
    public var clockHz: Double
    /// Hardware worker contexts per tile; they share the tile's issue slots round-robin.
    public var workerContexts: Int
    /// Multiply-accumulates per cycle per tile of the AMP unit with float16 inputs.
    public var float16MACsPerCycle: Int
    /// Multiply-accumulates per cycle per tile of the AMP unit with float32 inputs.
    public var float32MACsPerCycle: Int
    /// Width of the vector unit, in bytes (64-bit: 2 float32 or 4 float16 lanes).
    public var vectorWidthBytes: Int
    /// Bytes a tile can send, and receive, per cycle over the on-chip exchange.
    public var exchangeBytesPerCycle: Int
    /// Tiles sharing an exchange bus (a "supertile").
    public var tilesPerSuperTile: Int
    /// Cycles of one on-chip synchronisation of all tiles.
    public var syncCycles: Int
    /// Fixed cycles of every exchange phase (setting up the exchange program).
    public var exchangeFixedCycles: Int
    /// Tile memory load latency, in cycles.
    public var memoryLatencyCycles: Int
    /// Bytes per cycle of an on-tile memory-to-memory copy.
    public var memcpyBytesPerCycle: Int
    /// Host link bandwidth per direction, in bytes per second.
    public var hostLinkBytesPerSecond: Double
    /// Raw bandwidth of one IPU-Link, in bits per second.
    public var ipuLinkBitsPerSecond: Double
    /// Fraction of the IPU-Link bandwidth that carries payload.
    public var ipuLinkEfficiency: Double
    /// Latency of one hop between neighbouring IPUs, one way, in seconds.
    public var ipuLinkHopSeconds: Double
    /// How the IPUs of a replicated program are joined.
    public var replicaTopology: ReplicaTopology

    /// A target with the Mk2 parameters except for its name, tile count, memory and clock.
    public init(name: String, tiles: Int, bytesPerTile: Int, clockHz: Double = 1.33e9) {
        self.name = name
        self.tiles = tiles
        self.bytesPerTile = bytesPerTile
        self.clockHz = clockHz
        workerContexts = 6
        float16MACsPerCycle = 64
        float32MACsPerCycle = 16
        vectorWidthBytes = 8
        exchangeBytesPerCycle = 4
        tilesPerSuperTile = 2
        syncCycles = 90
        exchangeFixedCycles = 100
        memoryLatencyCycles = 6
        memcpyBytesPerCycle = 8
        hostLinkBytesPerSecond = 32e9
        ipuLinkBitsPerSecond = 128 * 1_073_741_824
        ipuLinkEfficiency = 0.85
        ipuLinkHopSeconds = 15e-9
        replicaTopology = .ladder
    }

    /// Colossus Mk1 (GC2): 1,216 tiles of 256 KiB at 1.6 GHz, 32 fp16 / 8 fp32 MACs per cycle.
    public static var mk1: Target {
        var target = Target(name: "mk1", tiles: 1216, bytesPerTile: 256 * 1024, clockHz: 1.6e9)
        target.float16MACsPerCycle = 32
        target.float32MACsPerCycle = 8
        target.hostLinkBytesPerSecond = 16e9
        target.replicaTopology = .ring
        return target
    }

    /// Colossus Mk2 (GC200): 1,472 tiles of 638,976 bytes at about 1.33 GHz. The default.
    public static var mk2: Target { Target(name: "mk2", tiles: 1472, bytesPerTile: 638_976, clockHz: 1.33e9) }

    /// Bow IPU: the Mk2 tile array at 1.85 GHz.
    public static var bow: Target { Target(name: "bow", tiles: 1472, bytesPerTile: 638_976, clockHz: 1.85e9) }

    /// The presets by name: `mk1`, `mk2`, `bow`.
    public static func preset(named name: String) -> Target? {
        switch name.lowercased() {
        case "mk1": mk1
        case "mk2": mk2
        case "bow": bow
        default: nil
        }
    }

    /// Elements of `type` in one vector register.
    public func vectorWidth(_ type: ElementType) -> Int { max(1, vectorWidthBytes / type.byteSize) }

    /// AMP multiply-accumulates per cycle per tile for inputs of `type` (integers use the fp32 rate).
    public func macsPerCycle(_ type: ElementType) -> Int {
        type == .float16 ? float16MACsPerCycle : float32MACsPerCycle
    }

    /// Modelled seconds of `cycles` tile clock cycles.
    public func seconds(cycles: Int) -> Double { Double(cycles) / clockHz }

    /// Cycles of one synchronisation across `ipus` IPUs: a round trip over the hops between the
    /// farthest of them, `1 + (ipus / 2) / 2` on a ladder.
    public func globalSyncCycles(ipus: Int) -> Int {
        let hops = 1 + (ipus / 2) / 2
        return Int((ipuLinkHopSeconds * clockHz * Double(hops) * 2).rounded(.up))
    }

    /// Payload bytes per second of one IPU-Link.
    public var ipuLinkBytesPerSecond: Double { ipuLinkBitsPerSecond * ipuLinkEfficiency / 8 }

    /// Total SRAM of one IPU, in bytes.
    public var totalBytes: Int { tiles * bytesPerTile }
}

/// How the IPUs running replicas are joined by IPU-Links.
public enum ReplicaTopology: String, Sendable, Codable, Hashable {
    /// IPUs in one ring; a ring collective step uses one link each way.
    case ring
    /// IPU-M2000 / POD ladder: two rails of IPUs joined by rungs; a ring collective runs as a pair of
    /// rings, one per rail direction, so each step uses two links.
    case ladder

    /// IPU-Links one ring step's data is spread over.
    public var linksPerStep: Int { self == .ring ? 1 : 2 }
}
