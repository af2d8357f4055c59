/// The distinct sends of one exchange phase, for counting each region put on the exchange once:
/// an ``IndexTable`` of copy indices, equal sends told apart by comparing every field.
struct SendSet {
    private let copies: [PlannedCopy]
    private var table: IndexTable

    /// An empty set for the sends of `copies`.
    init(_ copies: [PlannedCopy]) {
        self.copies = copies
        table = IndexTable(capacity: copies.count)
    }

    /// Adds the send of copy `index`; true when no earlier copy added made the same send.
    mutating func insert(copyAt index: Int) -> Bool {
        let send = copies[index].send
        let found = table.find(hash: SendSet.hash(send)) { copies[$0].send == send }
        guard found.index == nil else { return false }
        table.store(index, at: found.slot) { [copies] in SendSet.hash(copies[$0].send) }
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

/// A flag per copy of an exchange phase: whether it is the first of the phase to make its send.
struct FirstSends {
    private var words: [UInt64] = []

    /// No copy flagged.
    init() {}

    /// The copies of `copies` whose send no earlier copy of them made, among those `exchanged` accepts.
    init(_ copies: [PlannedCopy], exchanged: (PlannedCopy) -> Bool) {
        words = [UInt64](repeating: 0, count: (copies.count + 63) / 64)
        var sends = SendSet(copies)
        for (index, copy) in copies.enumerated() where exchanged(copy) && sends.insert(copyAt: index) {
            words[index >> 6] |= 1 << UInt64(index & 63)
        }
    }

    /// Whether copy `index` makes the first of its send.
    subscript(index: Int) -> Bool { words[index >> 6] & (1 << UInt64(index & 63)) != 0 }
}
