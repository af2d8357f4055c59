import Testing
import Tessera
import TesseraTestSupport

/// Exact memory figures for small graphs, computed by hand from the documented defaults
/// (docs/cost-model.md): stack 6 × 256 + 512 = 2,048 B per tile; control code 8 B per step on
/// every tile plus 16 B per step in which the tile runs vertices; exchange code 4 B per send or
/// receive plus 8 B per phase; vertex state 4 B per field pointer + 4 B per vector field count +
/// the codelet's state; blocks aligned to 8 B and always-live blocks packed in category order.
@Suite struct MemoryPlacementTests {
    @Test func exchangeBufferAndAlwaysLiveLayout() throws {
        let graph = Graph(target: testTarget(tiles: 2, bytes: 8192))
        let a = graph.addVariable(.float32, [8], name: "a")
        let b = graph.addVariable(.float32, [8], name: "b")
        try graph.setTileMapping(a, tile: 0)
        try graph.setTileMapping(b, tile: 1)
        try graph.makeHostVisible(a)
        let cs = graph.addComputeSet("scale")
        try graph.addVertex(cs, ScaleCodelet(factor: 3), tile: 1, ["in": a, "out": b])
        let memory = try Compiler.compile(graph, program: .execute(cs)).memory

        let tile0 = memory.tiles[0]
        #expect(tile0.alwaysLive.variables == 32)
        #expect(tile0.alwaysLive.controlCode == 8)
        #expect(tile0.alwaysLive.exchangeCode == 12)
        #expect(tile0.alwaysLive.stack == 2048)
        #expect(tile0.notAlwaysLivePeakBytes == 0)
        #expect(tile0.totalBytes == 32 + 8 + 16 + 2048)  // exchange code 12 B padded to 16

        let tile1 = memory.tiles[1]
        #expect(tile1.alwaysLive.vertexState == 24)
        #expect(tile1.alwaysLive.vertexCode == 256)
        #expect(tile1.alwaysLive.controlCode == 24)
        #expect(tile1.alwaysLive.exchangeCode == 12)
        #expect(tile1.notAlwaysLivePeak.variables == 32)
        #expect(tile1.notAlwaysLivePeak.exchangeBuffers == 32)
        #expect(tile1.totalBytes == 24 + 256 + 24 + 16 + 2048 + 32 + 32)
        #expect(tile1.gapBytes == 4)
        #expect(memory.fullestTile.tile == 1)
    }

    @Test func variablesThatAreNeverLiveTogetherShareMemory() throws {
        let graph = Graph(target: testTarget(tiles: 1, bytes: 65_536))
        let input = graph.addVariable(.float32, [256], name: "input")
        let t1 = graph.addVariable(.float32, [256], name: "t1")
        let t2 = graph.addVariable(.float32, [256], name: "t2")
        let output = graph.addVariable(.float32, [256], name: "output")
        for t in [input, t1, t2, output] { try graph.setTileMapping(t, tile: 0) }
        try graph.makeHostVisible(input)
        try graph.makeHostVisible(output)
        func step(_ from: Tensor, _ to: Tensor, _ name: String) throws -> Program {
            let cs = graph.addComputeSet(name)
            try graph.addVertex(cs, ScaleCodelet(factor: 2), tile: 0, ["in": from, "out": to])
            return .execute(cs)
        }
        // t1 is live over steps 0–1, t2 over 2–3: disjoint, so one kilobyte serves both.
        let program = Program.sequence(try step(input, t1, "a"), try step(t1, input, "b"),
                                       try step(input, t2, "c"), try step(t2, output, "d"))
        let executable = try Compiler.compile(graph, program: program)
        let tile = executable.memory.tiles[0]
        #expect(tile.alwaysLive.variables == 2048)
        #expect(tile.notAlwaysLivePeak.variables == 1024)
        let live = Dictionary(uniqueKeysWithValues: executable.memory.variables.map { ($0.name, $0.liveSteps) })
        #expect(live["t1"]! == 0...1)
        #expect(live["t2"]! == 2...3)
        #expect(live["input"]! == nil)

        let engine = try Engine(executable, options: EngineOptions(threads: 1))
        try engine.write(input, (0..<256).map(Float.init))
        try engine.run()
        #expect(try engine.read(output, as: Float.self) == (0..<256).map { Float($0) * 16 })
    }

