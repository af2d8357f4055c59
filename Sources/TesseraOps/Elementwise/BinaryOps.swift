import TesseraGraph

extension OpBuilder {
    /// `a + b` element-wise into a new tensor of the broadcast shape of `a` and `b` (NumPy rules:
    /// trailing dimensions align; each pair is equal or one of them is 1, e.g. `[N, C, H, W]` with
    /// `[C, 1, 1]` or `[1]`). Both operands have one element type, float32 or float16 (computed in
    /// float32, rounded once).
    ///
    /// The output is mapped like the operand that has the output's shape (`a` if both do; linearly
    /// if neither does). Each tile computes the output positions it holds; the elements of an
    /// operand it reads but does not hold are exchanged to it once, into one receive buffer shared
    /// by the tile's regions. Shapes that do not broadcast throw `shapeMismatch`, differing or
    /// non-floating-point types `typeMismatch`.
    ///
    /// With `activation`, the vertices apply it to the sum as they write it (the result, roundings
    /// included, is that of ``activation(_:_:name:)`` on the sum, without a pass of its own).
    public func add(_ a: Tensor, _ b: Tensor, activation: Activation? = nil, name: String) throws(OpError) -> Tensor {
        try elementwise(.add, a, b, activation: activation, name: name)
    }
    /// `a − b` element-wise with NumPy broadcasting; layouts, mapping and errors as ``add(_:_:name:)``.
    public func subtract(_ a: Tensor, _ b: Tensor, name: String) throws(OpError) -> Tensor {
        try elementwise(.subtract, a, b, name: name)
    }
    /// `a · b` element-wise with NumPy broadcasting; layouts, mapping and errors as ``add(_:_:name:)``.
    public func multiply(_ a: Tensor, _ b: Tensor, name: String) throws(OpError) -> Tensor {
        try elementwise(.multiply, a, b, name: name)
    }
    /// `a / b` element-wise with NumPy broadcasting (IEEE: division by zero gives ±∞ or NaN);
    /// layouts, mapping and errors as ``add(_:_:name:)``.
    public func divide(_ a: Tensor, _ b: Tensor, name: String) throws(OpError) -> Tensor {
        try elementwise(.divide, a, b, name: name)
    }

    /// `a ← a + b` in place, `b` broadcast to `a`'s shape by NumPy's rules (poplibs' `addInPlace`);
    /// types, exchange and errors as ``add(_:_:name:)``. `a` must not repeat elements (no broadcast view).
    public func addInPlace(_ a: Tensor, _ b: Tensor, name: String) throws(OpError) {
        _ = try elementwise(.add, a, b, inPlace: true, name: name)
    }
    /// `a ← a − b` in place, `b` broadcast to `a`'s shape; as ``addInPlace(_:_:name:)``.
    public func subtractInPlace(_ a: Tensor, _ b: Tensor, name: String) throws(OpError) {
        _ = try elementwise(.subtract, a, b, inPlace: true, name: name)
    }
    /// `a ← a · b` in place, `b` broadcast to `a`'s shape; as ``addInPlace(_:_:name:)``.
    public func multiplyInPlace(_ a: Tensor, _ b: Tensor, name: String) throws(OpError) {
        _ = try elementwise(.multiply, a, b, inPlace: true, name: name)
    }
    /// `a ← a / b` in place, `b` broadcast to `a`'s shape; as ``addInPlace(_:_:name:)``.
    public func divideInPlace(_ a: Tensor, _ b: Tensor, name: String) throws(OpError) {
        _ = try elementwise(.divide, a, b, inPlace: true, name: name)
    }

