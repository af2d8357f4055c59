import Dispatch
import TesseraGraph

/// How a program step touches a variable, for liveness.
enum AccessKind {
    case read
    case write
    /// `writeUndef`: the old value is dead.
    case kill
}

/// A field slot before placement: an allocation-relative byte offset. Held in 32 bits a field,
/// as the slots of every vertex are kept until the program is finalised.
struct SymbolicSlot {
    /// Index of the allocation, or -1 for an empty field.
    private var storedAllocation: Int32
    private var storedOffset: Int32
    private var storedCount: Int32

    init(allocation: Int?, offset: Int, count: Int) {
        storedAllocation = Int32(allocation ?? -1)
        storedOffset = Int32(offset)
        storedCount = Int32(count)
    }

    var allocation: Int? { storedAllocation < 0 ? nil : Int(storedAllocation) }
    var offset: Int { Int(storedOffset) }
    var count: Int { Int(storedCount) }
}

/// A step before placement.
struct SymbolicStep {
    var name: String
    var kind: StepKind
    var position: Int
    var exchangeIn: [PlannedCopy] = []
    /// The vertices in order, each with the index in `slots` of its first field's slot.
    var vertices: [(vertex: Int, firstSlot: Int)] = []
    /// The field slots of every vertex, vertex after vertex.
    var slots: [SymbolicSlot] = []
    var exchangeOut: [PlannedCopy] = []
    /// Whether no vertex of the step writes a variable that its exchange-in copies read, so that a
    /// tile's exchange-in and compute may run one after the other, before other tiles' (see ``Superstep/tileOrdered``).
    var tileOrdered = false
    /// The copies of each exchange phase that put a region on the exchange no earlier copy of
    /// the phase put there, found once for the exchange code (``TileOverheads``) and used again for the cycles.
    var firstSends = (exchangeIn: FirstSends(), exchangeOut: FirstSends())
    var host: (stream: Int, elementBytes: Int, pieces: [(endpoint: Endpoint, hostElement: Int, count: Int)])?
    var predicate: (endpoint: Endpoint, type: ElementType)?
    var collective: (kind: CollectiveKind, op: ReduceOperator, groupSize: Int,
                     operands: [(elementType: ElementType, elementCount: Int, pieces: [Piece])])?
}

/// Turns programs into steps with allocation-relative addresses, recording every access for liveness.
final class Lowering {
    let graph: Graph
    let target: Target
    var layouts: [DataLayout?]
    var allocations = ChunkedArray<Allocation>()
    var accesses: [[(position: Int, kind: AccessKind)]]
    var programsUsing: [Set<Int>]
    /// The program last added to each variable's `programsUsing`, so that a variable touched
    /// by thousands of fields of one program is not inserted thousands of times.
    private var lastProgramUsing: [Int]
    var loops: [ClosedRange<Int>] = []
    var steps: [SymbolicStep] = []
    var executedComputeSets: Set<Int> = []
    var position = 0
    var program = 0

    init(graph: Graph) {
        self.graph = graph
        target = graph.target
        layouts = Array(repeating: nil, count: graph.data.count)
        accesses = Array(repeating: [], count: graph.data.count)
        programsUsing = Array(repeating: [], count: graph.data.count)
        lastProgramUsing = Array(repeating: -1, count: graph.data.count)
        intervalHints = Array(repeating: SearchHint(), count: graph.data.count)
        shares = [VertexLowering(dataCount: graph.data.count), VertexLowering(dataCount: graph.data.count)]
        writtenRanges = Array(repeating: [], count: graph.data.count)
    }

    /// Every vertex's estimate, once ``keepEstimates()`` has taken them from the graph.
    private var keptEstimates: [Int]?

    /// Modelled cycles of vertex `index` (safe to call from concurrent tasks).
    func estimate(vertex index: Int) -> Int {
        keptEstimates?[index] ?? graph.estimatedCycles(ofVertex: index)
    }

    /// Takes every vertex's estimate from the graph (some are computed from its connections), so
    /// that the graph's connection tables can be released.
    func keepEstimates() {
        keptEstimates = graph.vertices.indices.map { graph.estimatedCycles(ofVertex: $0) }
    }

    // MARK: - Programs

