import Synchronization

private let graphCounter = Atomic<Int>(0)

/// The program's data and code, before compilation: variables and constants with their tile
/// mapping, vertices grouped in compute sets, and host streams.
///
/// A graph belongs to one ``Target``. Build it, write a ``Program`` over it, then compile both.
public final class Graph {
    /// The chip this graph is built for.
    public let target: Target
    package let id: Int
    package private(set) var data: [DataRecord] = []
    package private(set) var vertices = ChunkedArray<VertexRecord>()
    /// The connection of every field of every vertex, vertex after vertex in field order.
    package private(set) var connections = ChunkedArray<Connection>()
    /// The element runs of every connection, connection after connection.
    package private(set) var connectionRuns = ChunkedArray<ElementRun>()
    /// The boxes of tensors that connections made by ``addVertex(_:_:tile:fields:boxes:)`` hold.
    package private(set) var connectionViews = ChunkedArray<ConnectionView>()
    /// The views of the compute set vertices were last added to with boxes, by box: the vertices
    /// of one convolution that read the same window or weights share one view.
    private var recentViews: (computeSet: Int, views: [ConnectionView.Key: Int]) = (-1, [:])
    /// True once ``releaseConnections()`` has dropped the connection tables.
    package private(set) var connectionsReleased = false
    /// Merges the runs of a connection given as a slice, kept so that its storage is reused.
    private var runBuilder = ElementRunBuilder()
    package private(set) var computeSets: [ComputeSet] = []
    package private(set) var computeSetVertices: [[Int]] = []
    package private(set) var streams: [HostStream] = []
    /// Resolved mappings by data index, kept until the variable's mapping changes.
    private var resolvedMappings: [[TileInterval]?] = []
    /// Per variable, for each interval of its resolved mapping, the next interval on the same tile
    /// (``nextIntervalsOnSameTile(_:)``), or nil until asked for.
    private var nextOnSameTile: [[Int32]?] = []

    /// Copies of the graph that run together, each a full simulated IPU, joined by collectives.
    public let replicas: Int
    private var replicaIndexTensor: Tensor?

    /// An empty graph for `target`, run as one replica.
    public init(target: Target = .mk2) {
        self.target = target
        replicas = 1
        id = graphCounter.wrappingAdd(1, ordering: .relaxed).newValue
    }

    /// An empty graph for `target`, compiled once and run as `replicas` copies.
    public init(target: Target = .mk2, replicas: Int) throws(GraphError) {
        guard replicas >= 1 else { throw .indexOutOfRange(operation: "Graph", detail: "replication factor \(replicas) is below 1") }
        self.target = target
        self.replicas = replicas
        id = graphCounter.wrappingAdd(1, ordering: .relaxed).newValue
    }

    /// A uint32 scalar on tile 0 holding, in each replica, that replica's index.
    public func replicaIndex() -> Tensor {
        if let replicaIndexTensor { return replicaIndexTensor }
        var record = DataRecord(name: "replicaIndex", elementType: .uint32, shape: [], constantBytes: nil)
        record.isReplicaIndex = true
        record.assignedMapping = [TileInterval(begin: 0, end: 1, tile: 0)]
        let tensor = addData(record)
        replicaIndexTensor = tensor
        return tensor
    }

    // MARK: - Variables and constants

    /// Adds a variable. Its elements must be mapped to tiles before compilation. A shape with a
    /// negative size or more than ``maximumElementsPerVariable`` elements gives an empty tensor, and
    /// compiling the graph then fails with `CompileError.badVariable` naming it.
    public func addVariable(_ type: ElementType, _ shape: [Int], name: String) -> Tensor {
        addData(DataRecord(name: name, elementType: type, shape: shape, constantBytes: nil))
    }

    /// Adds a constant holding `values` in row-major order.
    public func addConstant<T: DeviceScalar>(_ values: [T], shape: [Int], name: String) throws(GraphError) -> Tensor {
        if let problem = Self.shapeProblem(shape) { throw .badConstant(name: name, detail: problem) }
        guard shape.reduce(1, *) == values.count else {
            throw .badConstant(name: name, detail: "\(values.count) values for shape \(shape)")
        }
        let bytes = values.withUnsafeBytes { Array($0) }
        return addData(DataRecord(name: name, elementType: T.elementType, shape: shape, constantBytes: bytes))
    }

    /// Largest element count of one variable: element offsets are held in 32 bits (no IPU holds
    /// a variable anywhere near this size).
    public static let maximumElementsPerVariable = Int(Int32.max)

