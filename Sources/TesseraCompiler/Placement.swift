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

    init(allocations: ChunkedArray<Allocation>, tiles: Int, alignment: Int) {
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
    private static func place(_ indices: [Int], of allocations: ChunkedArray<Allocation>, tile: Int, alignment: Int,
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
        var occupied = OccupiedMemory(transient.map { allocations[$0].live! })
        for index in transient {
            let bytes = allocations[index].bytes, live = allocations[index].live!
            let offset = occupied.lowestFree(bytes: bytes, from: base, during: live)
            offsets[index] = offset
            let blockEnd = align(offset + bytes)
            occupied.insert(offset..<blockEnd, during: live)
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

/// The memory of one tile taken by the blocks placed so far, position by position: for every
/// program position, the byte ranges of the blocks live there, sorted and disjoint (blocks live
/// at one position never overlap), so a block's first fit is found by binary search in the
/// lists of its own positions rather than by scanning every block placed.
private struct OccupiedMemory {
    private let firstPosition: Int
    private var taken: [[Range<Int>]]

    /// Room for blocks live during `ranges`.
    init(_ ranges: [ClosedRange<Int>]) {
        firstPosition = ranges.lazy.map { $0.lowerBound }.min() ?? 0
        let last = ranges.lazy.map { $0.upperBound }.max() ?? -1
        taken = [[Range<Int>]](repeating: [], count: max(0, last - firstPosition + 1))
    }

    /// The lowest offset at or above `base` where `bytes` bytes are free at every position of
    /// `live` — the offset a first-fit scan of the blocks overlapping `live` in offset order gives.
    func lowestFree(bytes: Int, from base: Int, during live: ClosedRange<Int>) -> Int {
        var offset = base, moved = true
        while moved {
            moved = false
            for position in live {
                let list = taken[position - firstPosition]
                var k = OccupiedMemory.firstEnding(after: offset, in: list)
                while k < list.count && list[k].lowerBound < offset + bytes {
                    offset = list[k].upperBound
                    moved = true
                    k += 1
                }
            }
            if live.count == 1 { break }
        }
        return offset
    }

    /// Marks `range` taken at every position of `live`.
    mutating func insert(_ range: Range<Int>, during live: ClosedRange<Int>) {
        for position in live {
            let slot = position - firstPosition
            taken[slot].insert(range, at: OccupiedMemory.firstEnding(after: range.lowerBound, in: taken[slot]))
        }
    }

    /// Index of the first range of the sorted disjoint `list` ending after `offset`.
    private static func firstEnding(after offset: Int, in list: [Range<Int>]) -> Int {
        var low = 0, high = list.count
        while low < high {
            let mid = (low + high) / 2
            if list[mid].upperBound <= offset { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