    func lower(_ program: Program) throws(CompileError) -> PlannedProgram {
        switch program {
        case let .sequence(programs):
            var lowered: [PlannedProgram] = []
            for program in programs { lowered.append(try lower(program)) }
            return .sequence(lowered)
        case let .execute(computeSet):
            return .step(try lowerComputeSet(computeSet))
        case let .copy(source, destination):
            return try lowerCopy(source, destination)
        case let .repeat(count, body):
            guard count >= 0 else { throw .badRepeat(count: count) }
            let start = position
            let loweredBody = try lower(body)
            if position > start { loops.append(start...(position - 1)) }
            return .loop(count: count, body: loweredBody)
        case let .if(predicate, thenBody, elseBody):
            let step = try lowerPredicate(predicate)
            return .branch(predicateStep: step, then: try lower(thenBody), else: try lower(elseBody))
        case let .streamToDevice(stream, tensor):
            return .step(try lowerStream(stream, tensor, .hostToDevice))
        case let .streamToHost(tensor, stream):
            return .step(try lowerStream(stream, tensor, .deviceToHost))
        case let .writeUndef(tensor):
            record(tensor, .kill, at: nextPosition())
            return .nothing
        case let .allReduce(tensors, op, group):
            return .step(try lowerCollective(.allReduce, op, group, reads: tensors, writes: tensors))
        case let .reduceScatter(source, destination, op, group):
            return .step(try lowerCollective(.reduceScatter, op, group, reads: [source], writes: [destination]))
        case let .allGather(source, destination, group):
            return .step(try lowerCollective(.allGather, .sum, group, reads: [source], writes: [destination]))
        }
    }

    private func nextPosition() -> Int {
        defer { position += 1 }
        return position
    }

    func record(_ tensor: Tensor, _ kind: AccessKind, at position: Int) {
        record(tensor.elements.runs[...], kind, at: position)
    }

    func record(_ runs: ArraySlice<ElementRun>, _ kind: AccessKind, at position: Int) {
        var previous = -1
        for run in runs where run.data != previous {
            previous = run.data
            if lastProgramUsing[run.data] != program {
                programsUsing[run.data].insert(program)
                lastProgramUsing[run.data] = program
            }
            if let last = accesses[run.data].last, last.position == position {
                if kind == .read && last.kind != .read { accesses[run.data][accesses[run.data].count - 1].kind = .read }
                continue
            }
            accesses[run.data].append((position, kind))
        }
    }

    func pieces(of tensor: Tensor) -> [Piece] {
        var pieces: [Piece] = []
        self.pieces(of: tensor.elements.runs[...], into: &pieces, hints: &intervalHints)
        return pieces
    }

    /// Appends the pieces of `runs`, in order, to `pieces`; `hints` holds each variable's interval
    /// search hint (each share of a step keeps its own).
    func pieces(of runs: ArraySlice<ElementRun>, into pieces: inout [Piece], hints: inout [SearchHint]) {
        var data = -1
        var layout: DataLayout?
        for run in runs {
            if run.data != data {
                data = run.data
                layout = layouts[data]!
            }
            layout!.pieces(start: run.start, count: run.count, stride: run.stride, into: &pieces, hint: &hints[data])
        }
    }

    /// The tile of a planned copy's end: its allocation's.
    func tile(_ end: PlannedCopy.End) -> Int { allocations[end.allocation].tile }

    func endpoint(_ piece: Piece, advancedBy elements: Int, elementBytes: Int) -> Endpoint {
        Endpoint(tile: piece.tile, allocation: piece.allocation,
                 offset: (piece.element + elements * piece.stride) * elementBytes, stride: piece.stride * elementBytes)
    }

    // MARK: - Compute sets

    /// The two shares of a compute step's vertices (only the first when the step is small or its
    /// tiles interleave), kept from step to step so that their tables' capacity is reused.
    private var shares: [VertexLowering]
    /// The mapped interval of each variable last found holding a copy's or a stream's elements.
    private var intervalHints: [SearchHint]
    /// The element ranges each vertex of the compute step being lowered writes, by variable (and
    /// the variables written, in order), to check that no two vertices write the same element.
    private var writtenRanges: [[(begin: Int, end: Int, vertex: Int)]]
    private var writtenData: [Int] = []

