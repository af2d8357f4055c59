import TesseraGraph

/// One block of tile memory the compiler places: a variable's elements on a tile, a field buffer,
/// or a fixed item (code, state, stack).
struct Allocation {
    var tile: Int
    var bytes: Int
    var category: MemoryCategory
    /// Program positions during which the block is live; nil while undecided or for always-live blocks.
    var live: ClosedRange<Int>?
    /// True when the block is live for the whole program.
    var alwaysLive: Bool
    /// The variable or constant stored, if any.
    var data: Int?
}

/// A strided run of elements inside one allocation of one tile.
struct Piece {
    var tile: Int
    var allocation: Int
    /// Element offset inside the allocation.
    var element: Int
    var count: Int
    /// Distance between consecutive elements, in elements.
    var stride: Int
}

/// Where a variable's elements sit: for each mapped interval, its allocation and the element
/// offset of the interval's first element inside it. Elements of one variable on one tile are
/// stored contiguously in element order.
struct DataLayout {
    var intervals: [TileInterval]
    var allocation: [Int]
    var blockOffset: [Int]

    /// The pieces of the run `start, start + stride, …` (`count` elements), in order.
    func pieces(start: Int, count: Int, stride: Int, into pieces: inout [Piece]) {
        var element = start
        var remaining = count
        while remaining > 0 {
            let low = TileMappingIndex.index(containing: element, in: intervals)!
            let interval = intervals[low]
            let taken = progressionCount(from: element, stride: stride, limit: remaining, within: interval.begin..<interval.end)
            pieces.append(Piece(tile: interval.tile, allocation: allocation[low],
                                element: blockOffset[low] + element - interval.begin,
                                count: taken, stride: taken == 1 ? 1 : stride))
            element += taken * stride
            remaining -= taken
        }
    }
}

/// One end of a planned copy: an allocation of a tile, a byte offset in it and a byte stride.
struct Endpoint: Hashable {
    var tile: Int
    var allocation: Int
    var offset: Int
    var stride: Int
}

/// A copy planned before placement: addresses are allocation-relative.
struct PlannedCopy {
    var source: Endpoint
    var destination: Endpoint
    var count: Int
    var elementBytes: Int

    /// What the source tile puts on the exchange. The exchange is a broadcast medium: a region
    /// sent once in a phase reaches every tile that listens for it, so identical sends count once.
    var send: Send { Send(source: source, count: count) }

    struct Send: Hashable {
        var source: Endpoint
        var count: Int
    }
}