    private func addData(_ record: DataRecord) -> Tensor {
        var record = record
        if let problem = Self.shapeProblem(record.shape) {
            record = DataRecord(name: record.name, elementType: record.elementType, shape: [0], constantBytes: nil)
            record.shapeProblem = problem
        }
        data.append(record)
        resolvedMappings.append(nil)
        nextOnSameTile.append(nil)
        let count = record.elementCount
        let runs = count == 0 ? [] : [ElementRun(data: data.count - 1, start: 0, count: count)]
        return Tensor(graphID: id, elementType: record.elementType, shape: record.shape, elements: ElementRunList(runs))
    }

    /// Why `shape` cannot be a variable's (or a view's) shape, or nil.
    static func shapeProblem(_ shape: [Int]) -> String? {
        if let negative = shape.first(where: { $0 < 0 }) { return "shape \(shape) has a negative size \(negative)" }
        var count = 1
        for size in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow, product <= maximumElementsPerVariable else {
                return "shape \(shape) has more than \(maximumElementsPerVariable) elements, the most one variable can address"
            }
            count = product
        }
        return nil
    }

    /// Adds a variable sharded over the replicas: each replica holds one shard of `⌈n / R⌉`
    /// elements of a whole tensor of `wholeShape` (as replicated tensor sharding keeps optimiser
    /// state). Shards are rebuilt with `Program.allGather` and filled with `Program.reduceScatter`.
    public func addReplicaShardedVariable(_ type: ElementType, _ wholeShape: [Int], name: String) -> ReplicaShardedTensor {
        let whole = wholeShape.reduce(1, *)
        var record = DataRecord(name: name, elementType: type, shape: [(whole + replicas - 1) / replicas], constantBytes: nil)
        record.shardOfElements = whole
        return ReplicaShardedTensor(shard: addData(record), wholeShape: wholeShape)
    }

    /// Keeps the variables under `tensor` live across runs, so the host can read and write them
    /// on the engine.
    public func makeHostVisible(_ tensor: Tensor) throws(GraphError) {
        try checkOwned(tensor, "makeHostVisible")
        for run in tensor.elements.runs { data[run.data].hostVisible = true }
    }

    /// Debug name of the variable or constant holding the first element of `tensor`.
    public func name(of tensor: Tensor) -> String {
        guard tensor.graphID == id, let run = tensor.elements.runs.first else { return "(empty)" }
        return data[run.data].name
    }

    // MARK: - Tile mapping

    /// Maps every element of `tensor` to `tile`, replacing any earlier mapping of those elements.
    public func setTileMapping(_ tensor: Tensor, tile: Int) throws(GraphError) {
        try checkOwned(tensor, "setTileMapping")
        try checkTile(tile, object: "setTileMapping of '\(name(of: tensor))'")
        for run in tensor.elements.runs {
            resolvedMappings[run.data] = nil
            nextOnSameTile[run.data] = nil
            if run.stride == 1 {
                data[run.data].assignedMapping.append(TileInterval(begin: run.start, end: run.start + run.count, tile: tile))
            } else {
                for i in 0..<run.count {
                    let element = run.element(i)
                    data[run.data].assignedMapping.append(TileInterval(begin: element, end: element + 1, tile: tile))
                }
            }
        }
    }

    /// Maps flattened positions `ranges` of `tensor` to `tile`, as ``setTileMapping(_:tile:)`` of
    /// each range's slice of `tensor.flatten()` does, without making the slices when `tensor` is
    /// one contiguous run (a whole variable, as a new operation result is).
    package func setTileMapping(_ tensor: Tensor, positions ranges: [Range<Int>], tile: Int) throws(GraphError) {
        let runs = tensor.elements.runs
        guard runs.count == 1, runs[0].stride == 1, ranges.allSatisfy({ $0.lowerBound >= 0 && $0.upperBound <= tensor.elementCount }) else {
            let flat = tensor.flatten()
            for range in ranges { try setTileMapping(flat.slice(range), tile: tile) }
            return
        }
        try checkOwned(tensor, "setTileMapping")
        try checkTile(tile, object: "setTileMapping of '\(name(of: tensor))'")
        let run = runs[0]
        resolvedMappings[run.data] = nil
        nextOnSameTile[run.data] = nil
        for range in ranges where !range.isEmpty {
            data[run.data].assignedMapping.append(TileInterval(begin: run.start + range.lowerBound, end: run.start + range.upperBound, tile: tile))
        }
    }

    /// A new variable `name` with the shape of `tensor`, each position on the tile of the same
    /// position of `tensor`, and its elements stored in the order `tensor` stores its own (as
    /// Poplar's `Graph::clone`): positions that `tensor` keeps one after another are one after
    /// another in the clone, so an operation on the two meets the same few regions on each tile.
    /// The result is a view of the new variable, of element type `type` (default: `tensor`'s).
    public func clone(_ tensor: Tensor, type: ElementType? = nil, name: String) throws(GraphError) -> Tensor {
        try checkOwned(tensor, "clone")
        let storage = addVariable(type ?? tensor.elementType, [tensor.elementCount], name: name)
        let runs = tensor.elements.runs
        guard let base = storage.elements.runs.first else { return try storage.reshape(tensor.shape) }
        // Each run's first element in the clone, handing elements out in the order the runs are stored.
        var starts = [Int](repeating: 0, count: runs.count), next = base.start
        for index in Self.storageOrder(of: runs) {
            starts[index] = next
            next += runs[index].count
        }
        var builder = ElementRunBuilder(), positions: [Int] = [], position = 0
        for (index, run) in runs.enumerated() {
            builder.append(ElementRun(data: base.data, start: starts[index], count: run.count, stride: 1))
            positions.append(position)
            position += run.count
        }
        // Every mapped piece lies along one run: map the same place of that run in the clone.
        var run = 0, mapping: [TileInterval] = []
        forEachMappedPiece(of: tensor) { tile, piece in
            while positions[run] + runs[run].count <= piece.lowerBound { run += 1 }
            let begin = starts[run] + piece.lowerBound - positions[run]
            mapping.append(TileInterval(begin: begin, end: begin + piece.count, tile: tile))
        }
        data[base.data].assignedMapping = mapping
        return Tensor(graphID: id, elementType: storage.elementType, shape: tensor.shape, elements: builder.build())
    }

    /// The indices of `runs` in the order of where they are stored (by variable, then first element).
    private static func storageOrder(of runs: [ElementRun]) -> [Int] {
        guard let first = runs.first?.data, runs.allSatisfy({ $0.data == first }) else {
            return runs.indices.sorted { (runs[$0].data, runs[$0].start) < (runs[$1].data, runs[$1].start) }
        }
        // One variable: sort integers, first element above index (both below 2³¹).
        var keys = runs.indices.map { UInt64(runs[$0].start) << 32 | UInt64($0) }
        keys.sort()
        return keys.map { Int($0 & 0xFFFF_FFFF) }
    }

    /// Spreads `tensor` evenly over tiles `0, 1, …` in element order, as Poplar's linear mapping does:
    /// whole grains of `grainSize` elements (default: one vector), at least `minElementsPerTile`
    /// elements per used tile (default: 128 bytes' worth).
    public func mapLinearly(_ tensor: Tensor, grainSize: Int? = nil, minElementsPerTile: Int? = nil) throws(GraphError) {
        try checkOwned(tensor, "mapLinearly")
        guard target.tiles > 0 else { throw .tileOutOfRange(object: "mapLinearly of \(tensor)", tile: 0, tiles: target.tiles) }
        let grain = max(1, grainSize ?? target.vectorWidth(tensor.elementType))
        let minimum = minElementsPerTile ?? (128 + tensor.elementType.byteSize - 1) / tensor.elementType.byteSize
        let grains = (tensor.elementCount + grain - 1) / grain
        let grainsPerTile = max((grains + target.tiles - 1) / target.tiles, (minimum + grain - 1) / grain, 1)
        let perTile = grainsPerTile * grain
        var begin = 0, tile = 0
        while begin < tensor.elementCount {
            let end = min(begin + perTile, tensor.elementCount)
            try setTileMapping(Tensor(graphID: id, elementType: tensor.elementType, shape: [end - begin],
                                      elements: tensor.elements.subrange(begin..<end)), tile: tile)
            begin = end
            tile += 1
        }
    }

    /// The tile mapping of `tensor` as view positions per tile: element `i` of the result's
    /// entry `t` lists the flattened positions of `tensor` held by tile `t`. Unmapped elements are absent.
    public func tileMapping(of tensor: Tensor) throws(GraphError) -> [[Range<Int>]] {
        var result = [[Range<Int>]](repeating: [], count: target.tiles)
        for region in try tileRegions(of: tensor) { result[region.tile] = region.ranges }
        return result
    }

    /// The tile mapping of `tensor` as ``tileMapping(of:)`` gives it, keeping only the tiles that
    /// hold some of it, in tile order.
    package func tileRegions(of tensor: Tensor) throws(GraphError) -> [(tile: Int, ranges: [Range<Int>])] {
        try checkOwned(tensor, "tileMapping")
        var pieces: [(tile: Int, range: Range<Int>)] = []
        forEachMappedPiece(of: tensor) { tile, range in
            if let last = pieces.last, last.tile == tile, last.range.upperBound == range.lowerBound {
                pieces[pieces.count - 1].range = last.range.lowerBound..<range.upperBound
            } else {
                pieces.append((tile, range))
            }
        }
        // The pieces come in position order: bucketing them by tile, in order, sorts them by tile
        // and then position without comparing.
        var counts = [Int](repeating: 0, count: target.tiles)
        for piece in pieces { counts[piece.tile] += 1 }
        var buckets = [[Range<Int>]](repeating: [], count: target.tiles)
        for tile in counts.indices where counts[tile] > 0 { buckets[tile].reserveCapacity(counts[tile]) }
        for piece in pieces { buckets[piece.tile].append(piece.range) }
        return buckets.indices.compactMap { tile in buckets[tile].isEmpty ? nil : (tile, buckets[tile]) }
    }

    /// Number of elements of `tensor` (counting repeated view positions) held by `tile`.
    package func elementCount(of tensor: Tensor, onTile tile: Int) throws(GraphError) -> Int {
        try checkOwned(tensor, "tileMapping")
        var count = 0
        forEachMappedPiece(of: tensor) { pieceTile, range in
            if pieceTile == tile { count += range.count }
        }
        return count
    }

    /// Calls `body` with the tile and view positions of each maximal piece of `tensor` that one
    /// mapped interval holds along one run, in position order.
    private func forEachMappedPiece(of tensor: Tensor, _ body: (Int, Range<Int>) -> Void) {
        var position = 0
        var cachedData = -1, intervals: [TileInterval] = [], hint = SearchHint()
        for run in tensor.elements.runs {
            if run.data != cachedData {
                intervals = resolvedMapping(run.data)
                cachedData = run.data
                hint = SearchHint()
            }
            var element = run.start, done = 0
            while done < run.count {
                guard let index = TileMappingIndex.index(containing: element, in: intervals, hint: &hint) else {
                    element += run.stride
                    done += 1
                    continue
                }
                let interval = intervals[index]
                let taken = progressionCount(from: element, stride: run.stride, limit: run.count - done, within: interval.begin..<interval.end)
                body(interval.tile, (position + done)..<(position + done + taken))
                element += taken * run.stride
                done += taken
            }
            position += run.count
        }
    }

    /// For each interval of variable `index`'s resolved mapping, the index of the next interval
    /// on the same tile (the interval count when there is none).
    package func nextIntervalsOnSameTile(_ index: Int) -> [Int32] {
        if let cached = nextOnSameTile[index] { return cached }
        let intervals = resolvedMapping(index)
        var next = [Int32](repeating: Int32(intervals.count), count: intervals.count)
        var lastOnTile = [Int32](repeating: -1, count: target.tiles)
        for (position, interval) in intervals.enumerated() {
            if lastOnTile[interval.tile] >= 0 { next[Int(lastOnTile[interval.tile])] = Int32(position) }
            lastOnTile[interval.tile] = Int32(position)
        }
        nextOnSameTile[index] = next
        return next
    }

    /// Drops the tables that only building operations reads (each interval's next interval on its
    /// tile), which are made again when asked for: the compiler lets them go before it lowers.
    package func releaseBuildTables() {
        nextOnSameTile = [[Int32]?](repeating: nil, count: nextOnSameTile.count)
    }

    /// The mapping of data `index` as sorted, disjoint intervals (later assignments win).
    package func resolvedMapping(_ index: Int) -> [TileInterval] {
        if let cached = resolvedMappings[index] { return cached }
        let resolved = TileMappingIndex.resolve(data[index].assignedMapping)
        resolvedMappings[index] = resolved
        // The resolved intervals map every element as the assignments did, so they replace them
        // (sharing one list with the cache); later assignments still win over them.
        if !resolved.isEmpty { data[index].assignedMapping = resolved }
        return resolved
    }

    // MARK: - Vertices and compute sets

    /// Adds an empty compute set.
    public func addComputeSet(_ name: String) -> ComputeSet {
        let set = ComputeSet(graphID: id, index: computeSets.count, name: name)
        computeSets.append(set)
        computeSetVertices.append([])
        return set
    }

    /// Adds a vertex running `codelet` on `tile` in `computeSet`, with every field connected to a
    /// tensor region of the field's element type (a scalar field to one element).
    @discardableResult
    public func addVertex(_ computeSet: ComputeSet, _ codelet: any Codelet, tile: Int,
                          _ connections: [String: Tensor]) throws(GraphError) -> Vertex {
        try checkVertexPlace(computeSet, codelet, tile: tile)
        let fields = codelet.fields
        if fields.count(where: { connections[$0.name] != nil }) < connections.count {
            for key in connections.keys where !fields.contains(where: { $0.name == key }) {
                throw .badConnection(vertex: vertexName(codelet, computeSet), field: key,
                                     detail: "the codelet has no such field (fields: \(fields.map { $0.name }.joined(separator: ", ")))")
            }
        }
        var ordered: [Tensor] = []
        ordered.reserveCapacity(fields.count)
        for field in fields {
            guard let tensor = connections[field.name] else {
                throw .badConnection(vertex: vertexName(codelet, computeSet), field: field.name, detail: "not connected")
            }
            try checkConnection(field, tensor, count: tensor.elementCount, codelet, computeSet)
            ordered.append(tensor)
        }
        return try appendVertex(computeSet, codelet, tile: tile, fields, ordered, estimating: false)
    }

    /// Adds a vertex as ``addVertex(_:_:tile:_:)`` does, with the tensors given in the order of
    /// `fields` (the codelet's fields, which the caller has at hand) rather than by name: the
    /// path of operations that add a vertex per tile region. The codelet's estimate is computed
    /// once here and kept (``estimatedCycles(ofVertex:)``), for the operation's plan and the compiler.
    @discardableResult
    package func addVertex(_ computeSet: ComputeSet, _ codelet: any Codelet, tile: Int,
                           fields: [Field], _ tensors: [Tensor]) throws(GraphError) -> Vertex {
        try checkVertexPlace(computeSet, codelet, tile: tile, fields: fields, connections: tensors.count)
        for (field, tensor) in zip(fields, tensors) { try checkConnection(field, tensor, count: tensor.elementCount, codelet, computeSet) }
        return try appendVertex(computeSet, codelet, tile: tile, fields, tensors, estimating: true)
    }

    /// Adds a vertex as ``addVertex(_:_:tile:fields:_:)`` does, field `k` connected to positions
    /// `slices[k].positions` of the one-dimensional tensor `slices[k].of`: the runs of that slice
    /// go straight into the graph's tables, without making the slice's tensor (a step adds a
    /// vertex per tile region, millions in a large model).
    @discardableResult
    package func addVertex(_ computeSet: ComputeSet, _ codelet: any Codelet, tile: Int, fields: [Field],
                           slices: [(of: Tensor, positions: Range<Int>)]) throws(GraphError) -> Vertex {
        try addVertex(computeSet, codelet, tile: tile, fields: fields, regions: slices.map { ($0.of, [$0.positions]) })
    }

    /// Adds a vertex as ``addVertex(_:_:tile:fields:slices:)`` does, field `k` connected to the
    /// positions `regions[k].positions` of the one-dimensional tensor `regions[k].of`, range after
    /// range: a field that covers several regions of its tile at once (the compiler connects it to
    /// the tile's memory directly when they lie there one after another).
    @discardableResult
    package func addVertex(_ computeSet: ComputeSet, _ codelet: any Codelet, tile: Int, fields: [Field],
                           regions: [(of: Tensor, positions: [Range<Int>])]) throws(GraphError) -> Vertex {
        var flat = VertexRegions(operands: regions.map { $0.of })
        for (k, region) in regions.enumerated() { flat.addField(operand: k, region.positions[...]) }
        return try addVertex(computeSet, codelet, tile: tile, fields: fields, regions: flat)
    }

    /// Adds a vertex as ``addVertex(_:_:tile:fields:_:)`` does, field `k` connected to its ranges of
    /// its operand in `regions` (one-dimensional tensors), range after range.
    @discardableResult
    package func addVertex(_ computeSet: ComputeSet, _ codelet: any Codelet, tile: Int, fields: [Field],
                           regions: VertexRegions) throws(GraphError) -> Vertex {
        let operands = regions.operands, fieldCount = regions.fieldCount
        // What the bounds check and the runs read of each operand, once, rather than a tensor per field.
        let elements = operands.map { $0.elements }, counts = operands.map { $0.elementCount }
        let ranks = operands.map { $0.rank }
        let sizes = (0..<fieldCount).map { regions.count(ofField: $0) }
        let inBounds = (0..<fieldCount).allSatisfy { k in
            let operand = regions.operand(ofField: k)
            return ranks[operand] == 1 && regions.ranges(ofField: k).allSatisfy { $0.lowerBound >= 0 && $0.upperBound <= counts[operand] }
        }
        guard inBounds else {
            var tensors: [Tensor] = []
            for k in 0..<fieldCount {
                var parts: [Tensor] = []
                for range in regions.ranges(ofField: k) { parts.append(try operands[regions.operand(ofField: k)].slice(range)) }
                tensors.append(parts.count == 1 ? parts[0] : try Tensor.concatenate(parts))
            }
            return try addVertex(computeSet, codelet, tile: tile, fields: fields, tensors)
        }
        try checkVertexPlace(computeSet, codelet, tile: tile, fields: fields, connections: fieldCount)
        // Each field's check from its operand's graph and type, read once per operand (a copy of the
        // operand per field would retain and release its tables); the full check names what is wrong.
        let owners = operands.map { $0.graphID }, types = operands.map { $0.elementType }
        for k in 0..<fieldCount {
            let operand = regions.operand(ofField: k)
            if owners[operand] != id || types[operand] != fields[k].elementType || (fields[k].isScalar && sizes[k] != 1) {
                try checkConnection(fields[k], operands[operand], count: sizes[k], codelet, computeSet)
            }
        }
        if let problem = codelet.sizeProblem(fieldSizes: sizes) {
            throw .badConnection(vertex: vertexName(codelet, computeSet), field: "*", detail: problem)
        }
        let first = connections.count, firstRun = connectionRuns.count
        for k in 0..<fieldCount {
            let start = connectionRuns.count
            var hint = SearchHint()
            elements[regions.operand(ofField: k)].appendElements(regions.ranges(ofField: k), to: &runBuilder, hint: &hint)
            runBuilder.finish(appendingTo: &connectionRuns)
            guard connectionRuns.count - start <= Connection.maximumRuns else {
                let runs = connectionRuns.count - start
                connectionRuns.removeLast(connectionRuns.count - firstRun)
                connections.removeLast(connections.count - first)
                throw .badConnection(vertex: vertexName(codelet, computeSet), field: fields[k].name,
                                     detail: "\(runs) element runs, more than the \(Connection.maximumRuns) a field can hold")
            }
            connections.append(Connection(runs: start..<connectionRuns.count, count: sizes[k], field: fields[k]))
        }
        return storeVertex(computeSet, codelet, tile: tile, connections: first, estimate: codelet.estimateCycles(fieldSizes: sizes, target: target))
    }

    /// Adds a vertex as ``addVertex(_:_:tile:fields:_:)`` does, field `k` connected to the box
    /// `boxes[k].box` (a range per dimension) of `boxes[k].of`: the graph keeps the box, not its
    /// element runs, and the compiler walks it when it places the field (a convolution's input
    /// window would be hundreds of runs a vertex, thousands of vertices a layer).
    @discardableResult
    package func addVertex(_ computeSet: ComputeSet, _ codelet: any Codelet, tile: Int, fields: [Field],
                           boxes: [(of: Tensor, box: [Range<Int>])]) throws(GraphError) -> Vertex {
        try checkVertexPlace(computeSet, codelet, tile: tile, fields: fields, connections: boxes.count)
        var sizes: [Int] = []
        for (field, box) in zip(fields, boxes) {
            guard box.box.count <= ConnectionView.maximumRank else {
                throw .badConnection(vertex: vertexName(codelet, computeSet), field: field.name,
                                     detail: "a box of rank \(box.box.count), more than the \(ConnectionView.maximumRank) a box can have")
            }
            guard box.box.count == box.of.rank, zip(box.box, box.of.shape).allSatisfy({ $0.lowerBound >= 0 && $0.upperBound <= $1 }) else {
                let ranges = box.box.map { "\($0.lowerBound)..<\($0.upperBound)" }.joined(separator: ", ")
                throw .indexOutOfRange(operation: "addVertex", detail: "box [\(ranges)] of field '\(field.name)' is outside shape \(box.of.shape)")
            }
            sizes.append(box.box.reduce(1) { $0 * $1.count })
            try checkConnection(field, box.of, count: sizes[sizes.count - 1], codelet, computeSet)
        }
        if let problem = codelet.sizeProblem(fieldSizes: sizes) {
            throw .badConnection(vertex: vertexName(codelet, computeSet), field: "*", detail: problem)
        }
        let first = connections.count
        if recentViews.computeSet != computeSet.index {
            // Emptied in place, keeping the capacity the last compute set grew it to.
            recentViews.computeSet = computeSet.index
            recentViews.views.removeAll(keepingCapacity: true)
        }
        for (k, (field, box)) in zip(fields, boxes).enumerated() {
            // The key first: most boxes repeat a view the compute set already has.
            let key = ConnectionView.key(of: box.box, shape: box.of.shape, elements: box.of.elements)
            let index = recentViews.views[key] ?? {
                connectionViews.append(ConnectionView(elements: box.of.elements, rank: box.box.count, key: key))
                recentViews.views[key] = connectionViews.count - 1
                return connectionViews.count - 1
            }()
            connections.append(Connection(view: index, count: sizes[k], field: field))
        }
        return storeVertex(computeSet, codelet, tile: tile, connections: first, estimate: codelet.estimateCycles(fieldSizes: sizes, target: target))
    }

    private func checkVertexPlace(_ computeSet: ComputeSet, _ codelet: any Codelet, tile: Int) throws(GraphError) {
        guard computeSet.graphID == id else { throw .foreignObject(kind: "compute set", name: computeSet.name) }
        try checkTile(tile, object: "vertex \(vertexName(codelet, computeSet))")
    }

    /// ``checkVertexPlace(_:_:tile:)``, and that `connections` tensors are given for the `fields`.
    private func checkVertexPlace(_ computeSet: ComputeSet, _ codelet: any Codelet, tile: Int, fields: [Field],
                                  connections: Int) throws(GraphError) {
        try checkVertexPlace(computeSet, codelet, tile: tile)
        guard connections == fields.count else {
            throw .badConnection(vertex: vertexName(codelet, computeSet), field: "*",
                                 detail: "\(connections) tensors for the codelet's \(fields.count) fields")
        }
    }

    /// Checks that `tensor` (or the `count` positions of it connected) can connect to `field`.
    private func checkConnection(_ field: Field, _ tensor: Tensor, count: Int, _ codelet: any Codelet, _ computeSet: ComputeSet) throws(GraphError) {
        guard tensor.graphID == id else {
            throw .foreignObject(kind: "tensor", name: "connected to \(vertexName(codelet, computeSet)).\(field.name)")
        }
        guard tensor.elementType == field.elementType else {
            throw .elementTypeMismatch(context: "vertex \(vertexName(codelet, computeSet)), field '\(field.name)'",
                                       expected: field.elementType, actual: tensor.elementType)
        }
        if field.isScalar && count != 1 {
            throw .badConnection(vertex: vertexName(codelet, computeSet), field: field.name,
                                 detail: "scalar field connected to \(count) elements")
        }
    }

    /// Checks the field sizes and stores the vertex, its connections (`tensors` to `fields`) and
    /// their runs (and, when `estimating`, the codelet's estimate for those sizes).
    private func appendVertex(_ computeSet: ComputeSet, _ codelet: any Codelet, tile: Int, _ fields: [Field], _ tensors: [Tensor],
                              estimating: Bool) throws(GraphError) -> Vertex {
        let sizes = tensors.map { $0.elementCount }
        if let problem = codelet.sizeProblem(fieldSizes: sizes) {
            throw .badConnection(vertex: vertexName(codelet, computeSet), field: "*", detail: problem)
        }
        for (field, tensor) in zip(fields, tensors) where tensor.elements.runs.count > Connection.maximumRuns {
            throw .badConnection(vertex: vertexName(codelet, computeSet), field: field.name,
                                 detail: "\(tensor.elements.runs.count) element runs, more than the \(Connection.maximumRuns) a field can hold")
        }
        let first = connections.count
        for (field, tensor) in zip(fields, tensors) {
            let start = connectionRuns.count
            connectionRuns.append(contentsOf: tensor.elements.runs)
            connections.append(Connection(runs: start..<connectionRuns.count, count: tensor.elementCount, field: field))
        }
        return storeVertex(computeSet, codelet, tile: tile, connections: first,
                           estimate: estimating ? codelet.estimateCycles(fieldSizes: sizes, target: target) : nil)
    }

    /// Stores a vertex whose connections are those from index `first` on.
    private func storeVertex(_ computeSet: ComputeSet, _ codelet: any Codelet, tile: Int, connections first: Int, estimate: Int?) -> Vertex {
        vertices.append(VertexRecord(codelet: codelet, tile: tile, computeSet: computeSet.index, connections: first..<connections.count,
                                     estimatedCycles: estimate))
        computeSetVertices[computeSet.index].append(vertices.count - 1)
        return Vertex(graphID: id, index: vertices.count - 1)
    }

    /// The name of the vertex about to be added, for error messages.
    private func vertexName(_ codelet: any Codelet, _ computeSet: ComputeSet) -> String {
        "\(codelet.name) #\(vertices.count) in '\(computeSet.name)'"
    }

    /// Modelled cycles of one worker context running vertex `index`: its codelet's estimate for
    /// its field sizes (computed once, when it was added through the field-ordered path).
    package func estimatedCycles(ofVertex index: Int) -> Int {
        if let estimate = vertices[index].estimatedCycles { return estimate }
        return vertices[index].codelet.estimateCycles(fieldSizes: vertices[index].connections.map { connections[$0].count }, target: target)
    }

    /// The tile of vertex `index`, read in place (a copy of its record would retain its codelet).
    package func tile(ofVertex index: Int) -> Int { vertices[index].tile }

    /// The connections of vertex `index` (indices in ``connections``, in field order), read in place.
    package func connections(ofVertex index: Int) -> Range<Int> { vertices[index].connections }

    /// The element runs of connection `index` (of ``connections``), in view order.
    package func runs(ofConnection index: Int) -> [ElementRun] {
        var runs: [ElementRun] = []
        appendRuns(ofConnection: index, to: &runs)
        return runs
    }

    /// Drops the tables of vertex connections (their runs and boxes), the bulk of a large graph,
    /// for a compiler that has lowered every field and a caller that will not use the graph again;
    /// the graph cannot be compiled afterwards.
    package func releaseConnections() {
        connections = ChunkedArray()
        connectionRuns = ChunkedArray()
        connectionViews = ChunkedArray()
        recentViews = (-1, [:])
        connectionsReleased = true
    }

    /// Calls `body` with the variable (or constant) of every run of connection `index`, without
    /// walking a view whose tensor reads one variable only.
    package func forEachData(ofConnection index: Int, scratch runs: inout [ElementRun], _ body: (Int) -> Void) {
        guard let view = connections[index].view else {
            for run in connections[index].runs { body(connectionRuns[run].data) }
            return
        }
        if let data = connectionViews[view].elements.onlyData { return body(data) }
        runs.removeAll(keepingCapacity: true)
        appendRuns(ofConnection: index, to: &runs)
        for run in runs { body(run.data) }
    }

    /// Appends the element runs of connection `index` (of ``connections``), in view order, to `runs`.
    package func appendRuns(ofConnection index: Int, to runs: inout [ElementRun]) {
        let connection = connections[index]
        guard let view = connection.view else { return connectionRuns.append(connection.runs, to: &runs) }
        let box = connectionViews[view]
        var builder = ElementRunBuilder()
        box.elements.appendAffineView(shape: box.shape, offset: box.offset, strides: box.strides, to: &builder)
        builder.finish(appendingTo: &runs)
    }

    // MARK: - Host streams

    /// Adds a FIFO that carries `elementCount` elements from the host per copy.
    public func addHostToDeviceStream(_ name: String, _ type: ElementType, elementCount: Int) throws(GraphError) -> HostStream {
        try addStream(name, type, elementCount, .hostToDevice)
    }

    /// Adds a FIFO that carries `elementCount` elements to the host per copy.
    public func addDeviceToHostStream(_ name: String, _ type: ElementType, elementCount: Int) throws(GraphError) -> HostStream {
        try addStream(name, type, elementCount, .deviceToHost)
    }

    private func addStream(_ name: String, _ type: ElementType, _ count: Int, _ direction: StreamDirection) throws(GraphError) -> HostStream {
        guard !streams.contains(where: { $0.name == name }) else { throw .duplicateName(kind: "stream", name: name) }
        let stream = HostStream(graphID: id, index: streams.count, name: name, elementType: type, elementCount: count, direction: direction)
        streams.append(stream)
        return stream
    }

    // MARK: - Checks

    package func checkOwned(_ tensor: Tensor, _ operation: String) throws(GraphError) {
        guard tensor.graphID == id else { throw .foreignObject(kind: "tensor", name: "passed to \(operation)") }
    }

    private func checkTile(_ tile: Int, object: @autoclosure () -> String) throws(GraphError) {
        guard (0..<target.tiles).contains(tile) else { throw .tileOutOfRange(object: object(), tile: tile, tiles: target.tiles) }
    }
}