    private func lowerComputeSet(_ computeSet: ComputeSet) throws(CompileError) -> Int {
        executedComputeSets.insert(computeSet.index)
        let position = nextPosition()
        var step = SymbolicStep(name: computeSet.name, kind: .compute, position: position)
        let members = graph.computeSetVertices[computeSet.index]
        let firstBuffer = allocations.count
        let split = tileDisjointSplit(members)
        if let split {
            shares.withUnsafeMutableBufferPointer { shares in
                let shared = UnsafeSendable((shares: shares, members: members, lowering: self))
                DispatchQueue.concurrentPerform(iterations: 2) { k in
                    let (shares, members, lowering) = shared.value
                    shares[k].lower(k == 0 ? members[..<split] : members[split...], of: lowering, position: position, firstBuffer: firstBuffer)
                }
            }
        } else {
            shares[0].lower(members[...], of: self, position: position, firstBuffer: firstBuffer)
        }
        let (exchangeIn, exchangeOut) = merge(shares.prefix(split == nil ? 1 : 2), into: &step, firstBuffer: firstBuffer)
        step.tileOrdered = !exchangeIn.contains { copy in
            allocations[copy.source.allocation].data.map { !writtenRanges[$0].isEmpty } ?? true
        }
        step.exchangeIn = exchangeIn
        step.exchangeOut = exchangeOut
        try checkOverlaps(computeSet: computeSet)
        steps.append(step)
        return steps.count - 1
    }

    /// Appends `merged` (the step's shares, in vertex order) to `step`'s vertices and slots and their
    /// buffers to the allocations, each later share's buffers numbered after the earlier ones', and
    /// records their accesses; returns their copies, in exact-capacity arrays (a step keeps its
    /// tables until the program is finalised).
    private func merge(_ merged: ArraySlice<VertexLowering>, into step: inout SymbolicStep,
                       firstBuffer: Int) -> (exchangeIn: [PlannedCopy], exchangeOut: [PlannedCopy]) {
        /// `allocation` as numbered once `earlier` buffers of the shares before come first.
        func moved(_ allocation: Int, past earlier: Int) -> Int { allocation >= firstBuffer ? allocation + earlier : allocation }
        /// Share `share`'s copies of a phase, from `next` on, their buffers numbered after `earlier` buffers of the shares before.
        func copy(_ copies: [PlannedCopy], to next: UnsafeMutablePointer<PlannedCopy>, earlier: Int) {
            var next = next
            for var copy in copies {
                if earlier > 0 {
                    copy.source = PlannedCopy.End(allocation: moved(copy.source.allocation, past: earlier), offset: copy.source.offset,
                                                  stride: copy.source.stride)
                    copy.destination = PlannedCopy.End(allocation: moved(copy.destination.allocation, past: earlier),
                                                       offset: copy.destination.offset, stride: copy.destination.stride)
                }
                next.initialize(to: copy)
                next += 1
            }
        }
        /// One phase's copies of every share, in order, in an exact-capacity table on huge pages when
        /// large; two shares are copied at once (faulting a large table in is most of the work).
        func joined(_ phase: (VertexLowering) -> [PlannedCopy]) -> [PlannedCopy] {
            let parts = merged.map(phase), total = parts.reduce(0) { $0 + $1.count }
            var starts = [0], earlier = [0]
            for (share, part) in zip(merged, parts) {
                starts.append(starts[starts.count - 1] + part.count)
                earlier.append(earlier[earlier.count - 1] + share.buffers.count)
            }
            return [PlannedCopy](unsafeUninitializedCapacity: total) { table, initialized in
                guard let base = table.baseAddress else { return }
                adviseHugePages(UnsafeMutableRawPointer(base), bytes: total * MemoryLayout<PlannedCopy>.stride)
                if parts.count == 2 {
                    let shared = UnsafeSendable((copy: copy, parts: parts, base: base, starts: starts, earlier: earlier))
                    DispatchQueue.concurrentPerform(iterations: 2) { k in
                        let (copy, parts, base, starts, earlier) = shared.value
                        copy(parts[k], base + starts[k], earlier[k])
                    }
                } else {
                    for k in parts.indices { copy(parts[k], to: base + starts[k], earlier: earlier[k]) }
                }
                initialized = total
            }
        }
        step.vertices.reserveCapacity(merged.reduce(0) { $0 + $1.vertices.count })
        step.slots.reserveCapacity(merged.reduce(0) { $0 + $1.slots.count })
        var earlier = 0
        for share in merged {
            let slotBase = step.slots.count
            step.vertices.append(contentsOf: share.vertices.lazy.map { ($0.vertex, $0.firstSlot + slotBase) })
            step.slots.append(contentsOf: share.slots.lazy.map { slot in
                slot.allocation.map { SymbolicSlot(allocation: moved($0, past: earlier), offset: slot.offset, count: slot.count) } ?? slot
            })
            for buffer in share.buffers { allocations.append(buffer) }
            for access in share.accesses {
                let elements = share.runs[access.runs]
                record(elements, access.kind, at: step.position)
                if access.kind == .write { for run in elements { noteWrite(run, vertex: access.vertex) } }
            }
            earlier += share.buffers.count
        }
        return (joined { $0.exchangeIn }, joined { $0.exchangeOut })
    }

