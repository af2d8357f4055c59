import TesseraGraph

/// Compiles a graph and its programs into an ``Executable``: validates them, lowers every
/// off-tile field access into exchange, decides liveness, places every byte of every tile, and
/// costs every step.
public enum Compiler {
    /// Compiles `graph` with one program (program 0 of the executable).
    public static func compile(_ graph: Graph, program: Program, options: CompileOptions = .init()) throws(CompileError) -> Executable {
        try compile(graph, programs: [program], options: options)
    }

    /// Compiles `graph` with several programs, run by index on the engine. Variables used by more
    /// than one program are always live.
    public static func compile(_ graph: Graph, programs: [Program], options: CompileOptions = .init()) throws(CompileError) -> Executable {
        guard !graph.connectionsReleased else { throw .connectionsReleased }
        if let problem = targetProblem(graph.target) { throw .badTarget(name: graph.target.name, detail: problem) }
        if let bad = graph.data.first(where: { $0.shapeProblem != nil }) {
            throw .badVariable(name: bad.name, detail: bad.shapeProblem!)
        }
        graph.releaseBuildTables()
        var statistics = CompileStatistics()
        var used = [Bool](repeating: false, count: graph.data.count)
        try statistics.time("validate") { () throws(CompileError) in
            for program in programs { try collectData(program, graph: graph, into: &used) }
        }
        let lowering = Lowering(graph: graph)
        try statistics.time("lay out") { () throws(CompileError) in try layOutData(used: used, lowering: lowering) }
        let planned = try statistics.time("lower") { () throws(CompileError) in
            var planned: [PlannedProgram] = []
            for (index, program) in programs.enumerated() {
                lowering.program = index
                planned.append(try lowering.lower(program))
            }
            lowering.releaseScratch()
            return planned
        }
        let liveSteps = statistics.time("liveness") { Liveness.assign(lowering) }
        statistics.time("overheads") { TileOverheads.add(to: lowering, options: options) }
        if options.releasesConnections {
            lowering.keepEstimates()
            graph.releaseConnections()
        }
        let placement = statistics.time("place") {
            Placement(allocations: lowering.allocations, tiles: graph.target.tiles, alignment: options.alignment)
        }
        statistics.vertices = lowering.steps.reduce(0) { $0 + $1.vertices.count }
        statistics.copies = lowering.steps.reduce(0) { $0 + $1.exchangeIn.count + $1.exchangeOut.count }
        statistics.allocations = lowering.allocations.count
        statistics.steps = lowering.steps.count
        let profile = MemoryProfile(target: graph.target, tiles: placement.tileMemory,
                                    variables: variableSummary(lowering, liveSteps: liveSteps))
        let over = profile.tilesOverBudget
        if !over.isEmpty {
            let worst = profile.fullestTile
            let stepNames = Dictionary(lowering.steps.map { ($0.position, $0.name) }, uniquingKeysWith: { first, _ in first })
            let blocks = lowering.allocations.filter { $0.tile == worst.tile && $0.bytes > 0 }.sorted { $0.bytes > $1.bytes }.prefix(5).map {
                MemoryBlock(name: blockName($0, graph: graph, stepNames: stepNames), category: $0.category, bytes: $0.bytes)
            }
            throw .outOfMemory(OutOfMemory(tile: worst.tile, bytesUsed: worst.totalBytes, bytesPerTile: graph.target.bytesPerTile,
                                           tilesOverBudget: over.count, profile: profile, largestBlocks: Array(blocks),
                                           peakStep: worst.peakStep.flatMap { stepNames[$0] }))
        }
        return Finalizer(lowering: lowering, offsets: placement.offsets).executable(programs: planned, memory: profile, statistics: statistics)
    }

    /// Why `target` cannot be compiled for, or nil: its counts and rates must be positive, and a
    /// tile's memory must be addressable with 32-bit offsets.
    private static func targetProblem(_ target: Target) -> String? {
        let counts: [(String, Int)] = [("tiles", target.tiles), ("bytesPerTile", target.bytesPerTile), ("workerContexts", target.workerContexts),
                                       ("exchangeBytesPerCycle", target.exchangeBytesPerCycle), ("memcpyBytesPerCycle", target.memcpyBytesPerCycle),
                                       ("vectorWidthBytes", target.vectorWidthBytes), ("float16MACsPerCycle", target.float16MACsPerCycle),
                                       ("float32MACsPerCycle", target.float32MACsPerCycle)]
        if let (name, value) = counts.first(where: { $0.1 < 1 }) { return "\(name) is \(value); it must be at least 1" }
        if target.bytesPerTile > Int(Int32.max) {
            return "bytesPerTile \(target.bytesPerTile) is more than \(Int32.max), the most a tile's 32-bit offsets address"
        }
        if !(target.clockHz > 0) { return "clockHz is \(target.clockHz); it must be positive" }
        return nil
    }

