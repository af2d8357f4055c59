import TesseraCompiler

/// A terminal rendering of a ``MemoryProfile``, in the spirit of Poplar's memory report: the
/// totals, the fullest tile's breakdown by category, the fullest tiles, the largest variables, a
/// histogram of how full the tiles are, and the tiles over budget.
///
/// All sizes are bytes with thousands separators. "Used" is the sum over tiles of each tile's
/// highest byte in use (`TileMemory.totalBytes`), so it includes alignment and fragmentation
/// gaps; the not-always-live figure sums each tile's own peak, which tiles reach at different steps.
///
/// A replicated graph has the same layout in every replica, so the profile is that of one replica
/// (one IPU); with more than one replica the report also states their count and the bytes used
/// by all of them, `replicas × used`.
public struct MemoryReport: Sendable {
    /// The profile rendered: the memory of one replica.
    public let profile: MemoryProfile
    /// Replicas the graph runs as, each with this layout; at least 1.
    public let replicas: Int
    /// Rows of the fullest-tiles table.
    public var topTiles: Int
    /// Rows of the largest-variables table.
    public var topVariables: Int
    /// How full the tiles are, as shown in the report.
    public let histogram: MemoryHistogram

    /// A report of `profile`, the memory of each of `replicas` replicas (at least 1), listing
    /// `topTiles` tiles and `topVariables` variables, with a histogram of `histogramBuckets` slices
    /// of the tile budget. Pass `Executable.replicas` for the profile of an executable.
    public init(_ profile: MemoryProfile, replicas: Int = 1, topTiles: Int = 5, topVariables: Int = 5,
                histogramBuckets: Int = 10) throws(ProfileError) {
        guard replicas >= 1 else { throw .badReplicaCount(replicas) }
        self.profile = profile
        self.replicas = replicas
        self.topTiles = topTiles
        self.topVariables = topVariables
        histogram = MemoryHistogram(profile, bucketCount: histogramBuckets)
    }

    /// The tiles from fullest to emptiest (lowest index first on ties).
    public var tilesByUse: [TileMemory] {
        profile.tiles.sorted { ($0.totalBytes, -$0.tile) > ($1.totalBytes, -$1.tile) }
    }

    /// The report as lines of text, ending with a newline.
    public var text: String {
        let target = profile.target
        guard !profile.tiles.isEmpty else { return "Memory of target \(target.name): no tiles\n" }
        let used = profile.totalBytes, available = target.totalBytes
        let gaps = used - profile.alwaysLiveBytes - profile.notAlwaysLivePeakBytes
        let over = profile.tilesOverBudget
        var out = ""
        if !over.isEmpty {
            out += "OUT OF MEMORY: \(over.count.grouped) of \(profile.tiles.count.grouped) tiles need more than \(target.bytesPerTile.grouped) bytes\n\n"
        }
        let perReplica = replicas == 1 ? "" : ", per replica of \(replicas.grouped)"
        out += "Memory of target \(target.name)\(perReplica): \(profile.tiles.count.grouped) tiles × \(target.bytesPerTile.grouped) bytes"
            + " = \(available.grouped) bytes\n"
        var totals = TextTable([("", .left), ("", .right), ("", .left)])
        totals.append(["used", used.grouped, "bytes, \(percent(used, of: available)) of \(available.grouped) available"])
        totals.append(["always-live", profile.alwaysLiveBytes.grouped, "\(percent(profile.alwaysLiveBytes, of: used)) of used"])
        totals.append(["not-always-live peak", profile.notAlwaysLivePeakBytes.grouped,
                       "\(percent(profile.notAlwaysLivePeakBytes, of: used)) of used (each tile's peak, summed)"])
        totals.append(["gaps", gaps.grouped, "\(percent(gaps, of: used)) of used (alignment, fragmentation)"])
        if replicas > 1 {
            totals.append(["used by all \(replicas.grouped) replicas", (replicas * used).grouped,
                           "bytes, \(replicas.grouped) × \(used.grouped) (every replica has this layout) "
                               + "of \((replicas * available).grouped) available"])
        }
        out += totals.render(header: false)
        out += "\n" + fullestTileSection + "\n" + topTilesSection
        if topVariables > 0 && !profile.variables.isEmpty { out += "\n" + variablesSection }
        out += "\n" + histogramSection
        out += "\n" + overBudgetSection
        return out
    }

