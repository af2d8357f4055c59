import TesseraGraph

/// The input buffers of the compute step being lowered, by tile and elements, so that vertices
/// of one step reading the same elements on one tile share one buffer (and one exchange).
///
/// An ``IndexTable`` of its entries, hashing the tile and the ends of the run list (equality
/// compares every run): a step can buffer hundreds of thousands of fields. Every run list is a
/// range of the graph's ``Graph/connectionRuns``.
struct SharedBuffers {
    private struct Entry {
        var tile: Int
        var runs: Range<Int>
        var buffer: Int
    }

    private var table = IndexTable()
    private var entries: [Entry] = []

    /// Forgets every buffer, keeping the capacity, for the next step.
    mutating func removeAll() {
        table.removeAll()
        entries.removeAll(keepingCapacity: true)
    }

    /// The buffer on `tile` holding the elements `runs` of `all`, if one was added.
    func buffer(tile: Int, runs: Range<Int>, of all: [ElementRun]) -> Int? {
        find(tile: tile, runs: runs, of: all).index.map { entries[$0].buffer }
    }

    /// Adds `buffer` as the one on `tile` holding the elements `runs` of `all` (not yet added).
    mutating func insert(_ buffer: Int, tile: Int, runs: Range<Int>, of all: [ElementRun]) {
        let slot = find(tile: tile, runs: runs, of: all).slot
        entries.append(Entry(tile: tile, runs: runs, buffer: buffer))
        table.store(entries.count - 1, at: slot) { [entries] in SharedBuffers.hash(tile: entries[$0].tile, runs: entries[$0].runs, of: all) }
    }

    private func find(tile: Int, runs: Range<Int>, of all: [ElementRun]) -> (slot: Int, index: Int?) {
        table.find(hash: SharedBuffers.hash(tile: tile, runs: runs, of: all)) {
            entries[$0].tile == tile && SharedBuffers.equal(entries[$0].runs, runs, in: all)
        }
    }

    /// True when the runs `a` and `b` of `all` are the same runs.
    private static func equal(_ a: Range<Int>, _ b: Range<Int>, in all: [ElementRun]) -> Bool {
        guard a.count == b.count else { return false }
        return all.withUnsafeBufferPointer { runs in
            for k in 0..<a.count where runs[a.lowerBound + k] != runs[b.lowerBound + k] { return false }
            return true
        }
    }

    private static func hash(tile: Int, runs: Range<Int>, of all: [ElementRun]) -> Int {
        var h = UInt64(truncatingIfNeeded: tile &* 31 &+ runs.count) &* 0x9E37_79B9_7F4A_7C15
        mix(all[runs.lowerBound], into: &h)
        mix(all[runs.upperBound - 1], into: &h)
        return Int(truncatingIfNeeded: h >> 16)
    }

    private static func mix(_ run: ElementRun, into h: inout UInt64) {
        h ^= UInt64(truncatingIfNeeded: run.data &* 1_000_003 &+ run.start) &* 0xC2B2_AE3D_27D4_EB4F
        h ^= UInt64(truncatingIfNeeded: run.count &* 65_537 &+ run.stride) &* 0x1656_67B1_9E37_79F9
        h ^= h >> 29
    }
}
