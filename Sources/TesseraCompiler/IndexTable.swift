/// An open-addressing table of indices into an array its user keeps: the compiler's sets and maps
/// of copies and buffers, which hold millions of entries over a compile and where a `Set` or
/// `Dictionary` spent most of its time in seeded hashing. The user hashes and compares its own
/// entries; the table only finds, stores and forgets their indices (linear probing, at most half full).
struct IndexTable {
    /// Per slot, one plus the index it holds; 0 when empty.
    private var slots: [Int32]
    /// The slots in use, to empty them and to grow.
    private var used: [Int] = []

    /// An empty table for about `capacity` indices before it grows.
    init(capacity: Int = 8) {
        var size = 16
        while size < 2 * capacity { size *= 2 }
        slots = [Int32](repeating: 0, count: size)
    }

    /// The slot of the index among those stored under `hash` that `matches` accepts, and that
    /// index; or the empty slot where one goes, and nil.
    func find(hash: Int, _ matches: (Int) -> Bool) -> (slot: Int, index: Int?) {
        let mask = slots.count - 1
        var slot = hash & mask
        while slots[slot] != 0 {
            if matches(Int(slots[slot]) - 1) { return (slot, Int(slots[slot]) - 1) }
            slot = (slot + 1) & mask
        }
        return (slot, nil)
    }

    /// Stores `index` in `slot`: an empty slot ``find(hash:_:)`` returned (then `hash` gives the hash
    /// of any stored index, for growing), or a used one whose index it replaces.
    mutating func store(_ index: Int, at slot: Int, hash: (Int) -> Int) {
        if slots[slot] == 0 { used.append(slot) }
        slots[slot] = Int32(index + 1)
        if 2 * used.count > slots.count { grow(hash: hash) }
    }

    /// Forgets every index, keeping the capacity.
    mutating func removeAll() {
        for slot in used { slots[slot] = 0 }
        used.removeAll(keepingCapacity: true)
    }

    private mutating func grow(hash: (Int) -> Int) {
        let indices = used.map { Int(slots[$0]) - 1 }
        slots = [Int32](repeating: 0, count: 2 * slots.count)
        used.removeAll(keepingCapacity: true)
        let mask = slots.count - 1
        for index in indices {
            var slot = hash(index) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(index + 1)
            used.append(slot)
        }
    }
}