    private var fullestTileSection: String {
        let tile = profile.fullestTile
        var out = "Fullest tile \(tile.tile): \(tile.totalBytes.grouped) of \(profile.target.bytesPerTile.grouped) bytes"
            + " (\(percent(tile.totalBytes, of: profile.target.bytesPerTile)))"
        if let step = tile.peakStep { out += ", not-always-live peak at step \(step) (liveness order)" }
        out += "\n"
        var table = TextTable([("category", .left), ("always-live", .right), ("not-always-live peak", .right), ("total", .right)])
        for category in MemoryCategory.allCases {
            table.append([category.rawValue, tile.alwaysLive[category].grouped, tile.notAlwaysLivePeak[category].grouped,
                          tile.bytes(category).grouped])
        }
        table.append(["gaps", "", "", tile.gapBytes.grouped])
        table.append(["total", tile.alwaysLiveBytes.grouped, tile.notAlwaysLivePeakBytes.grouped, tile.totalBytes.grouped])
        return out + table.render()
    }

    private var topTilesSection: String {
        let budget = profile.target.bytesPerTile
        var table = TextTable([("tile", .right), ("bytes", .right), ("of tile", .right), ("always-live", .right),
                               ("not-always-live peak", .right), ("gaps", .right), ("peak step", .right)])
        for tile in tilesByUse.prefix(topTiles) {
            table.append([String(tile.tile), tile.totalBytes.grouped, percent(tile.totalBytes, of: budget),
                          tile.alwaysLiveBytes.grouped, tile.notAlwaysLivePeakBytes.grouped, tile.gapBytes.grouped,
                          tile.peakStep.map(String.init) ?? "-"])
        }
        return "Fullest tiles\n" + table.render()
    }

    private var variablesSection: String {
        let largest = profile.variables.enumerated().sorted { ($0.element.bytes, -$0.offset) > ($1.element.bytes, -$1.offset) }
        var table = TextTable([("variable", .left), ("type", .left), ("bytes", .right), ("tiles", .right), ("liveness", .left)])
        for (_, variable) in largest.prefix(topVariables) {
            let liveness = variable.alwaysLive ? "always live"
                : variable.liveSteps.map { $0.count == 1 ? "step \($0.lowerBound)" : "steps \($0.lowerBound)–\($0.upperBound)" } ?? "never live"
            table.append([clipped(variable.name, 40), variable.elementType.rawValue, variable.bytes.grouped,
                          variable.tileCount.grouped, liveness])
        }
        return "Largest variables (of \(profile.variables.count.grouped))\n" + table.render()
    }

    private var histogramSection: String {
        let budget = histogram.bytesPerTile
        let slices = histogram.buckets.count - 1
        let widest = histogram.buckets.map { $0.tiles }.max() ?? 0
        let tilesPerMark = max(1, (widest + 39) / 40)  // bars at most 40 marks wide
        var table = TextTable([("of budget", .right), ("bytes", .right), ("tiles", .right), ("", .left)])
        for (index, bucket) in histogram.buckets.enumerated() {
            let label = index == slices ? "over 100%" : "\(index * 100 / slices)–\((index + 1) * 100 / slices)%"
            let range = bucket.upperBytes.map { "\(bucket.lowerBytes.grouped)–\($0.grouped)" } ?? "> \(budget.grouped)"
            let bar = String(repeating: "#", count: (bucket.tiles + tilesPerMark - 1) / tilesPerMark)
            table.append([label, range, bucket.tiles.grouped, bar])
        }
        let scale = tilesPerMark == 1 ? "each # is a tile" : "each # is up to \(tilesPerMark.grouped) tiles"
        return "Tiles by bytes used (\(scale))\n" + table.render()
    }

    private var overBudgetSection: String {
        let budget = profile.target.bytesPerTile
        let over = profile.tiles.filter { $0.totalBytes > budget }
        guard !over.isEmpty else { return "Tiles over budget: none\n" }
        let shown = over.prefix(10).map { "\($0.tile) (\($0.totalBytes.grouped), +\(($0.totalBytes - budget).grouped))" }
        let rest = over.count > shown.count ? ", and \((over.count - shown.count).grouped) more" : ""
        return "Tiles over budget (\(over.count.grouped), tile (bytes, excess)): \(shown.joined(separator: ", "))\(rest)\n"
    }
}