    /// Frees the shares' scratch tables once every program is lowered.
    func releaseScratch() {
        shares = []
    }

    /// Where to cut `members` into two shares of about half the vertices each, whose vertices lie on
    /// disjoint tiles (so neither share's fields or buffers meet the other's), or nil for a step of
    /// fewer than 256 vertices or whose halves share a tile.
    private func tileDisjointSplit(_ members: [Int]) -> Int? {
        guard members.count >= 256 else { return nil }
        let tiles = members.map { graph.tile(ofVertex: $0) }
        var split = members.count / 2
        while split < tiles.count && tiles[split] == tiles[split - 1] { split += 1 }
        guard split < tiles.count else { return nil }
        var inFirst = [Bool](repeating: false, count: target.tiles)
        for tile in tiles[..<split] { inFirst[tile] = true }
        return tiles[split...].contains { inFirst[$0] } ? nil : split
    }

    private func noteWrite(_ run: ElementRun, vertex: Int) {
        if writtenRanges[run.data].isEmpty { writtenData.append(run.data) }
        if run.stride == 1 || run.count == 1 {
            writtenRanges[run.data].append((run.start, run.start + run.count, vertex))
        } else {
            for i in 0..<run.count { writtenRanges[run.data].append((run.element(i), run.element(i) + 1, vertex)) }
        }
    }

    /// Throws if two vertices of the step write one element; forgets the step's writes.
    private func checkOverlaps(computeSet: ComputeSet) throws(CompileError) {
        defer {
            for data in writtenData { writtenRanges[data].removeAll() }
            writtenData.removeAll(keepingCapacity: true)
        }
        for data in writtenData {
            let sorted = writtenRanges[data].sorted { $0.begin < $1.begin }
            for (a, b) in zip(sorted, sorted.dropFirst()) where b.begin < a.end {
                let name = { (v: Int) in "\(self.graph.vertices[v].codelet.name) #\(v) on tile \(self.graph.vertices[v].tile)" }
                throw .overlappingOutputs(computeSet: computeSet.name, tensor: graph.data[data].name,
                                          element: b.begin, vertices: (name(a.vertex), name(b.vertex)))
            }
        }
    }

    // MARK: - Copies, streams, predicates

    private func lowerCopy(_ source: Tensor, _ destination: Tensor) throws(CompileError) -> PlannedProgram {
        guard source.elementType == destination.elementType, source.shape == destination.shape else {
            throw .badCopy(detail: "source '\(graph.name(of: source))' \(source) and destination '\(graph.name(of: destination))' \(destination) differ in type or shape")
        }
        guard source.elementCount > 0 else { return .nothing }
        let position = nextPosition()
        record(source, .read, at: position)
        record(destination, .write, at: position)
        var step = SymbolicStep(name: "copy \(graph.name(of: source)) → \(graph.name(of: destination))", kind: .copy, position: position)
        let elementBytes = source.elementType.byteSize
        let sourcePieces = pieces(of: source), destinationPieces = pieces(of: destination)
        if destinationPieces.contains(where: { $0.stride == 0 && $0.count > 1 }) {
            throw .badCopy(detail: "destination '\(graph.name(of: destination))' repeats an element (a broadcast view)")
        }
        var i = 0, j = 0, doneInSource = 0, doneInDestination = 0, merger = CopyMerger()
        while i < sourcePieces.count && j < destinationPieces.count {
            let a = sourcePieces[i], b = destinationPieces[j]
            let count = min(a.count - doneInSource, b.count - doneInDestination)
            merger.append(PlannedCopy(
                source: endpoint(a, advancedBy: doneInSource, elementBytes: elementBytes),
                destination: endpoint(b, advancedBy: doneInDestination, elementBytes: elementBytes),
                count: count, elementBytes: elementBytes), to: &step.exchangeIn)
            doneInSource += count
            doneInDestination += count
            if doneInSource == a.count { i += 1; doneInSource = 0 }
            if doneInDestination == b.count { j += 1; doneInDestination = 0 }
        }
        steps.append(step)
        return .step(steps.count - 1)
    }

