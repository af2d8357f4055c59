import Dispatch
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
        var grouped = [[Int]](repeating: [], count: tiles)
        for (index, allocation) in allocations.enumerated() where allocation.bytes > 0 { grouped[allocation.tile].append(index) }
        let byTile = grouped
        var offsets = [Int](repeating: 0, count: allocations.count)
        var tileMemory = (0..<tiles).map { TileMemory(tile: $0, alwaysLive: CategoryBytes(), notAlwaysLivePeak: CategoryBytes(), totalBytes: 0) }
        // Tiles are independent: place them in parallel, each writing only its own allocations' offsets.
        offsets.withUnsafeMutableBufferPointer { offsets in
            tileMemory.withUnsafeMutableBufferPointer { tileMemory in
                let sharedOffsets = UnsafeSendable(offsets), sharedMemory = UnsafeSendable(tileMemory)
                DispatchQueue.concurrentPerform(iterations: tiles) { tile in
                    sharedMemory.value[tile] = Placement.place(byTile[tile], of: allocations, tile: tile, alignment: alignment,
                                                               offsets: sharedOffsets.value)
                }
            }
        }
        self.offsets = offsets
        self.tileMemory = tileMemory
    }

    /// Places one tile's allocations, writing their offsets, and returns the tile's memory.
    private static func place(_ indices: [Int], of allocations: [Allocation], tile: Int, alignment: Int,
                              offsets: UnsafeMutableBufferPointer<Int>) -> TileMemory {
        func align(_ value: Int) -> Int { (value + alignment - 1) / alignment * alignment }
        var memory = TileMemory(tile: tile, alwaysLive: CategoryBytes(), notAlwaysLivePeak: CategoryBytes(), totalBytes: 0)
        var end = 0
        let fixed = indices.filter { allocations[$0].alwaysLive }
            .sorted { (categoryOrder[allocations[$0].category]!, $0) < (categoryOrder[allocations[$1].category]!, $1) }
        for index in fixed {
            offsets[index] = end
            end = align(end + allocations[index].bytes)
            memory.alwaysLive[allocations[index].category] += allocations[index].bytes
        }
        let base = end
        let transient = indices.filter { !allocations[$0].alwaysLive }
            .sorted { (allocations[$1].bytes, allocations[$0].live!.lowerBound, $0) < (allocations[$0].bytes, allocations[$1].live!.lowerBound, $1) }
        // Blocks placed so far, kept sorted by offset so the first gap is found in one pass.
        var placed: [(offset: Int, end: Int, live: ClosedRange<Int>)] = []
        for index in transient {
            let bytes = allocations[index].bytes, live = allocations[index].live!
            var offset = base
            for block in placed where block.live.overlaps(live) {
                if block.offset >= offset + bytes { break }
                offset = max(offset, block.end)
            }
            offsets[index] = offset
            let blockEnd = align(offset + bytes)
            var low = 0, high = placed.count
            while low < high {
                let mid = (low + high) / 2
                if placed[mid].offset <= offset { low = mid + 1 } else { high = mid }
            }
            placed.insert((offset, blockEnd, live), at: low)
            end = max(end, blockEnd)
        }
        memory.totalBytes = end
        (memory.notAlwaysLivePeak, memory.peakStep) = peak(transient.map { allocations[$0] })
        return memory
    }

    private static let categoryOrder = Dictionary(uniqueKeysWithValues: MemoryCategory.allCases.enumerated().map { ($1, $0) })

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
