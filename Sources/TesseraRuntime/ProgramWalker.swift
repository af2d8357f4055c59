import TesseraCompiler
import TesseraGraph

/// One worker's walk through a program: every worker takes the same path (loop counts are static
/// and every worker reads the same predicate after a barrier) and does the part of each phase that
/// belongs to its tiles.
struct ProgramWalker {
    let engine: Engine
    let worker: Int
    let tiles: Range<Int>
    /// Next ring slot of every stream (each worker keeps its own identical copy).
    var cursors: [Int]
    let record: RecordBox?
    /// Where this worker's time goes, when the engine times host phases.
    var stopwatch: PhaseStopwatch
    /// Barriers passed in this run: every worker counts the same phases.
    var phase = 0

    mutating func walk(_ program: PlannedProgram) {
        switch program {
        case let .sequence(programs):
            for program in programs { walk(program) }
        case let .step(index):
            run(step: index)
        case let .loop(count, body):
            for _ in 0..<count { walk(body) }
        case let .branch(predicateStep, thenBody, elseBody):
            run(step: predicateStep)
            walk(readPredicate(engine.executable.supersteps[predicateStep].predicate!) ? thenBody : elseBody)
        case .nothing:
            break
        }
    }

    private mutating func run(step index: Int) {
        let step = engine.executable.supersteps[index]
        if step.tileOrdered && !step.exchangeIn.isEmpty && !step.compute.vertices.isEmpty {
            waitAtBarrier()
            var shares = shares(of: step.compute.vertices.tiles)
            while let tiles = shares.next() { copyAndCompute(step.exchangeIn, step.compute, tiles: tiles) }
        } else {
            if !step.exchangeIn.isEmpty {
                waitAtBarrier()
                var shares = shares(of: step.exchangeIn.tiles)
                while let tiles = shares.next() { copy(step.exchangeIn, tiles: tiles) }
                stopwatch.mark(.copy)
            }
            if !step.compute.vertices.isEmpty {
                waitAtBarrier()
                var shares = shares(of: step.compute.vertices.tiles)
                while let tiles = shares.next() { compute(step.compute, tiles: tiles) }
                stopwatch.mark(.vertex)
            }
        }
        if !step.exchangeOut.isEmpty {
            waitAtBarrier()
            var shares = shares(of: step.exchangeOut.tiles)
            while let tiles = shares.next() { copy(step.exchangeOut, tiles: tiles) }
            stopwatch.mark(.copy)
        }
        if let host = step.host {
            waitAtBarrier()
            transfer(host)
        }
        if let collective = step.collective {
            waitAtBarrier()
            engine.transport.run(collective, on: engine.replicaMemory, worker: worker, of: engine.pool.threadCount)
        }
        if step.predicate != nil { waitAtBarrier() }
        record?.note(index)
        stopwatch.mark(.other)
    }

    /// Waits at the pool's barrier, charging the time before it to `other` and the wait to `wait`,
    /// and counts the phase that begins (worker 0 readies the claims of the one after it).
    private mutating func waitAtBarrier() {
        stopwatch.mark(.other)
        engine.pool.barrier.wait()
        phase += 1
        if worker == 0 { engine.claims.reset(phase: phase + 1) }
        stopwatch.mark(.wait)
    }

    /// This worker's tiles in the current phase, whose busy tiles are `busy` (sorted): with
    /// ``Engine/balancesSteps``, the chunks of the busy tiles it claims (a step using 1,344 of 1,472
    /// tiles, or whose tiles take unequal time, leaves no worker idle while another has work left),
    /// else its own block.
    private func shares(of busy: [Int32]) -> PhaseShares {
        PhaseShares(busy: busy, claims: engine.balancesSteps ? engine.claims : nil, phase: phase,
                    workers: engine.pool.threadCount, tiles: engine.executable.target.tiles, block: tiles)
    }

    /// Calls `body(first tile of the replica, local tiles)` for every replica whose tiles overlap `tiles`.
    private func forEachReplica(in tiles: Range<Int>? = nil, _ body: (Int, Range<Int>) -> Void) {
        let tiles = tiles ?? self.tiles
        let perReplica = engine.executable.target.tiles
        guard !tiles.isEmpty else { return }
        for replica in (tiles.lowerBound / perReplica)...((tiles.upperBound - 1) / perReplica) {
            let base = replica * perReplica
            body(base, max(tiles.lowerBound - base, 0)..<min(tiles.upperBound - base, perReplica))
        }
    }

    private func copy(_ plan: TileGrouped<CopyOp>, tiles: Range<Int>) {
        plan.items.withUnsafeBufferPointer { ops in
            forEachReplica(in: tiles) { base, local in
                for group in plan.groups(inTiles: local) { copy(group: group, of: plan, ops: ops, replicaBase: base) }
            }
        }
    }

    private func compute(_ plan: ComputePlan, tiles: Range<Int>) {
        withVertices(of: plan) { vertices in
            forEachReplica(in: tiles) { base, local in
                for group in plan.vertices.groups(inTiles: local) { compute(group: group, of: plan, vertices, replicaBase: base) }
            }
        }
    }

