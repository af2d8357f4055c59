import Testing
import Tessera
import TesseraTestSupport

@Suite struct CompilerErrorTests {
    let graph = Graph(target: testTarget(tiles: 4))

    /// A shape no variable can have gives an empty tensor at once and a typed error at compile time.
    @Test(arguments: [[1 << 20, 1 << 12], [-3, 4], [Int.max, 2]])
    func impossibleShapesAreTypedErrors(shape: [Int]) throws {
        let huge = graph.addVariable(.float32, shape, name: "huge")
        #expect(huge.elementCount == 0)
        #expect {
            _ = try Compiler.compile(graph, program: .sequence([]))
        } throws: { error in
            guard case let CompileError.badVariable(name, detail) = error else { return false }
            return name == "huge" && detail.contains("shape \(shape)") && "\(error)".hasPrefix("variable 'huge': ")
        }
    }

    /// Targets no chip can have are refused by name before anything is placed.
    /// A compile that releases the graph's connection tables gives the executable a plain compile
    /// gives, and the graph cannot be compiled again.
    @Test func releasedConnectionsCompileOnceAndTheSame() throws {
        func build(_ graph: Graph) throws -> Program {
            let x = graph.addVariable(.float32, [64], name: "x"), y = graph.addVariable(.float32, [64], name: "y")
            try graph.mapLinearly(x)
            try graph.setTileMapping(y, tile: 3)
            let cs = graph.addComputeSet("scale")
            for tile in 0..<4 {
                // Each vertex reads a quarter of x (on its own tile or not) and writes y on tile 3.
                try graph.addVertex(cs, ScaleCodelet(factor: 2), tile: tile, ["in": x.slice((16 * tile)..<(16 * tile + 16)), "out": y.slice((16 * tile)..<(16 * tile + 16))])
            }
            return .execute(cs)
        }
        let plain = try Compiler.compile(graph, program: build(graph))
        let consumed = Graph(target: testTarget(tiles: 4))
        var options = CompileOptions()
        options.releasesConnections = true
        let released = try Compiler.compile(consumed, program: build(consumed), options: options)
        #expect(released.steps.map(\.totalCycles) == plain.steps.map(\.totalCycles))
        #expect(released.memory.totalBytes == plain.memory.totalBytes)
        #expect(consumed.connectionsReleased && consumed.connections.isEmpty)
        #expect {
            try Compiler.compile(consumed, program: .sequence([]))
        } throws: { error in
            guard case CompileError.connectionsReleased = error else { return false }
            return true
        }
    }

    @Test func impossibleTargetsAreTypedErrors() throws {
        var noRate = testTarget(tiles: 2)
        noRate.exchangeBytesPerCycle = 0
        let cases: [(Target, String)] = [
            (testTarget(tiles: 0), "tiles is 0"),
            (testTarget(tiles: 2, bytes: 1 << 31), "bytesPerTile 2147483648 is more than 2147483647"),
            (noRate, "exchangeBytesPerCycle is 0"),
            (Target(name: "stopped", tiles: 2, bytesPerTile: 4096, clockHz: 0), "clockHz is 0.0"),
        ]
        for (target, expected) in cases {
            #expect {
                _ = try Compiler.compile(Graph(target: target), program: .sequence([]))
            } throws: { error in
                guard case let CompileError.badTarget(name, detail) = error else { return false }
                return name == target.name && detail.hasPrefix(expected)
            }
        }
    }

    @Test func unmappedElementsNameTheTensorAndRange() throws {
        let x = graph.addVariable(.float32, [10], name: "activations")
        let y = graph.addVariable(.float32, [10], name: "y")
        try graph.setTileMapping(x.slice(0..<4), tile: 0)
        try graph.setTileMapping(x.slice(7..<10), tile: 1)
        try graph.setTileMapping(y, tile: 0)
        let cs = graph.addComputeSet("cs")
        try graph.addVertex(cs, ScaleCodelet(factor: 1), tile: 0, ["in": x, "out": y])
        do {
            _ = try Compiler.compile(graph, program: .execute(cs))
            Issue.record("expected an error")
        } catch let CompileError.unmappedElements(tensor, elements, count) {
            #expect(tensor == "activations")
            #expect(elements == 4..<7)
            #expect(count == 10)
        }
    }

    @Test func overlappingOutputsInOneComputeSet() throws {
        let x = graph.addVariable(.float32, [8], name: "x")
        let y = graph.addVariable(.float32, [8], name: "y")
        try graph.setTileMapping(x, tile: 0)
        try graph.setTileMapping(y, tile: 1)
        let cs = graph.addComputeSet("clash")
        try graph.addVertex(cs, ScaleCodelet(factor: 1), tile: 0, ["in": x.slice(0..<5), "out": y.slice(0..<5)])
        try graph.addVertex(cs, ScaleCodelet(factor: 1), tile: 1, ["in": x.slice(3..<8), "out": y.slice(3..<8)])
        #expect {
            try Compiler.compile(graph, program: .execute(cs))
        } throws: { error in
            guard case let CompileError.overlappingOutputs(set, tensor, element, _) = error else { return false }
            return set == "clash" && tensor == "y" && element == 3
        }
    }

    @Test func badCopiesStreamsPredicatesAndRepeats() throws {
        let x = graph.addVariable(.float32, [8], name: "x")
        let y = graph.addVariable(.float32, [4, 2], name: "y")
        let z = graph.addVariable(.float32, [1], name: "z")
        for t in [x, y, z] { try graph.setTileMapping(t, tile: 0) }
        // Each program's own case: a copy between shapes that differ, a copy onto a broadcast (one
        // element written eight times), a stream of another length or the wrong direction, a
        // predicate of eight elements, a negative repeat.
        func refused(_ program: Program, _ matches: (CompileError) -> Bool) {
            do {
                _ = try Compiler.compile(graph, program: program)
                Issue.record("\(program) compiled")
            } catch {
                #expect(matches(error), "\(error)")
            }
        }
        refused(.copy(from: x, to: y)) { if case .badCopy = $0 { true } else { false } }
        refused(.copy(from: x, to: try z.broadcast(to: [8]))) { if case .badCopy = $0 { true } else { false } }
        let stream = try graph.addHostToDeviceStream("s", .float32, elementCount: 4)
        refused(.streamToDevice(stream, x)) { if case .badStream("s", _) = $0 { true } else { false } }
        refused(.streamToHost(try x.slice(0..<4), stream)) { if case .badStream("s", _) = $0 { true } else { false } }
        refused(.if(predicate: x, then: .sequence([]), else: .sequence([]))) { if case .badPredicate = $0 { true } else { false } }
        refused(.repeat(count: -1, body: .sequence([]))) { if case .badRepeat(-1) = $0 { true } else { false } }
    }
}
