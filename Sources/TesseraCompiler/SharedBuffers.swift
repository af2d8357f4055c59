import TesseraGraph

/// The input buffers of the compute step being lowered, by tile and elements, so that vertices
/// of one step reading the same elements on one tile share one buffer (and one exchange).
///
/// An open-addressing table with a multiplicative hash of the tile and the ends of the run list
/// (equality compares every run): a step can buffer hundreds of thousands of fields, and a
/// `Dictionary` spent most of its time in seeded hashing. Every run list is a range of the
/// graph's ``Graph/connectionRuns``.
struct SharedBuffers {
    private struct Entry {
        var tile: Int
        var runs: Range<Int>
        var buffer: Int
        /// The slot pointing at the entry.
        var slot = 0
    }

    /// Per slot, one plus the index of its entry; 0 when empty.
    private var slots = [Int32](repeating: 0, count: 16)
    private var entries: [Entry] = []

    /// Forgets every buffer, keeping the capacity, for the next step.
    mutating func removeAll() {
        for entry in entries { slots[entry.slot] = 0 }
        entries.removeAll(keepingCapacity: true)
    }

    /// The buffer on `tile` holding the elements `runs` of `all`, if one was added.
    func buffer(tile: Int, runs: Range<Int>, of all: [ElementRun]) -> Int? {
        let mask = slots.count - 1
        var slot = SharedBuffers.hash(tile: tile, runs: runs, of: all) & mask
        while slots[slot] != 0 {
            let entry = entries[Int(slots[slot]) - 1]
            if entry.tile == tile, SharedBuffers.equal(entry.runs, runs, in: all) { return entry.buffer }
            slot = (slot + 1) & mask
        }
        return nil
    }

    /// Adds `buffer` as the one on `tile` holding the elements `runs` of `all` (not yet added).
    mutating func insert(_ buffer: Int, tile: Int, runs: Range<Int>, of all: [ElementRun]) {
        if 2 * (entries.count + 1) > slots.count {
            slots = [Int32](repeating: 0, count: 2 * slots.count)
            for index in entries.indices { place(index, of: all) }
        }
        entries.append(Entry(tile: tile, runs: runs, buffer: buffer))
        place(entries.count - 1, of: all)
    }

    private mutating func place(_ index: Int, of all: [ElementRun]) {
        let mask = slots.count - 1
        var slot = SharedBuffers.hash(tile: entries[index].tile, runs: entries[index].runs, of: all) & mask
        while slots[slot] != 0 { slot = (slot + 1) & mask }
        slots[slot] = Int32(index + 1)
        entries[index].slot = slot
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