    /// `a ∘ b` element-wise with broadcasting, as documented on ``add(_:_:name:)``, into a new
    /// tensor or, `inPlace`, into `a` (returned); its plan names `shapes` (output, `a`, `b`) when
    /// given, as the ranges of permuted views are shown by the views' shapes. With `regionsFollowA`
    /// (`b` unbroadcast) a tile's regions are the runs `a` and the output store one after another,
    /// whatever `b`'s layout.
    func elementwise(_ operation: BinaryOperation, _ a: Tensor, _ b: Tensor, inPlace: Bool = false, shapes: [[Int]]? = nil,
                     activation: Activation? = nil, regionsFollowA: Bool = false, name: String) throws(OpError) -> Tensor {
        guard a.elementType == b.elementType, a.elementType.isFloatingPoint else {
            throw .typeMismatch(op: name, detail: "\(operation.rawValue) needs two float32 or two float16 operands, got \(a.elementType) \(a.shape) and \(b.elementType) \(b.shape)")
        }
        guard let shape = numpyBroadcastShape(a.shape, b.shape) else {
            throw .shapeMismatch(op: name, detail: "\(operation.rawValue) cannot broadcast \(a.shape) with \(b.shape)")
        }
        // `a` of the output's shape permuting one range (a convolution's output): the operation on
        // that range in storage order, seen through the permutation — the vertices found from a
        // few intervals per tile. `b` of that shape permuting its range alike (the batch norm of
        // the same output, say) is its range too; otherwise `b` is read in `a`'s storage order (a
        // residual add of two differently planned convolutions) and the regions follow `a` and
        // the output alone, as popops takes the output's contiguous regions and rearranges the
        // other operand into them.
        if a.shape == shape && b.shape == shape && (a.elements.runs.count > 1 || b.elements.runs.count > 1),
           let pa = try storagePermutation(of: a) {
            let pb = try storagePermutation(of: b)
            let alike = pb.map { pa.ordersLike($0) } ?? false
            if alike || a.elements.runs.count > 1 {
                let result = try elementwise(operation, pa.storage, alike ? pb!.storage : pa.inStorageOrder(b), inPlace: inPlace,
                                             shapes: [shape, a.shape, b.shape], activation: activation, regionsFollowA: !alike, name: name)
                return inPlace ? a : relabel(pa, onto: result)
            }
        }
        // `a` of the output's shape permuting one range (a convolution's output) while `b` is
        // broadcast (a channel scale): the fields of `a` and the output connect to the ranges in
        // storage order, and each tile's regions come from its few intervals of the range.
        let permuted = a.shape == shape && b.shape != shape && a.elements.runs.count > 1 ? try storagePermutation(of: a) : nil
        let output: Tensor
        var localOperand: Int?
        // The tensors the fields of `a` and of the output connect to (flattened).
        let aField = permuted?.storage ?? a.flatten(), outField: Tensor
        if let permuted {
            outField = inPlace ? permuted.storage : try variable(like: permuted.storage, name: name)
            output = inPlace ? a : relabel(permuted, onto: outField)
            localOperand = 0
        } else {
            if inPlace {
                guard a.shape == shape else {
                    throw .shapeMismatch(op: name, detail: "\(operation.rawValue) in place cannot broadcast b \(b.shape) to a \(a.shape)")
                }
                output = a
                localOperand = 0
            } else if a.shape == shape {
                output = try variable(like: a, name: name)
                localOperand = 0
            } else if b.shape == shape {
                output = try variable(like: b, name: name)
                localOperand = 1
            } else {
                output = graph.addVariable(a.elementType, shape, name: name)
                try building(name) { () throws(GraphError) in try graph.mapLinearly(output) }
            }
            outField = output.flatten()
        }
        let patterns = [BroadcastPattern(operand: a.shape, space: shape)!, BroadcastPattern(operand: b.shape, space: shape)!]
        // Each tile's regions of the output, and with a permutation where `a` and the output store
        // them — or, when the tile stores one box of the output (a convolution's part), that box.
        let work: [(tile: Int, regions: [Range<Int>], stored: [Range<Int>], box: (ViewBox, stored: Range<Int>)?)]
        if let permuted {
            work = try tileRegions(of: permuted.storage).map { tile in
                let pieces = permuted.pieces(inStorage: tile.ranges)
                if tile.ranges.count == 1, let box = ViewBox(pieces: pieces, shape: shape) { return (tile.tile, [], [], (box, tile.ranges[0])) }
                return (tile.tile, pieces.map { $0.positions }, pieces.map { $0.storage..<($0.storage + $0.positions.count) }, nil)
            }
        } else {
            work = try tileWork(of: output).map { ($0.tile, $0.regions, [], nil) }
        }
        let split = WorkerSplit(graph.target, output.elementType)
        let operands = [a.flatten(), b.flatten()]
        let computeSet = graph.addComputeSet(name)
        var model = ElementwiseStepModel(target: graph.target)
        var temporary: [Int: Int] = [:]
        var fieldCache = RegionFieldCache()
        // Without broadcasting every operand reads the output's positions, so the tile's regions
        // are joined into the runs that all three store one after another; with it, a region each.
        let unbroadcast = a.shape == shape && b.shape == shape
        var connections = VertexRegions(operands: [aField, operands[1], outField])
        // Each tile's region fields, in tables kept from tile to tile.
        var layout = BinaryRegionFields(inPlace: inPlace)
        /// Adds `tile`'s vertex: `codelet` (boxed as the graph keeps it) with the fields `connections` holds.
        func addTileVertex(_ tile: Int, _ codelet: any Codelet, fieldCounts: [Int]) throws(OpError) {
            let fields = fieldCache.fields(of: codelet, counts: fieldCounts)
            let vertex = try building(name) { () throws(GraphError) in
                try graph.addVertex(computeSet, codelet, tile: tile, fields: fields, regions: connections)
            }
            model.addVertex(tile: tile, cycles: graph.estimatedCycles(ofVertex: vertex.index))
        }
        // A box vertex's codelet depends on the box's shape alone, and most tiles' boxes have one shape.
        var boxCodelets: [[Int]: any Codelet] = [:]
        let boxFieldCounts = [1, 1, inPlace ? 0 : 1], bLead = shape.count - b.rank
        for tile in work {
            if let (box, stored) = tile.box {
                // The box is the vertex's space: `a` and the output its stored range, `b` its box of `b`.
                let bBox = b.shape.enumerated().map { $1 == 1 ? 0..<1 : box.ranges[bLead + $0] }
                let bRanges = ViewBox.flatRanges(bBox, in: b.shape)
                for positions in bRanges {
                    let view = try building(name) { () throws(GraphError) in try operands[1].slice(positions) }
                    let bytes = try bytesToReceive(of: view, on: tile.tile)
                    model.receive(tile: tile.tile, bytes: bytes)
                    temporary[tile.tile, default: 0] += bytes
                }
                connections.removeFields()
                connections.addField(operand: inPlace ? 2 : 0, stored)
                connections.addField(operand: 1, bRanges[...])
                if !inPlace { connections.addField(operand: 2, stored) }
                let space = box.shape
                let codelet = boxCodelets[space] ?? {
                    let patterns = [BroadcastPattern(operand: space, space: space)!, BroadcastPattern(operand: bBox.map { $0.count }, space: space)!]
                    let codelet = BinaryCodelet(operation: operation, elementType: output.elementType, inPlace: inPlace, patterns: patterns,
                                                regionStarts: [0], regionCounts: [stored.count], regionFields: [0, 1, inPlace ? 0 : 2],
                                                regionDeltas: [0, 0, 0], fieldCounts: (boxFieldCounts[0], boxFieldCounts[1], boxFieldCounts[2]),
                                                split: split, shareRuns: split.shares([stored.count]).map { broadcastRunCount($0.offsets, patterns) },
                                                activation: activation?.function)
                    boxCodelets[space] = codelet
                    return codelet
                }()
                try addTileVertex(tile.tile, codelet, fieldCounts: boxFieldCounts)
                continue
            }
            // Region `r` is `regionRanges[regionFirst[r] ..< regionFirst[r + 1]]` (one range each when broadcasting).
            let regionRanges: [Range<Int>], regionFirst: [Int]
            if unbroadcast {
                let joined = storedRuns(tile.regions, of: (regionsFollowA ? [operands[0]] : operands) + (inPlace ? [] : [outField]), tile: tile.tile)
                regionRanges = joined.flatMap { $0 }
                regionFirst = joined.reduce(into: [0]) { $0.append($0[$0.count - 1] + $1.count) }
            } else {
                (regionRanges, regionFirst) = (tile.regions, Array(0...tile.regions.count))
            }
            let regionCount = regionFirst.count - 1
            func region(_ r: Int) -> ArraySlice<Range<Int>> { regionRanges[regionFirst[r]..<regionFirst[r + 1]] }
            // Region `r` as the codelet sees it: output positions from `starts[r]`, `counts[r]` of them.
            let starts = (0..<regionCount).map { regionRanges[regionFirst[$0]].lowerBound }
            let counts = (0..<regionCount).map { region($0).reduce(0) { $0 + $1.count } }
            let spans = zip(starts, counts).map { $0..<($0 + $1) }
            // A permuted `a`'s fields are its regions' places in storage, based at the regions' starts.
            let ranges = (0..<2).map { k in
                unbroadcast || (k == 0 && permuted != nil) ? spans : mergedOperandRanges(spans.map { patterns[k].operandRange(of: $0) })
            }
            let shareRuns = split.shares(counts).map { share in
                broadcastRunCount((starts[share.region] + share.offsets.lowerBound)..<(starts[share.region] + share.offsets.upperBound), patterns)
            }
            // Each region's fields as the regions would have them one by one (`a` in place: the
            // output's places), grouped where regions share or continue them.
            layout.removeAll()
            // The operand ranges already counted as received, by operand.
            var received: [Set<Range<Int>>] = [[], []]
            for r in 0..<regionCount {
                // Operand `k`'s positions of region `r`: the region itself, or its broadcast range.
                func operandPositions(_ k: Int) -> ArraySlice<Range<Int>> { unbroadcast ? region(r) : ranges[k][r...r] }
                let stored = permuted == nil ? region(r) : tile.stored[r...r]
                layout.addRegion(a: inPlace || permuted != nil ? stored : operandPositions(0), b: operandPositions(1), output: stored)
                // (A region reading the previous region's range was counted with it.)
                for k in 0..<2 where k != localOperand && (r == 0 || ranges[k][r] != ranges[k][r - 1]) && received[k].insert(ranges[k][r]).inserted {
                    for positions in operandPositions(k) {
                        let view = try building(name) { () throws(GraphError) in try operands[k].slice(positions) }
                        let bytes = try bytesToReceive(of: view, on: tile.tile)
                        model.receive(tile: tile.tile, bytes: bytes)
                        temporary[tile.tile, default: 0] += bytes
                    }
                }
            }
            connections.removeFields()
            layout.connect(&connections)
            let places = layout.places(regions: regionCount) { r in (ranges[0][r].lowerBound, ranges[1][r].lowerBound, starts[r]) }
            let fieldCounts = layout.counts
            let codelet = BinaryCodelet(operation: operation, elementType: output.elementType, inPlace: inPlace, patterns: patterns,
                                        regionStarts: starts, regionCounts: counts, regionFields: places.fields, regionDeltas: places.deltas,
                                        fieldCounts: (fieldCounts[0], fieldCounts[1], fieldCounts[2]),
                                        split: split, shareRuns: shareRuns, activation: activation?.function)
            try addTileVertex(tile.tile, codelet, fieldCounts: fieldCounts)
        }
        append(.execute(computeSet))
        let shown = shapes ?? [shape, a.shape, b.shape]
        record(OperationPlan(name: name, kind: operation.rawValue + (inPlace ? "InPlace" : ""),
                             partition: "\(shown[0]) from \(shown[1]) and \(shown[2]): \(work.count) vertices (one per tile) over \(model.tiles.count) tiles\(activationNote(activation))",
                             tilesUsed: model.tiles.count, modelledCycles: model.cycles,
                             temporaryBytesPerTile: temporary.values.max() ?? 0))
        return output
    }

