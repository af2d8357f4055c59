import Dispatch
import TesseraGraph

/// Turns placed steps into the executable: absolute tile offsets, copies grouped by destination
/// tile, vertices grouped by tile, and the modelled cycles of every step.
struct Finalizer {
    let lowering: Lowering
    let offsets: [Int]

    /// The executable, with `statistics` completed by the time this phase takes.
    func executable(programs: [PlannedProgram], memory: MemoryProfile, statistics: CompileStatistics) -> Executable {
        let graph = lowering.graph
        var supersteps: [Superstep] = []
        var cycles: [StepCycles] = []
        var tileCycles: [[Int]] = []
        var statistics = statistics
        statistics.time("finalize") {
            let count = lowering.steps.count
            var results = [(Superstep, StepCycles, [Int])?](repeating: nil, count: count)
            // Steps are independent: finalise them in parallel, each task taking its own step out
            // of the plan (so the planned and the final copies of the whole program are never
            // held at once) and writing its own result.
            lowering.steps.withUnsafeMutableBufferPointer { steps in
                results.withUnsafeMutableBufferPointer { results in
                    let shared = UnsafeSendable((steps: steps, results: results, finalizer: self))
                    DispatchQueue.concurrentPerform(iterations: count) { index in
                        let (steps, results, finalizer) = shared.value
                        let step = steps[index]
                        steps[index] = SymbolicStep(name: step.name, kind: step.kind, position: step.position)
                        results[index] = finalizer.finalize(step, index: index)
                    }
                }
            }
            supersteps.reserveCapacity(count)
            cycles.reserveCapacity(count)
            tileCycles.reserveCapacity(count)
            for index in results.indices {
                let (superstep, stepCycles, perTile) = results[index]!
                results[index] = nil
                supersteps.append(superstep)
                cycles.append(stepCycles)
                tileCycles.append(perTile)
            }
        }
        // Only always-live data keeps its intervals: the host reads and writes nothing else, and the
        // intervals of a model's activations are most of the program's tables.
        let data: [DataPlacement?] = graph.data.enumerated().map { index, record in
            guard let layout = lowering.layouts[index] else { return nil }
            let bytes = record.elementType.byteSize
            let alwaysLive = layout.intervals.isEmpty ? true : lowering.allocations[layout.allocation(0)].alwaysLive
            let byteOffsets = alwaysLive ? layout.intervals.indices.map { Int32(offsets[layout.allocation($0)] + layout.blockOffset($0) * bytes) } : []
            return DataPlacement(name: record.name, elementType: record.elementType, intervals: alwaysLive ? layout.intervals : [],
                                 byteOffsets: byteOffsets, alwaysLive: alwaysLive, constantBytes: record.constantBytes,
                                 isReplicaIndex: record.isReplicaIndex)
        }
        return Executable(target: graph.target, replicas: graph.replicas, memory: memory, steps: cycles, graphID: graph.id,
                          supersteps: supersteps, programs: programs, data: data, streams: graph.streams,
                          tileComputeCycles: tileCycles, statistics: statistics)
    }

    private func address(_ endpoint: Endpoint) -> Int { offsets[endpoint.allocation] + endpoint.offset }
    private func address(_ end: PlannedCopy.End) -> Int { offsets[end.allocation] + end.offset }

    private func copyOp(_ copy: PlannedCopy) -> CopyOp {
        CopyOp(sourceTile: Int32(lowering.tile(copy.source)),
               count: Int32(copy.count), elementBytes: Int32(copy.elementBytes),
               sourceOffset: Int32(address(copy.source)), destinationOffset: Int32(address(copy.destination)),
               sourceStride: Int32(copy.source.stride), destinationStride: Int32(copy.destination.stride),
               rows: Int32(copy.rows), sourceRowStride: Int32(copy.sourceRowStride), destinationRowStride: Int32(copy.destinationRowStride))
    }

