/// Builds a list of copies, extending an earlier copy between the same two allocations by one
/// more row wherever the next copy continues its pattern (pieces of a window often alternate
/// between source tiles, so the copy to extend is not always the last one).
///
/// The latest copy of each pair of allocations is found in an ``IndexTable``: a merger serves
/// every buffered field of a compile (millions), so it is emptied rather than rebuilt.
struct CopyMerger {
    private var latest = IndexTable()

    /// Forgets every copy, keeping the capacity, to merge another list.
    mutating func removeAll() {
        latest.removeAll()
    }

    /// Appends `copy` to `copies`, or adds it as a row of the latest copy between the same allocations.
    mutating func append(_ copy: PlannedCopy, to copies: inout [PlannedCopy]) {
        let found = latest.find(hash: CopyMerger.hash(copy)) {
            copies[$0].source.allocation == copy.source.allocation && copies[$0].destination.allocation == copy.destination.allocation
        }
        if let index = found.index, copies[index].absorb(copy) { return }
        copies.append(copy)
        latest.store(copies.count - 1, at: found.slot) { CopyMerger.hash(copies[$0]) }
    }

    /// Hash of the pair of allocations `copy` connects.
    private static func hash(_ copy: PlannedCopy) -> Int {
        let key = UInt64(copy.source.allocation) << 32 | UInt64(copy.destination.allocation)
        return Int(truncatingIfNeeded: ((key &+ 1) &* 0x9E37_79B9_7F4A_7C15) >> 40)
    }
}
