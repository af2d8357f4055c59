import TesseraGraph

/// One block of tile memory the compiler places: a variable's elements on a tile, a field buffer,
/// or a fixed item (code, state, stack). Tile, positions and variable index are held in 32 bits,
/// as a large model has millions of blocks.
struct Allocation: Sendable {
    var bytes: Int
    private var storedTile: Int32
    /// `live`'s bounds; the lower one is -1 when `live` is nil.
    private var storedLiveStart: Int32, storedLiveEnd: Int32
    /// `data`, or -1.
    private var storedData: Int32
    var category: MemoryCategory
    /// True when the block is live for the whole program.
    var alwaysLive: Bool

    init(tile: Int, bytes: Int, category: MemoryCategory, live: ClosedRange<Int>?, alwaysLive: Bool, data: Int?) {
        self.bytes = bytes
        storedTile = Int32(tile)
        storedLiveStart = -1
        storedLiveEnd = -1
        storedData = Int32(data ?? -1)
        self.category = category
        self.alwaysLive = alwaysLive
        self.live = live
    }

    var tile: Int { Int(storedTile) }
    /// Program positions during which the block is live; nil while undecided or for always-live blocks.
    var live: ClosedRange<Int>? {
        get { storedLiveStart < 0 ? nil : Int(storedLiveStart)...Int(storedLiveEnd) }
        set {
            storedLiveStart = Int32(newValue?.lowerBound ?? -1)
            storedLiveEnd = Int32(newValue?.upperBound ?? -1)
        }
    }
    /// The variable or constant stored, if any.
    var data: Int? { storedData < 0 ? nil : Int(storedData) }
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
/// stored contiguously in element order. A class, so that looking up a field's pieces (millions
/// of times) retains one object rather than its three arrays.
final class DataLayout {
    let intervals: [TileInterval]
    /// Per interval, its allocation and the element offset of its first element there, in 32
    /// bits (millions of intervals in a large model).
    private let allocations: [Int32], blockOffsets: [Int32]

    init(intervals: [TileInterval], allocation: [Int], blockOffset: [Int]) {
        self.intervals = intervals
        allocations = allocation.map { Int32($0) }
        blockOffsets = blockOffset.map { Int32($0) }
    }

    /// The allocation holding interval `index`.
    func allocation(_ index: Int) -> Int { Int(allocations[index]) }
    /// The element offset of interval `index`'s first element in its allocation.
    func blockOffset(_ index: Int) -> Int { Int(blockOffsets[index]) }

    /// The one piece holding `run` when its elements are consecutive and all lie in one interval
    /// on `tile` (a field connected there directly), else nil; `hint` is the interval to try
    /// first, and is left at the interval holding the run's first element.
    func contiguousPiece(_ run: ElementRun, on tile: Int, hint: inout SearchHint) -> (allocation: Int, element: Int)? {
        guard run.stride == 1 || run.count == 1,
              let index = TileMappingIndex.index(containing: run.start, in: intervals, hint: &hint) else { return nil }
        let interval = intervals[index]
        guard interval.tile == tile, run.start + run.count <= interval.end else { return nil }
        return (allocation(index), blockOffset(index) + run.start - interval.begin)
    }

    /// The pieces of the run `start, start + stride, …` (`count` elements), in order; `hint` is
    /// the interval to try first, and is left at the last interval used.
    func pieces(start: Int, count: Int, stride: Int, into pieces: inout [Piece], hint: inout SearchHint) {
        var element = start
        var remaining = count
        while remaining > 0 {
            let low = TileMappingIndex.index(containing: element, in: intervals, hint: &hint)!
            let interval = intervals[low]
            let taken = progressionCount(from: element, stride: stride, limit: remaining, within: interval.begin..<interval.end)
            pieces.append(Piece(tile: interval.tile, allocation: allocation(low),
                                element: blockOffset(low) + element - interval.begin,
                                count: taken, stride: taken == 1 ? 1 : stride))
            element += taken * stride
            remaining -= taken
        }
    }
}

/// One end of a planned copy: an allocation of a tile, a byte offset in it and a byte stride.
/// The fields are held in 32 bits, as the compiler has millions of copies in flight: an
/// allocation (and so an offset or stride in it) never spans 2³¹ bytes.
struct Endpoint: Hashable {
    private var storedTile: Int32
    /// The allocation, offset and stride: the end of a copy this endpoint is.
    private(set) var place: PlannedCopy.End