    private func lowerStream(_ stream: HostStream, _ tensor: Tensor, _ direction: StreamDirection) throws(CompileError) -> Int {
        guard stream.direction == direction else {
            throw .badStream(stream: stream.name, detail: "is \(stream.direction), used for \(direction)")
        }
        guard stream.elementType == tensor.elementType, stream.elementCount == tensor.elementCount else {
            throw .badStream(stream: stream.name, detail: "carries \(stream.elementCount) \(stream.elementType) elements per copy, tensor '\(graph.name(of: tensor))' is \(tensor)")
        }
        let position = nextPosition()
        record(tensor, direction == .hostToDevice ? .write : .read, at: position)
        let elementBytes = tensor.elementType.byteSize
        let pieces = pieces(of: tensor)
        if direction == .hostToDevice, pieces.contains(where: { $0.stride == 0 && $0.count > 1 }) {
            throw .badStream(stream: stream.name, detail: "destination '\(graph.name(of: tensor))' repeats an element (a broadcast view)")
        }
        var step = SymbolicStep(name: "\(direction == .hostToDevice ? "stream in" : "stream out") \(stream.name)",
                                kind: direction == .hostToDevice ? .hostToDevice : .deviceToHost, position: position)
        var hostElement = 0
        var hostPieces: [(endpoint: Endpoint, hostElement: Int, count: Int)] = []
        for piece in pieces {
            hostPieces.append((endpoint(piece, advancedBy: 0, elementBytes: elementBytes), hostElement, piece.count))
            hostElement += piece.count
        }
        step.host = (stream.index, elementBytes, hostPieces)
        steps.append(step)
        return steps.count - 1
    }

    private func lowerCollective(_ kind: CollectiveKind, _ op: ReduceOperator, _ group: ReplicaGroup,
                                 reads: [Tensor], writes: [Tensor]) throws(CompileError) -> Int {
        let name = "\(kind.rawValue)(\(reads.map { graph.name(of: $0) }.joined(separator: ", ")))"
        let replicas = graph.replicas
        let size = group.size ?? replicas
        guard size >= 1, replicas % size == 0 else {
            throw .badCollective(collective: name, detail: "groups of \(size) replicas do not divide the \(replicas) replicas")
        }
        let operands = kind == .allReduce ? reads : reads + writes
        guard !operands.isEmpty else { throw .badCollective(collective: name, detail: "no tensors") }
        let wholeOperands = kind == .allReduce ? reads : kind == .reduceScatter ? reads : writes
        for tensor in wholeOperands {
            for run in tensor.elements.runs {
                if let whole = graph.data[run.data].shardOfElements {
                    throw .badCollective(collective: name, detail: "'\(graph.data[run.data].name)' is replica-sharded (a shard of \(whole) elements per replica) but is used as a whole tensor; all-gather it first")
                }
            }
        }
        for tensor in writes where pieces(of: tensor).contains(where: { $0.stride == 0 && $0.count > 1 }) {
            throw .badCollective(collective: name, detail: "output '\(graph.name(of: tensor))' repeats an element (a broadcast view)")
        }
        if kind != .allReduce {
            let source = reads[0], destination = writes[0]
            guard source.elementType == destination.elementType else {
                throw .badCollective(collective: name, detail: "input is \(source.elementType), output is \(destination.elementType)")
            }
            let shard = (source.elementCount + size - 1) / size
            let (expected, rule) = kind == .reduceScatter
                ? (shard...shard, "one shard of ⌈\(source.elementCount) / \(size)⌉ = \(shard) elements")
                : (((size - 1) * source.elementCount + 1)...(size * source.elementCount),
                   "\((size - 1) * source.elementCount + 1)...\(size * source.elementCount) elements (the group's \(size) shards of \(source.elementCount))")
            guard expected.contains(destination.elementCount) else {
                throw .badCollective(collective: name, detail: "output '\(graph.name(of: destination))' has \(destination.elementCount) elements, needs \(rule)")
            }
        }
        let position = nextPosition()
        for tensor in reads { record(tensor, .read, at: position) }
        for tensor in writes where kind != .allReduce { record(tensor, .write, at: position) }
        var step = SymbolicStep(name: name, kind: .collective, position: position)
        step.collective = (kind, op, size, operands.map { ($0.elementType, $0.elementCount, pieces(of: $0)) })
        steps.append(step)
        return steps.count - 1
    }

    private func lowerPredicate(_ predicate: Tensor) throws(CompileError) -> Int {
        guard predicate.elementCount == 1 else {
            throw .badPredicate(detail: "predicate '\(graph.name(of: predicate))' has \(predicate.elementCount) elements, needs 1")
        }
        let position = nextPosition()
        record(predicate, .read, at: position)
        let piece = pieces(of: predicate)[0]
        var step = SymbolicStep(name: "if \(graph.name(of: predicate))", kind: .predicate, position: position)
        step.predicate = (endpoint(piece, advancedBy: 0, elementBytes: predicate.elementType.byteSize), predicate.elementType)
        steps.append(step)
        return steps.count - 1
    }
}
