import TesseraGraph

/// Cycle-model constants of the normalisation and pooling codelets, in worker-context cycles
/// (docs/ops-cost.md, "Normalisation and pooling").
enum NormCost {
    /// A vertex's fixed set-up: loading field pointers and state, entering the outer loop.
    static let setUpCycles = 12
    /// Starting one row (a channel's or group's run of a piece, one output row of a pooling window).
    static let rowCycles = 4
    /// Worker instructions per 64-bit vector when summing Σx and Σx² (two multiply-adds).
    static let sumInstructionsPerVector = 2
    /// Worker instructions per 64-bit vector of `a·x + b` (one multiply-add, one load/store pair).
    static let affineInstructionsPerVector = 2
    /// Scalar worker instructions per channel of the coefficient step (divide, reciprocal square
    /// root, two multiplies, a subtract, loads and stores).
    static let coefficientCyclesPerChannel = 10
    /// Worker instructions per partial entry (one fp32 pair) of the cross-tile reduction.
    static let reduceCyclesPerEntry = 1
    /// Worker instructions per 64-bit vector of pooling outputs beyond one per window element
    /// (the average's scale, the store).
    static let poolFinishInstructionsPerVector = 1

    /// `setUp + rows·rowCycles + ⌈elements / lanes⌉·instructions`, lanes = 64-bit vector of `type`.
    static func vector(elements: Int, rows: Int, type: ElementType, instructions: Int, target: Target) -> Int {
        let lanes = target.vectorWidth(type)
        return setUpCycles + rows * rowCycles + (elements + lanes - 1) / lanes * instructions
    }

    /// A tile's `count` consecutive elements cut into at most `workers` worker-context shares of
    /// similar size, each at least `minimum` elements (one share when `count` is small).
    static func workerShares(_ count: Int, minimum: Int, workers: Int) -> [Range<Int>] {
        let share = max(minimum, (count + workers - 1) / max(1, workers))
        let parts = max(1, min(workers, (count + share / 2) / share))
        return (0..<parts).map { count * $0 / parts..<count * ($0 + 1) / parts }
    }

    /// The slowest worker share's cost of a vertex over `segments` (their elements one after
    /// another in its fields): the elements cut into ``workerShares(_:minimum:workers:)`` of at least
    /// ``minimumShare``, each charged ``vector(elements:rows:type:instructions:target:)`` for the
    /// rows it touches, a segment's rows apart from the next segment's.
    static func segmentShareCycles(_ segments: [NormSegment], rowLength: Int, type: ElementType, instructions: Int, target: Target) -> Int {
        let total = segments.reduce(0) { $0 + $1.count }
        var slowest = 0, segment = 0, segmentStart = 0
        for share in workerShares(total, minimum: minimumShare, workers: target.workerContexts) {
            var rows = 0, k = segment, start = segmentStart
            while k < segments.count && start < share.upperBound {
                let end = start + segments[k].count
                let overlap = max(start, share.lowerBound)..<min(end, share.upperBound)
                if !overlap.isEmpty { rows += segments[k].rows(overlap.lowerBound - start..<overlap.upperBound - start, rowLength: rowLength) }
                guard end <= share.upperBound else { break }
                k += 1
                start = end
                (segment, segmentStart) = (k, start)
            }
            slowest = max(slowest, vector(elements: share.count, rows: rows, type: type, instructions: instructions, target: target))
        }
        return slowest
    }

    /// A tile's `count` items (channels, statistics) cut into at most `workers` equal shares.
    static func itemShares(_ count: Int, workers: Int) -> [Range<Int>] {
        let parts = max(1, min(workers, count))
        return (0..<parts).map { count * $0 / parts..<count * ($0 + 1) / parts }
    }

    /// Rows of `rowLength` touched by elements `range` of a piece starting `offset` into its first row.
    static func rows(_ range: Range<Int>, offset: Int, rowLength: Int) -> Int {
        range.isEmpty ? 0 : (offset + range.upperBound - 1) / rowLength - (offset + range.lowerBound) / rowLength + 1
    }

    /// Fewest items (channels, statistics) of a coefficient or reduction block on one tile: 128
    /// bytes of float32, the least Poplar's linear mapping puts on a tile.
    static let minimumBlockItems = 32
    /// Minimum elements of a worker's share of a normalisation step.
    static let minimumShare = 16
    /// Minimum outputs of a worker's share of a pooling step.
    static let minimumPoolShare = 4
}

/// Which tile holds each flattened position of one tensor, looked up by binary search: built
/// once per operand so that planning a step does not resolve tile mappings per vertex.
struct NormOwners {
    /// Distinguishes operands in a step's receive accounting.
    let id: Int
    /// Bytes per element of the operand.
    let elementBytes: Int
    private var starts: [Int] = [], ends: [Int] = [], tiles: [Int] = []