    /// For each piece, the range of operand indices it reads, merged per tile as
    /// ``mergedOperandRanges(_:)`` does, so pieces of one tile share receive buffers.
    func sharedOperandRanges(_ pieces: [ElementwisePiece], _ pattern: BroadcastPattern) -> [Range<Int>] {
        let needed = pieces.map { pattern.operandRange(of: $0.positions) }
        var result = needed
        for (_, indices) in Dictionary(grouping: pieces.indices, by: { pieces[$0].tile }) {
            for (index, merged) in zip(indices, mergedOperandRanges(indices.map { needed[$0] })) { result[index] = merged }
        }
        return result
    }

    /// One tile's operand ranges, one per region: the regions' needed ranges merged where they
    /// overlap or touch, so regions that read the same operand elements connect the same view and
    /// share one receive buffer.
    func mergedOperandRanges(_ needed: [Range<Int>]) -> [Range<Int>] {
        var result = needed
        let sorted = needed.indices.sorted { needed[$0].lowerBound < needed[$1].lowerBound }
        var group: [Int] = [], merged = 0..<0
        for index in sorted + [-1] {
            if index >= 0, !group.isEmpty, needed[index].lowerBound <= merged.upperBound {
                merged = merged.lowerBound..<max(merged.upperBound, needed[index].upperBound)
                group.append(index)
                continue
            }
            for member in group { result[member] = merged }
            if index >= 0 {
                group = [index]
                merged = needed[index]
            }
        }
        return result
    }

    /// Runs (segments read with one stride by every operand) in `positions`.
    func broadcastRunCount(_ positions: Range<Int>, _ patterns: [BroadcastPattern]) -> Int {
        var runs = 0, position = positions.lowerBound
        while position < positions.upperBound {
            position += patterns.reduce(positions.upperBound - position) { min($0, $1.runLength(at: position)) }
            runs += 1
        }
        return runs
    }

    /// The NumPy broadcast shape of `a` and `b`, or nil if they do not broadcast.
    func numpyBroadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = max(a.count, b.count)
        var shape = [Int](repeating: 1, count: rank)
        for dim in 0..<rank {
            let x = dim < rank - a.count ? 1 : a[dim - (rank - a.count)]
            let y = dim < rank - b.count ? 1 : b[dim - (rank - b.count)]
            guard x == y || x == 1 || y == 1 else { return nil }
            shape[dim] = x == 1 ? y : x
        }
        return shape
    }
}
