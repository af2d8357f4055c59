/// The distinct sends of one exchange phase, for counting each region put on the exchange once.
///
/// A phase can hold hundreds of thousands of copies, so this is an open-addressing table of copy
/// indices with a cheap multiplicative hash rather than a `Set` of sends (whose seeded hashing
/// dominated the phases that count sends). Equal sends are told apart by comparing every field.
struct SendSet {
    private let copies: [PlannedCopy]
    /// Per slot, one plus the index of the copy whose send it holds; 0 when empty.
    private var slots: [Int32]
    private let mask: Int

    /// An empty set for the sends of `copies`.
    init(_ copies: [PlannedCopy]) {
        self.copies = copies
        var size = 16
        while size < 2 * copies.count { size *= 2 }
        slots = [Int32](repeating: 0, count: size)
        mask = size - 1
    }

    /// Adds the send of copy `index`; true when no earlier copy added made the same send.
    mutating func insert(copyAt index: Int) -> Bool {
        let send = copies[index].send
        var slot = SendSet.hash(send) & mask
        while slots[slot] != 0 {
            if copies[Int(slots[slot]) - 1].send == send { return false }
            slot = (slot + 1) & mask
        }
        slots[slot] = Int32(index + 1)
        return true
    }

    private static func hash(_ send: PlannedCopy.Send) -> Int {
        var h = UInt64(truncatingIfNeeded: send.source.allocation) &* 0x9E37_79B9_7F4A_7C15
        h ^= UInt64(truncatingIfNeeded: send.source.offset) &* 0xC2B2_AE3D_27D4_EB4F
        h ^= UInt64(truncatingIfNeeded: send.count &+ send.rows &* 65_537 &+ send.rowStride &* 257) &* 0x1656_67B1_9E37_79F9
        h ^= h >> 29
        return Int(truncatingIfNeeded: h)
    }
}
