/// Builds a list of copies, extending an earlier copy between the same two allocations by one
/// more row wherever the next copy continues its pattern (pieces of a window often alternate
/// between source tiles, so the copy to extend is not always the last one).
///
/// The latest copy of each pair of allocations is found in an open-addressing table with a
/// multiplicative hash: a merger serves every buffered field of a compile (millions), so it is
/// emptied rather than rebuilt, in time proportional to the pairs it held.
struct CopyMerger {
    /// Per slot, the pair `source << 32 | destination` plus one; 0 when empty.
    private var keys = [UInt64](repeating: 0, count: 16)
    /// Per slot, the index in the list of the latest copy of the slot's pair.
    private var latest = [Int](repeating: 0, count: 16)
    /// The slots in use, to empty them.
    private var used: [Int] = []

    /// Forgets every copy, keeping the capacity, to merge another list.
    mutating func removeAll() {
        for slot in used { keys[slot] = 0 }
        used.removeAll(keepingCapacity: true)
    }

    /// Appends `copy` to `copies`, or adds it as a row of the latest copy between the same allocations.
    mutating func append(_ copy: PlannedCopy, to copies: inout [PlannedCopy]) {
        let key = (UInt64(copy.source.allocation) << 32 | UInt64(copy.destination.allocation)) + 1
        let slot = self.slot(of: key)
        if keys[slot] == key {
            if copies[latest[slot]].absorb(copy) { return }
        } else {
            keys[slot] = key
            used.append(slot)
        }
        latest[slot] = copies.count
        copies.append(copy)
        if 2 * used.count > keys.count { grow() }
    }

    /// The slot holding `key`, or the empty slot where it goes.
    private func slot(of key: UInt64) -> Int {
        let mask = keys.count - 1
        var slot = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 40) & mask
        while keys[slot] != 0 && keys[slot] != key { slot = (slot + 1) & mask }
        return slot
    }

    private mutating func grow() {
        let entries = used.map { (keys[$0], latest[$0]) }
        keys = [UInt64](repeating: 0, count: 2 * keys.count)
        latest = [Int](repeating: 0, count: keys.count)
        used.removeAll(keepingCapacity: true)
        for (key, index) in entries {
            let slot = self.slot(of: key)
            keys[slot] = key
            latest[slot] = index
            used.append(slot)
        }
    }
}
