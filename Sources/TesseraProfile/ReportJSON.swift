import Foundation
import TesseraCompiler

/// The JSON forms of the reports, as documented field by field in docs/report-schema.md.
///
/// Both documents are UTF-8, pretty-printed, with keys sorted, so two reports of the same run
/// are byte-identical and diff cleanly.
public enum ReportJSON {
    /// The schema identifier of `memory.json`, `tessera.memory/1`.
    public static let memorySchema = "tessera.memory/1"
    /// The schema identifier of `cycles.json`, `tessera.cycles/1`.
    public static let cyclesSchema = CycleReport.schemaID

    /// `memory.json`: the ``MemoryProfile`` with every field it encodes (so `JSONDecoder` reads it
    /// back into a `MemoryProfile`), plus three derived members: `replicas`, `totals` (the whole
    /// chip of one replica, and the bytes of all replicas) and `tileTotals` (one entry per tile, in
    /// tile order, with its always-live, not-always-live peak and gap bytes already summed over
    /// categories).
    ///
    /// `profile` is the memory of each of `replicas` replicas (at least 1): pass
    /// `Executable.replicas` for the profile of an executable.
    public static func memory(_ profile: MemoryProfile, replicas: Int = 1) throws(ProfileError) -> Data {
        guard replicas >= 1 else { throw .badReplicaCount(replicas) }
        return try encode(MemoryDocument(profile: profile, replicas: replicas), file: "memory.json")
    }

    /// `cycles.json`: the ``CycleReport`` (schema `tessera.cycles/1`).
    public static func cycles(_ report: CycleReport) throws(ProfileError) -> Data {
        try encode(report, file: "cycles.json")
    }

    private static func encode(_ value: some Encodable, file: String) throws(ProfileError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            return try encoder.encode(value) + Data("\n".utf8)
        } catch {
            throw .cannotEncode(file: file, reason: "\(error)")
        }
    }
}

/// The memory profile with its derived totals, encoded as one JSON object.
private struct MemoryDocument: Encodable {
    /// Chip-wide sums of one replica, and the bytes of all replicas.
    struct Totals: Encodable {
        var availableBytes: Int
        var totalBytes: Int
        var allReplicasAvailableBytes: Int
        var allReplicasTotalBytes: Int
        var alwaysLiveBytes: Int
        var notAlwaysLivePeakBytes: Int
        var gapBytes: Int
        var fullestTile: Int
        var fullestTileBytes: Int
        var tilesOverBudget: [Int]
    }

    /// One tile's sums over categories.
    struct TileTotals: Encodable {
        var tile: Int
        var totalBytes: Int
        var alwaysLiveBytes: Int
        var notAlwaysLivePeakBytes: Int
        var gapBytes: Int
        var fractionOfTile: Double
    }

    enum Key: String, CodingKey { case replicas, totals, tileTotals }

    var profile: MemoryProfile
    var replicas: Int

    func encode(to encoder: any Encoder) throws {
        // The profile's own keys first, then the derived ones in the same object.
        try profile.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(replicas, forKey: .replicas)
        let budget = profile.target.bytesPerTile
        let fullest = profile.tiles.isEmpty ? nil : profile.fullestTile
        try container.encode(Totals(availableBytes: profile.target.totalBytes, totalBytes: profile.totalBytes,
                                    allReplicasAvailableBytes: replicas * profile.target.totalBytes,
                                    allReplicasTotalBytes: replicas * profile.totalBytes,
                                    alwaysLiveBytes: profile.alwaysLiveBytes, notAlwaysLivePeakBytes: profile.notAlwaysLivePeakBytes,
                                    gapBytes: profile.totalBytes - profile.alwaysLiveBytes - profile.notAlwaysLivePeakBytes,
                                    fullestTile: fullest?.tile ?? 0, fullestTileBytes: fullest?.totalBytes ?? 0,
                                    tilesOverBudget: profile.tilesOverBudget),
                             forKey: .totals)
        try container.encode(profile.tiles.map {
            TileTotals(tile: $0.tile, totalBytes: $0.totalBytes, alwaysLiveBytes: $0.alwaysLiveBytes,
                       notAlwaysLivePeakBytes: $0.notAlwaysLivePeakBytes, gapBytes: $0.gapBytes,
                       fractionOfTile: budget == 0 ? 0 : Double($0.totalBytes) / Double(budget))
        }, forKey: .tileTotals)
    }
}
