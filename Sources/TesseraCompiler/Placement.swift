import TesseraGraph

/// Places every allocation at a byte offset in its tile.
///
/// Always-live blocks are packed from offset 0 in category order. Not-always-live blocks (variables
/// with a live range, field buffers) follow, largest first, each at the lowest offset that does not
/// overlap a block already placed whose live range overlaps its own — so blocks that are never live
/// together share memory.
struct Placement {
    /// Byte offset of every allocation in its tile.
    private(set) var offsets: [Int]
    /// The resulting memory of every tile.
    private(set) var tileMemory: [TileMemory]

    init(allocations: [Allocation], tiles: Int, alignment: Int) {
        offsets = Array(repeating: 0, count: allocations.count)
        tileMemory = (0..<tiles).map { TileMemory(tile: $0, alwaysLive: CategoryBytes(), notAlwaysLivePeak: CategoryBytes(), totalBytes: 0) }
        var byTile = [[Int]](repeating: [], count: tiles)
        for (index, allocation) in allocations.enumerated() where allocation.bytes > 0 { byTile[allocation.tile].append(index) }
        let order = Dictionary(uniqueKeysWithValues: MemoryCategory.allCases.enumerated().map { ($1, $0) })
        func align(_ value: Int) -> Int { (value + alignment - 1) / alignment * alignment }

        for tile in 0..<tiles {
            let indices = byTile[tile]
            var end = 0
            let fixed = indices.filter { allocations[$0].alwaysLive }
                .sorted { (order[allocations[$0].category]!, $0) < (order[allocations[$1].category]!, $1) }
            for index in fixed {
                offsets[index] = end
                end = align(end + allocations[index].bytes)
                tileMemory[tile].alwaysLive[allocations[index].category] += allocations[index].bytes
            }
            let base = end
            let transient = indices.filter { !allocations[$0].alwaysLive }
                .sorted { (allocations[$1].bytes, allocations[$0].live!.lowerBound, $0) < (allocations[$0].bytes, allocations[$1].live!.lowerBound, $1) }
            var placed: [(offset: Int, end: Int, live: ClosedRange<Int>)] = []
            for index in transient {
                let allocation = allocations[index]
                let live = allocation.live!
                let conflicts = placed.filter { $0.live.overlaps(live) }.sorted { $0.offset < $1.offset }
                var offset = base
                for block in conflicts {
                    if block.offset >= offset + allocation.bytes { break }
                    offset = max(offset, block.end)
                }
                offsets[index] = offset
                let blockEnd = align(offset + allocation.bytes)
                placed.append((offset, blockEnd, live))
                end = max(end, blockEnd)
            }
            tileMemory[tile].totalBytes = end
            (tileMemory[tile].notAlwaysLivePeak, tileMemory[tile].peakStep) = Placement.peak(transient.map { allocations[$0] })
        }
    }

    /// The not-always-live bytes by category at the step where their sum peaks.
    private static func peak(_ blocks: [Allocation]) -> (CategoryBytes, Int?) {
        guard !blocks.isEmpty else { return (CategoryBytes(), nil) }
        var events: [(position: Int, allocation: Allocation, sign: Int)] = []
        for block in blocks {
            events.append((block.live!.lowerBound, block, 1))
            events.append((block.live!.upperBound + 1, block, -1))
        }
        events.sort { ($0.position, $0.sign) < ($1.position, $1.sign) }
        var current = CategoryBytes(), best = CategoryBytes(), bestStep: Int?
        var index = 0
        while index < events.count {
            let position = events[index].position
            while index < events.count && events[index].position == position {
                current[events[index].allocation.category] += events[index].sign * events[index].allocation.bytes
                index += 1
            }
            if current.total > best.total || bestStep == nil {
                best = current
                bestStep = position
            }
        }
        return (best, bestStep)
    }
}