    /// What a block holds, for an out-of-memory message: its variable, or its category and the step it serves.
    private static func blockName(_ allocation: Allocation, graph: Graph, stepNames: [Int: String]) -> String {
        if let data = allocation.data { return graph.data[data].name }
        if let live = allocation.live, let step = stepNames[live.lowerBound] { return "\(allocation.category.rawValue) of step '\(step)'" }
        return allocation.category.rawValue
    }

    /// Checks that every object a program uses belongs to `graph` and collects the data it touches.
    private static func collectData(_ program: Program, graph: Graph, into used: inout [Bool]) throws(CompileError) {
        func take(_ tensor: Tensor) throws(CompileError) {
            guard tensor.graphID == graph.id else { throw .foreignObject(kind: "tensor", name: "\(tensor)") }
            for run in tensor.elements.runs { used[run.data] = true }
        }
        func stream(_ stream: HostStream) throws(CompileError) {
            guard stream.graphID == graph.id else { throw .foreignObject(kind: "stream", name: stream.name) }
        }
        switch program {
        case let .sequence(programs):
            for program in programs { try collectData(program, graph: graph, into: &used) }
        case let .execute(computeSet):
            guard computeSet.graphID == graph.id else { throw .foreignObject(kind: "compute set", name: computeSet.name) }
            var runs: [ElementRun] = []
            for vertex in graph.computeSetVertices[computeSet.index] {
                for connection in graph.connections(ofVertex: vertex) {
                    graph.forEachData(ofConnection: connection, scratch: &runs) { used[$0] = true }
                }
            }
        case let .copy(source, destination):
            try take(source)
            try take(destination)
        case let .repeat(_, body):
            try collectData(body, graph: graph, into: &used)
        case let .if(predicate, thenBody, elseBody):
            try take(predicate)
            try collectData(thenBody, graph: graph, into: &used)
            try collectData(elseBody, graph: graph, into: &used)
        case let .streamToDevice(hostStream, tensor), let .streamToHost(tensor, hostStream):
            try stream(hostStream)
            try take(tensor)
        case let .writeUndef(tensor):
            try take(tensor)
        case let .allReduce(tensors, _, _):
            for tensor in tensors { try take(tensor) }
        case let .reduceScatter(source, destination, _, _), let .allGather(source, destination, _):
            try take(source)
            try take(destination)
        }
    }

    /// Resolves the mapping of every used or mapped variable, checks that it covers every element,
    /// and creates one allocation per variable and tile.
    private static func layOutData(used: [Bool], lowering: Lowering) throws(CompileError) {
        let graph = lowering.graph
        for (index, record) in graph.data.enumerated() where used[index] || !record.assignedMapping.isEmpty {
            let intervals = graph.resolvedMapping(index)
            var expected = 0
            for interval in intervals + [TileInterval(begin: record.elementCount, end: record.elementCount, tile: 0)] {
                if interval.begin > expected {
                    throw .unmappedElements(tensor: record.name, elements: expected..<interval.begin, elementCount: record.elementCount)
                }
                expected = interval.end
            }
            var allocationOfTile: [Int: Int] = [:]
            var allocation: [Int] = [], blockOffset: [Int] = []
            for interval in intervals {
                let slot: Int
                if let existing = allocationOfTile[interval.tile] {
                    slot = existing
                } else {
                    lowering.allocations.append(Allocation(tile: interval.tile, bytes: 0, category: record.isConstant ? .constants : .variables,
                                                           live: nil, alwaysLive: false, data: index))
                    slot = lowering.allocations.count - 1
                    allocationOfTile[interval.tile] = slot
                }
                allocation.append(slot)
                blockOffset.append(lowering.allocations[slot].bytes / record.elementType.byteSize)
                lowering.allocations[slot].bytes += interval.count * record.elementType.byteSize
            }
            lowering.layouts[index] = DataLayout(intervals: intervals, allocation: allocation, blockOffset: blockOffset)
        }
    }

    private static func variableSummary(_ lowering: Lowering, liveSteps: [Int: ClosedRange<Int>]) -> [VariableMemory] {
        lowering.graph.data.enumerated().compactMap { index, record in
            guard let layout = lowering.layouts[index] else { return nil }
            return VariableMemory(name: record.name, elementType: record.elementType,
                                  bytes: record.elementCount * record.elementType.byteSize,
                                  tileCount: Set(layout.intervals.map { $0.tile }).count,
                                  alwaysLive: liveSteps[index] == nil, liveSteps: liveSteps[index])
        }
    }
}