    @Test func readBeforeWriteInsideLoopKeepsVariableLiveAcrossTheLoop() throws {
        let graph = Graph(target: testTarget(tiles: 1, bytes: 65_536))
        let acc = graph.addVariable(.float32, [16], name: "acc")
        let tmp = graph.addVariable(.float32, [16], name: "tmp")
        let out = graph.addVariable(.float32, [16], name: "out")
        for t in [acc, tmp, out] { try graph.setTileMapping(t, tile: 0) }
        try graph.makeHostVisible(out)
        let zero = graph.addComputeSet("zero"), bump = graph.addComputeSet("bump"), back = graph.addComputeSet("back")
        try graph.addVertex(zero, ScaleCodelet(factor: 0), tile: 0, ["in": out, "out": acc])
        try graph.addVertex(bump, ScaleCodelet(factor: 1, offset: 1), tile: 0, ["in": acc, "out": tmp])
        try graph.addVertex(back, ScaleCodelet(factor: 1), tile: 0, ["in": tmp, "out": acc])
        let finish = Program.copy(from: acc, to: out)
        let program = Program.sequence(.execute(zero), .repeat(count: 5, body: .sequence(.execute(bump), .execute(back))), finish)
        let executable = try Compiler.compile(graph, program: program)
        let live = Dictionary(uniqueKeysWithValues: executable.memory.variables.map { ($0.name, $0.liveSteps) })
        #expect(live["acc"]! == 0...3)
        #expect(live["tmp"]! == 1...2)
        let engine = try Engine(executable, options: EngineOptions(threads: 1))
        try engine.run()
        #expect(try engine.read(out, as: Float.self) == Array(repeating: 5, count: 16))
    }

    @Test func outOfMemoryNamesWorstTileAndKeepsProfile() throws {
        let graph = Graph(target: testTarget(tiles: 2, bytes: 4096))
        let big = graph.addVariable(.float32, [1100], name: "big")
        try graph.setTileMapping(big.slice(0..<100), tile: 0)
        try graph.setTileMapping(big.slice(100..<1100), tile: 1)
        let error = #expect(throws: CompileError.self) { try Compiler.compile(graph, program: .sequence([])) }
        guard case let .outOfMemory(failure)? = error else {
            Issue.record("expected out of memory, got \(String(describing: error))")
            return
        }
        #expect(failure.tile == 1)
        #expect(failure.bytesUsed == 4000 + 2048)
        #expect(failure.tilesOverBudget == 1)
        #expect(failure.profile.tiles.count == 2)
        #expect(failure.profile.tiles[0].totalBytes == 400 + 2048)
        #expect(failure.description.hasPrefix("Out of memory on tile 1: 6,048 bytes used, tiles have 4,096 (1 tile(s) over budget)."))
        #expect(failure.description.contains("variables 4,000"))
        #expect(failure.largestBlocks.first == MemoryBlock(name: "big", category: .variables, bytes: 4000))
        #expect(failure.description.hasSuffix("Largest there: big (variables, 4,000 B), stack (stack, 2,048 B)."))
    }

    /// When a step's receive buffers are what does not fit, the error names that step and its buffer.
    @Test func outOfMemoryNamesTheStepWhoseTemporariesOverflow() throws {
        let graph = Graph(target: testTarget(tiles: 2, bytes: 8192))
        let wide = graph.addVariable(.float32, [1200], name: "wide")
        let sum = graph.addVariable(.float32, [], name: "sum")
        try graph.setTileMapping(wide, tile: 1)
        try graph.setTileMapping(sum, tile: 0)
        let gather = graph.addComputeSet("gather")
        // The vertex reads every element twice: a 9,600-byte receive buffer on tile 0, twice what tile 1 holds.
        try graph.addVertex(gather, SumCodelet(), tile: 0, ["in": Tensor.concatenate([wide, wide]), "out": sum])
        let error = #expect(throws: CompileError.self) {
            try Compiler.compile(graph, program: .sequence([.execute(graph.addComputeSet("idle")), .execute(gather)]))
        }
        guard case let .outOfMemory(failure)? = error else {
            Issue.record("expected out of memory, got \(String(describing: error))")
            return
        }
        #expect(failure.tile == 0 && failure.peakStep == "gather")
        #expect(failure.largestBlocks.first == MemoryBlock(name: "exchangeBuffers of step 'gather'", category: .exchangeBuffers, bytes: 9600))
        #expect(failure.description.contains("during step 'gather'."))
    }
}