    /// A tile-ordered step's exchange-in and compute, tile by tile: each tile's copies and then its
    /// vertices, so the vertices read their fields while the copies have left them in cache.
    private mutating func copyAndCompute(_ copies: TileGrouped<CopyOp>, _ plan: ComputePlan, tiles: Range<Int>) {
        // The closures below read `self`; the stopwatch is updated through a local and stored back.
        var clock = stopwatch
        defer { stopwatch = clock }
        copies.items.withUnsafeBufferPointer { ops in
            withVertices(of: plan) { vertices in
                forEachReplica(in: tiles) { base, local in
                    var copyGroups = copies.groups(inTiles: local)
                    for group in plan.vertices.groups(inTiles: local) {
                        let tile = plan.vertices.tiles[group]
                        while let next = copyGroups.first, copies.tiles[next] <= tile {
                            copy(group: next, of: copies, ops: ops, replicaBase: base)
                            copyGroups = copyGroups.dropFirst()
                        }
                        clock.mark(.copy)
                        compute(group: group, of: plan, vertices, replicaBase: base)
                        clock.mark(.vertex)
                    }
                    for group in copyGroups { copy(group: group, of: copies, ops: ops, replicaBase: base) }
                    clock.mark(.copy)
                }
            }
        }
    }

    /// The copies of group `group` (one destination tile) of `plan`, whose items are `ops`, in the
    /// replica whose first tile is `base`.
    @inline(__always)
    private func copy(group: Int, of plan: TileGrouped<CopyOp>, ops: UnsafeBufferPointer<CopyOp>, replicaBase base: Int) {
        let tileBase = engine.tileBase
        let destinationBase = tileBase[base + Int(plan.tiles[group])]
        for index in plan.tileStart[group]..<plan.tileStart[group + 1] {
            let op = ops[index]
            var source = UnsafeRawPointer(tileBase[base &+ Int(op.sourceTile)] + Int(op.sourceOffset))
            var destination = destinationBase + Int(op.destinationOffset)
            let sourceRowStride = Int(op.sourceRowStride), destinationRowStride = Int(op.destinationRowStride)
            // Rows stepped, not multiplied (offsets and strides are 32-bit, so nothing here overflows).
            for _ in 0..<Int(op.rows) {
                stridedCopy(from: source, stride: Int(op.sourceStride), to: destination, stride: Int(op.destinationStride),
                            count: Int(op.count), elementBytes: Int(op.elementBytes))
                source += sourceRowStride
                destination += destinationRowStride
            }
        }
    }

    /// A compute plan's vertices and slots as buffers, opened once for a whole phase.
    private struct VertexBuffers {
        let items: UnsafeBufferPointer<PlacedVertex>
        let firstSlot: UnsafePointer<FieldSlot>
    }

    private func withVertices(of plan: ComputePlan, _ body: (VertexBuffers) -> Void) {
        plan.slots.withUnsafeBufferPointer { slots in
            let firstSlot = slots.baseAddress ?? UnsafePointer(bitPattern: MemoryLayout<FieldSlot>.alignment)!
            plan.vertices.items.withUnsafeBufferPointer { items in body(VertexBuffers(items: items, firstSlot: firstSlot)) }
        }
    }

    /// The vertices of group `group` (one tile) of `plan`, in the replica whose first tile is `base`.
    @inline(__always)
    private func compute(group: Int, of plan: ComputePlan, _ buffers: VertexBuffers, replicaBase base: Int) {
        let memory = engine.tileBase[base + Int(plan.vertices.tiles[group])]
        for index in plan.vertices.tileStart[group]..<plan.vertices.tileStart[group + 1] {
            // Through the buffer's address, not a copy: copying the existential retains its box.
            let vertex = buffers.items.baseAddress! + index
            vertex.pointee.codelet.compute(VertexFields(memory: memory, slots: buffers.firstSlot + vertex.pointee.firstSlot))
        }
    }

    private mutating func transfer(_ host: HostTransfer) {
        let rings = engine.streamRings[host.stream]
        let cursor = cursors[host.stream]
        cursors[host.stream] += 1
        let tileBase = engine.tileBase
        let bytes = host.elementBytes
        let pieces = host.pieces
        let perReplica = engine.executable.target.tiles
        forEachReplica { base, local in
            let ring = rings[base / perReplica]
            let chunk = ring.base + (cursor % ring.chunks) * ring.chunkBytes
            for group in pieces.groups(inTiles: local) {
                let memory = tileBase[base + Int(pieces.tiles[group])]
                for index in pieces.tileStart[group]..<pieces.tileStart[group + 1] {
                    let piece = pieces.items[index]
                    let hostAddress = chunk + piece.hostElement * bytes
                    let tileAddress = memory + piece.tileOffset
                    if host.direction == .hostToDevice {
                        stridedCopy(from: hostAddress, stride: bytes, to: tileAddress, stride: piece.tileStride, count: piece.count, elementBytes: bytes)
                    } else {
                        stridedCopy(from: tileAddress, stride: piece.tileStride, to: hostAddress, stride: bytes, count: piece.count, elementBytes: bytes)
                    }
                }
            }
        }
    }

    /// The predicate as replica 0 holds it; programs branch the same way in every replica.
    private func readPredicate(_ location: PredicateLocation) -> Bool {
        let address = engine.tileBase[location.tile] + location.offset
        switch location.type {
        case .float32: return address.loadUnaligned(as: Float.self) != 0
        case .float16: return address.loadUnaligned(as: Float16.self) != 0
        case .int32, .uint32: return address.loadUnaligned(as: UInt32.self) != 0
        case .uint8: return address.load(as: UInt8.self) != 0
        }
    }
}