    /// The index of `tensor`, identified by `id`, from its tile regions.
    init(id: Int, _ tensor: Tensor, regions: [(tile: Int, ranges: [Range<Int>])]) {
        self.id = id
        elementBytes = tensor.elementType.byteSize
        let intervals = regions.flatMap { region in region.ranges.map { ($0, region.tile) } }.sorted { $0.0.lowerBound < $1.0.lowerBound }
        starts = intervals.map { $0.0.lowerBound }
        ends = intervals.map { $0.0.upperBound }
        tiles = intervals.map { $0.1 }
    }

    /// Positions held by some tile.
    var mappedCount: Int { zip(starts, ends).reduce(0) { $0 + $1.1 - $1.0 } }

    /// Index of the last interval starting at or before `position`, or nil.
    private func interval(containing position: Int) -> Int? {
        var low = 0, high = starts.count
        while low < high {
            let mid = (low + high) / 2
            if starts[mid] <= position { low = mid + 1 } else { high = mid }
        }
        return low == 0 ? nil : low - 1
    }

    /// The tile holding `position` (-1 when unmapped).
    func tile(of position: Int) -> Int {
        guard let k = interval(containing: position), position < ends[k] else { return -1 }
        return tiles[k]
    }

    /// True when one interval held by `tile` covers all of `range` (false may still mean `tile` holds it).
    func holds(_ range: Range<Int>, on tile: Int) -> Bool {
        guard let k = interval(containing: range.lowerBound) else { return false }
        return tiles[k] == tile && ends[k] >= range.upperBound
    }

    /// Appends the parts of `range` that `tile` does not hold to `result`; returns how many positions they cover.
    func appendRemote(_ range: Range<Int>, from tile: Int, to result: inout [Range<Int>]) -> Int {
        var covered = 0
        func add(_ part: Range<Int>) {
            result.append(part)
            covered += part.count
        }
        var cursor = range.lowerBound
        var k = interval(containing: cursor) ?? 0
        while cursor < range.upperBound {
            if k >= starts.count || starts[k] >= range.upperBound {
                add(cursor..<range.upperBound)
                break
            }
            if starts[k] > cursor {
                add(cursor..<starts[k])
                cursor = starts[k]
            }
            let end = min(ends[k], range.upperBound)
            if end > cursor && tiles[k] != tile { add(cursor..<end) }
            cursor = max(cursor, end)
            k += 1
        }
        return covered
    }
}

/// The planner's model of one compute step as docs/cost-model.md charges it: vertex estimates
/// scheduled greedily over the worker contexts plus on-tile gather copies, an exchange phase sized by the busiest tile's
/// received bytes (elements read by several vertices of a tile counted once, as the compiler
/// shares receive buffers), and a sync per phase.
struct NormStepCost {
    let target: Target
    /// Per tile, the estimates of its vertices (a step adds a vertex per tile region, millions
    /// in a large model, so the per-tile tallies are arrays rather than dictionaries).
    private var estimates: [[Int]]
    /// The remote ranges each tile reads of each operand.
    private var received: [TileOperand: [Range<Int>]] = [:]
    /// Bytes per element of each operand, by id.
    private var elementBytes: [Int] = []
    /// Per tile, bytes copied on the tile and bytes of gather buffers.
    private var copies: [Int], buffers: [Int]

    init(target: Target) {
        self.target = target
        estimates = Array(repeating: [], count: target.tiles)
        copies = Array(repeating: 0, count: target.tiles)
        buffers = copies
    }

    /// Adds a vertex of `cycles` worker cycles on `tile`.
    mutating func add(tile: Int, cycles: Int) { estimates[tile].append(cycles) }

    /// Records that a vertex on `tile` reads positions `range` of the operand `index` describes:
    /// the remote parts are received, and the local part is copied on the tile into the field's
    /// buffer when some of it is remote.
    mutating func read(_ index: NormOwners, _ range: Range<Int>, on tile: Int) {
        if index.holds(range, on: tile) { return }
        // The remote parts go straight into the tile's list (an empty list counts no bytes).
        let remote = index.appendRemote(range, from: tile, to: &received[TileOperand(tile: tile, operand: index.id), default: []])
        guard remote > 0 else { return }
        copies[tile] += (range.count - remote) * index.elementBytes
        buffers[tile] += range.count * index.elementBytes
        if elementBytes.count <= index.id { elementBytes += Array(repeating: 0, count: index.id + 1 - elementBytes.count) }
        elementBytes[index.id] = index.elementBytes
    }

