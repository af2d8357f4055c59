import TesseraCompiler

/// Tiles counted by how full they are: `bucketCount` equal slices of the tile budget, then one
/// bucket for tiles over budget. Every tile is in exactly one bucket.
public struct MemoryHistogram: Sendable, Codable, Hashable {
    /// Tiles whose `totalBytes` lie in `lowerBytes...upperBytes`.
    public struct Bucket: Sendable, Codable, Hashable {
        /// Fewest bytes of a tile in the bucket.
        public var lowerBytes: Int
        /// Most bytes of a tile in the bucket; nil for the over-budget bucket, which has no upper end.
        public var upperBytes: Int?
        /// Tiles in the bucket.
        public var tiles: Int
    }

    /// Bytes each tile has: the scale of the buckets.
    public var bytesPerTile: Int
    /// The slices of the budget in increasing order, then the over-budget bucket (always last).
    public var buckets: [Bucket]

    /// Counts the tiles of `profile` into `bucketCount` slices of the budget and an over-budget bucket.
    ///
    /// Slice `i` holds the tiles with `totalBytes × bucketCount / bytesPerTile == i` (integer
    /// division); a tile using exactly the whole budget belongs to the last slice.
    public init(_ profile: MemoryProfile, bucketCount: Int = 10) {
        let budget = max(1, profile.target.bytesPerTile), slices = max(1, bucketCount)
        var counts = [Int](repeating: 0, count: slices + 1)
        for tile in profile.tiles {
            counts[tile.totalBytes > budget ? slices : min(slices - 1, tile.totalBytes * slices / budget)] += 1
        }
        let lower = (0...slices).map { ($0 * budget + slices - 1) / slices }
        bytesPerTile = budget
        buckets = (0..<slices).map { Bucket(lowerBytes: lower[$0], upperBytes: $0 == slices - 1 ? budget : lower[$0 + 1] - 1, tiles: counts[$0]) }
            + [Bucket(lowerBytes: budget + 1, upperBytes: nil, tiles: counts[slices])]
    }

    /// The over-budget bucket.
    public var overBudget: Bucket { buckets[buckets.count - 1] }
}