    init(tile: Int, allocation: Int, offset: Int, stride: Int) {
        storedTile = Int32(tile)
        place = PlannedCopy.End(allocation: allocation, offset: offset, stride: stride)
    }

    var tile: Int { Int(storedTile) }
    var allocation: Int { place.allocation }
    var offset: Int { place.offset }
    var stride: Int { place.stride }
}

/// A copy planned before placement: addresses are allocation-relative. It moves `rows` rows of
/// `count` elements; row `r` starts `r · sourceRowStride` bytes after `source` and
/// `r · destinationRowStride` bytes after `destination`. Counts and strides are held in 32 bits
/// as the endpoints are.
struct PlannedCopy {
    /// One end of the copy: an ``Endpoint`` without its tile, which is its allocation's (a
    /// model's compile holds millions of copies, so the 8 bytes a copy saves matter).
    struct End: Hashable {
        private var storedAllocation: Int32
        private var storedOffset: Int32
        private var storedStride: Int32

        init(allocation: Int, offset: Int, stride: Int) {
            storedAllocation = Int32(allocation)
            storedOffset = Int32(offset)
            storedStride = Int32(stride)
        }

        var allocation: Int { Int(storedAllocation) }
        var offset: Int { Int(storedOffset) }
        var stride: Int { Int(storedStride) }
    }

    var source: End
    var destination: End
    private var storedCount: Int32
    private var storedElementBytes: Int32
    private var storedRows: Int32 = 1
    private var storedSourceRowStride: Int32 = 0
    private var storedDestinationRowStride: Int32 = 0

    init(source: Endpoint, destination: Endpoint, count: Int, elementBytes: Int) {
        self.source = source.place
        self.destination = destination.place
        storedCount = Int32(count)
        storedElementBytes = Int32(elementBytes)
    }

    var count: Int { Int(storedCount) }
    var elementBytes: Int { Int(storedElementBytes) }
    var rows: Int {
        get { Int(storedRows) }
        set { storedRows = Int32(newValue) }
    }
    var sourceRowStride: Int {
        get { Int(storedSourceRowStride) }
        set { storedSourceRowStride = Int32(newValue) }
    }
    var destinationRowStride: Int {
        get { Int(storedDestinationRowStride) }
        set { storedDestinationRowStride = Int32(newValue) }
    }

    /// Bytes moved by one row.
    var rowBytes: Int { count * elementBytes }
    /// Bytes moved.
    var bytes: Int { rows * rowBytes }

    /// What the source tile puts on the exchange. The exchange is a broadcast medium: a region
    /// sent once in a phase reaches every tile that listens for it, so identical sends count once.
    var send: Send { Send(source: source, count: count, rows: rows, rowStride: sourceRowStride) }

    struct Send: Equatable {
        var source: End
        var count: Int
        var rows: Int
        var rowStride: Int
    }

    /// Extends this copy by `next` as one more row when `next` is the same copy moved on by this
    /// copy's row strides (or, for a one-row copy, by any fixed distance): the compiler emits
    /// one copy per contiguous piece, and a channel-first window is many equal pieces at a fixed
    /// distance, so this keeps the plan (and the runtime's loop) proportional to the tiles talking
    /// rather than to the rows they exchange.
    mutating func absorb(_ next: PlannedCopy) -> Bool {
        guard next.rows == 1, next.count == count, next.elementBytes == elementBytes,
              next.source.allocation == source.allocation, next.source.stride == source.stride,
              next.destination.allocation == destination.allocation,
              next.destination.stride == destination.stride else { return false }
        let sourceStep = next.source.offset - source.offset - (rows - 1) * sourceRowStride
        let destinationStep = next.destination.offset - destination.offset - (rows - 1) * destinationRowStride
        if rows == 1 {
            sourceRowStride = sourceStep
            destinationRowStride = destinationStep
        } else if sourceStep != sourceRowStride || destinationStep != destinationRowStride {
            return false
        }
        rows += 1
        return true
    }
}