    /// Tiles that run vertices.
    var tiles: Set<Int> { Set(estimates.indices.filter { !estimates[$0].isEmpty }) }

    /// Bytes of gather buffers (fields read partly from other tiles) on the busiest tile.
    var busiestBufferBytes: Int { buffers.max() ?? 0 }

    /// A tile and an operand it reads.
    private struct TileOperand: Hashable {
        var tile: Int
        var operand: Int
    }

    /// Bytes each tile receives: the union of the remote ranges it reads of each operand.
    private var receivedBytes: [Int: Int] {
        var bytes: [Int: Int] = [:]
        for (key, ranges) in received {
            var covered = 0, end = Int.min
            for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
                let begin = max(range.lowerBound, end)
                if range.upperBound > begin { covered += range.upperBound - begin }
                end = max(end, range.upperBound)
            }
            bytes[key.tile, default: 0] += covered * elementBytes[key.operand]
        }
        return bytes
    }

    /// Modelled cycles of the step.
    var cycles: Int {
        var compute = 0
        for (tile, list) in estimates.enumerated() where !list.isEmpty {
            var loads = [Int](repeating: 0, count: target.workerContexts)
            for cycles in list.sorted(by: >) {
                let slot = loads.indices.min { loads[$0] < loads[$1] }!
                loads[slot] += cycles
            }
            let copy = (copies[tile] + target.memcpyBytesPerCycle - 1) / target.memcpyBytesPerCycle
            compute = max(compute, (loads.max() ?? 0) * target.workerContexts + copy)
        }
        let busiest = receivedBytes.values.max() ?? 0
        let exchange = busiest == 0 ? 0 : target.exchangeFixedCycles + (busiest + target.exchangeBytesPerCycle - 1) / target.exchangeBytesPerCycle
        return compute + exchange + target.syncCycles * (exchange == 0 ? 1 : 2)
    }
}

/// The steps of one normalisation or pooling operation as they are built: their modelled cost,
/// tiles and temporary memory, for the operation's plan.
struct NormSteps {
    /// Modelled cycles of the steps added so far.
    var cycles = 0
    /// Tiles that run any vertex.
    var tiles: Set<Int> = []
    /// Largest temporary bytes on one tile.
    var temporaryBytesPerTile = 0
    /// Operands indexed so far (their ids).
    var operands = 0
    /// The program steps, appended to the builder only once the whole operation is planned.
    var programs: [Program] = []
}

extension OpBuilder {
    /// An owner index of `tensor` with a fresh id from `steps`.
    func normOwners(_ tensor: Tensor, _ steps: inout NormSteps) throws(OpError) -> NormOwners {
        steps.operands += 1
        return NormOwners(id: steps.operands, tensor, regions: try tileRegions(of: tensor))
    }

    /// Adds a vertex of `codelet` on `tile` connected to `tensors` (in the codelet's field order)
    /// and charges its estimate to `cost` (the caller records what it reads with `NormStepCost.read`).
    func addNormVertex(_ cs: ComputeSet, _ codelet: any Codelet, tile: Int, _ tensors: [Tensor],
                       cost: inout NormStepCost, op: String) throws(OpError) {
        let fields = codelet.fields
        let vertex = try building(op) { () throws(GraphError) in try graph.addVertex(cs, codelet, tile: tile, fields: fields, tensors) }
        cost.add(tile: tile, cycles: graph.estimatedCycles(ofVertex: vertex.index))
    }

    /// ``addNormVertex(_:_:tile:_:cost:op:)`` with field `k` connected to the positions
    /// `regions[k].positions` (ranges in order) of the one-dimensional tensor `regions[k].of`,
    /// without making the slices.
    func addNormVertex(_ cs: ComputeSet, _ codelet: any Codelet, tile: Int, regions: [(of: Tensor, positions: [Range<Int>])],
                       cost: inout NormStepCost, op: String) throws(OpError) {
        let fields = codelet.fields
        let vertex = try building(op) { () throws(GraphError) in try graph.addVertex(cs, codelet, tile: tile, fields: fields, regions: regions) }
        cost.add(tile: tile, cycles: graph.estimatedCycles(ofVertex: vertex.index))
    }

    /// Adds compute set `cs` as a step of `steps`, with its modelled cost.
    func appendNormStep(_ cs: ComputeSet, _ cost: NormStepCost, to steps: inout NormSteps) {
        steps.programs.append(.execute(cs))
        steps.cycles += cost.cycles
        steps.tiles.formUnion(cost.tiles)
        steps.temporaryBytesPerTile = max(steps.temporaryBytesPerTile, cost.busiestBufferBytes)
    }
}