    private func finalize(_ step: SymbolicStep, index: Int) -> (Superstep, StepCycles, [Int]) {
        let target = lowering.target
        let graph = lowering.graph
        var superstep = Superstep()
        var cycles = StepCycles(index: index, name: step.name, kind: step.kind)
        var tileCompute = [Int](repeating: 0, count: target.tiles)

        func exchangePhase(_ copies: [PlannedCopy], firstSends: FirstSends) -> (TileGrouped<CopyOp>, Int) {
            var sent = [Int](repeating: 0, count: target.tiles), received = sent
            for (index, copy) in copies.enumerated() {
                let bytes = copy.bytes, sourceTile = lowering.tile(copy.source), destinationTile = lowering.tile(copy.destination)
                if sourceTile == destinationTile {
                    tileCompute[destinationTile] += copy.rows * CycleModel.onTileCopy(copy.rowBytes, target: target)
                    cycles.onTileCopyBytes += bytes
                } else {
                    if firstSends[index] { sent[sourceTile] += bytes }
                    received[destinationTile] += bytes
                    cycles.exchangedBytes += bytes
                }
            }
            let grouped = TileGrouped(copies, tile: { lowering.tile($0.destination) }, item: copyOp)
            return (grouped, CycleModel.exchange(sent: sent, received: received, target: target))
        }

        let exchangeIn = exchangePhase(step.exchangeIn, firstSends: step.firstSends.exchangeIn)
        superstep.exchangeIn = exchangeIn.0
        superstep.tileOrdered = step.tileOrdered
        var estimates = [[Int]](repeating: [], count: step.vertices.isEmpty ? 0 : target.tiles)
        for (vertex, _) in step.vertices {
            estimates[graph.tile(ofVertex: vertex)].append(lowering.estimate(vertex: vertex))
        }
        let placed = step.slots.map { FieldSlot(offset: ($0.allocation.map { offsets[$0] } ?? 0) + $0.offset, count: $0.count) }
        let grouped = TileGrouped(Array(step.vertices.indices), tile: { graph.tile(ofVertex: step.vertices[$0].vertex) }, item: { $0 })
        superstep.compute.vertices.tiles = grouped.tiles
        superstep.compute.vertices.tileStart = grouped.tileStart
        superstep.compute.vertices.items.reserveCapacity(grouped.items.count)
        superstep.compute.slots.reserveCapacity(placed.count)
        for index in grouped.items {
            let (vertex, first) = step.vertices[index]
            let end = index + 1 < step.vertices.count ? step.vertices[index + 1].firstSlot : step.slots.count
            superstep.compute.vertices.items.append(PlacedVertex(codelet: graph.vertices[vertex].codelet, firstSlot: superstep.compute.slots.count))
            superstep.compute.slots.append(contentsOf: placed[first..<end])
        }
        for (tile, list) in estimates.enumerated() where !list.isEmpty { tileCompute[tile] += CycleModel.workerSchedule(list, target: target) }
        cycles.vertices = step.vertices.count
        let exchangeOut = exchangePhase(step.exchangeOut, firstSends: step.firstSends.exchangeOut)
        superstep.exchangeOut = exchangeOut.0

        cycles.exchangeInCycles = exchangeIn.1
        cycles.exchangeOutCycles = exchangeOut.1
        let active = tileCompute.filter { $0 > 0 }
        cycles.computeCycles = active.max() ?? 0
        cycles.activeTiles = active.count
        cycles.tileComputeMin = active.min() ?? 0
        cycles.tileComputeMean = active.isEmpty ? 0 : Double(active.reduce(0, +)) / Double(active.count)
        let phases = [exchangeIn.1, cycles.computeCycles, exchangeOut.1].filter { $0 > 0 }.count
        cycles.syncCycles = phases * target.syncCycles

        if let host = step.host {
            let stream = graph.streams[host.stream]
            var pieces: [(tile: Int, item: HostPiece)] = []
            for piece in host.pieces {
                pieces.append((piece.endpoint.tile, HostPiece(tileOffset: address(piece.endpoint), tileStride: piece.endpoint.stride,
                                                             hostElement: piece.hostElement, count: piece.count)))
            }
            superstep.host = HostTransfer(stream: host.stream, direction: stream.direction, elementBytes: host.elementBytes,
                                          pieces: TileGrouped(pieces))
            cycles.hostBytes = stream.elementCount * host.elementBytes
            cycles.hostCycles = CycleModel.host(cycles.hostBytes, target: target)
            cycles.syncCycles += target.syncCycles
        }
        if let collective = step.collective {
            var perTile = [Int](repeating: 0, count: target.tiles)
            let operands = collective.operands.map { operand in
                var pieces: [(tile: Int, offset: Int, stride: Int, count: Int)] = [], starts: [Int] = []
                var position = 0
                for piece in operand.pieces {
                    let bytes = operand.elementType.byteSize
                    let end = lowering.endpoint(piece, advancedBy: 0, elementBytes: bytes)
                    pieces.append((piece.tile, address(end), end.stride, piece.count))
                    starts.append(position)
                    position += piece.count
                    perTile[piece.tile] += piece.count * bytes
                }
                return CollectiveOperand(elementType: operand.elementType, elementCount: operand.elementCount, pieces: pieces, pieceStart: starts)
            }
            superstep.collective = CollectivePlan(kind: collective.kind, op: collective.op, groupSize: collective.groupSize, operands: operands)
            let inputs = collective.kind == .allReduce ? operands : [operands[0]]
            cycles.collectiveBytes = inputs.reduce(0) { $0 + $1.elementCount * $1.elementType.byteSize }
            cycles.collectiveCycles = CycleModel.collective(kind: collective.kind, bytes: cycles.collectiveBytes, groupSize: collective.groupSize,
                                                            busiestTileBytes: perTile.max() ?? 0, target: target)
            cycles.syncCycles += target.syncCycles
        }
        if let predicate = step.predicate {
            superstep.predicate = PredicateLocation(tile: predicate.endpoint.tile, offset: address(predicate.endpoint), type: predicate.type)
            cycles.syncCycles += target.syncCycles
            cycles.exchangeInCycles += target.exchangeFixedCycles
        }
        return (superstep, cycles, tileCompute)
    }
}
