import Testing
import Tessera
import TesseraCompiler
import TesseraTestSupport

/// A program that exercises every runtime path: host streams, exchange of transposed views, on-tile
/// and cross-tile copies, a loop and a branch.
private struct Workload {
    let graph = Graph(target: testTarget(tiles: 16, bytes: 32_768))
    let matrix: Tensor, result: Tensor, flag: Tensor
    let input: HostStream, output: HostStream
    let program: Program

    init() throws {
        matrix = graph.addVariable(.float32, [16, 24], name: "matrix")
        let scratch = graph.addVariable(.float32, [24, 16], name: "scratch")
        result = graph.addVariable(.float32, [24, 16], name: "result")
        flag = graph.addVariable(.int32, [], name: "flag")
        for row in 0..<16 { try graph.setTileMapping(matrix.index(row), tile: row) }
        try graph.mapLinearly(scratch, grainSize: 8, minElementsPerTile: 8)
        try graph.mapLinearly(result, grainSize: 5, minElementsPerTile: 5)
        try graph.setTileMapping(flag, tile: 7)
        try graph.makeHostVisible(result)
        try graph.makeHostVisible(flag)
        let transpose = graph.addComputeSet("transpose-scale")
        let columns = try matrix.transpose()
        for column in 0..<24 {
            try graph.addVertex(transpose, ScaleCodelet(factor: 0.5, offset: Float(column)), tile: (column * 5) % 16,
                                ["in": columns.index(column), "out": scratch.index(column)])
        }
        let accumulate = graph.addComputeSet("accumulate")
        for row in 0..<24 {
            try graph.addVertex(accumulate, ScaleCodelet(factor: 1.25, offset: -1), tile: row % 16,
                                ["in": scratch.index(row), "out": result.index(row)])
        }
        let sums = graph.addComputeSet("sum-rows")
        for row in 0..<24 { try graph.addVertex(sums, SumCodelet(), tile: 15 - row % 16, ["in": result.index(row), "out": scratch[row, 0]]) }
        input = try graph.addHostToDeviceStream("matrix-in", .float32, elementCount: 16 * 24)
        output = try graph.addDeviceToHostStream("scratch-out", .float32, elementCount: 24 * 16)
        let loop = Program.repeat(count: 3, body: .sequence([.execute(accumulate), .copy(from: result, to: scratch)]))
        let branch = Program.if(predicate: flag, then: .execute(sums), else: .sequence([]))
        let steps: [Program] = [.streamToDevice(input, matrix), .execute(transpose), loop, branch, .streamToHost(scratch, output)]
        program = .sequence(steps)
    }

    /// The matrix the host streams in, twice over (a ring of two chunks).
    static let matrixValues: [Float] = (0..<(16 * 24)).map { (i: Int) -> Float in Float((i * 37) % 101) / 7 }

    func run(threads: Int, flagValue: Int32) throws -> (result: [UInt32], streamed: [UInt32], record: ExecutionRecord, cycles: Int) {
        let executable = try Compiler.compile(graph, program: program)
        let engine = try Engine(executable, options: EngineOptions(threads: threads))
        try engine.connect(input, Workload.matrixValues + Workload.matrixValues)
        try engine.connect(output, chunks: 1)
        try engine.write(flag, [flagValue])
        try engine.run()
        let record = engine.lastRun!
        return (try engine.read(result, as: Float.self).map(\.bitPattern),
                try engine.streamed(output, as: Float.self).map(\.bitPattern),
                record, record.totalCycles(executable.steps))
    }
}

extension Tensor {
    fileprivate subscript(_ row: Int, _ column: Int) -> Tensor { try! index(row).slice(column..<(column + 1)) }
}

/// A vertex on tile 0 reading a window of rows that alternate between tiles 1 and 2 (columns 2..<7
/// of `source`) and writing `2x + 1` into columns 3..<8 of `destination`, mapped alike.
func alternatingWindowGraph() throws -> (graph: Graph, source: Tensor, destination: Tensor, scale: ComputeSet) {
    let graph = Graph(target: testTarget(tiles: 3))
    let source = graph.addVariable(.float32, [6, 10], name: "source")
    let destination = graph.addVariable(.float32, [6, 10], name: "destination")
    for row in 0..<6 {
        try graph.setTileMapping(source.index(row), tile: 1 + row % 2)
        try graph.setTileMapping(destination.index(row), tile: 1 + row % 2)
    }
    try graph.makeHostVisible(source)
    try graph.makeHostVisible(destination)
    let scale = graph.addComputeSet("scale")
    try graph.addVertex(scale, ScaleCodelet(factor: 2, offset: 1), tile: 0,
                        ["in": source.slice([0..<6, 2..<7]), "out": destination.slice([0..<6, 3..<8])])
    return (graph, source, destination, scale)
}

@Suite(.serialized) struct RuntimeTests {
    @Test func resultsAndCyclesAreIdenticalForAnyThreadCount() throws {
        let workload = try Workload()
        let one = try workload.run(threads: 1, flagValue: 1)
        for threads in [2, 3] {
            let other = try workload.run(threads: threads, flagValue: 1)
            #expect(other.result == one.result, "threads \(threads)")
            #expect(other.streamed == one.streamed, "threads \(threads)")
            #expect(other.record.trace == one.record.trace)
            #expect(other.cycles == one.cycles)
        }
    }

    @Test func resultsMatchAHostReference() throws {
        let workload = try Workload()
        let run = try workload.run(threads: 2, flagValue: 0)
        let matrix = Workload.matrixValues
        var expected = [Float](repeating: 0, count: 24 * 16)
        for column in 0..<24 { for row in 0..<16 { expected[column * 16 + row] = matrix[row * 24 + column] * 0.5 + Float(column) } }
        for _ in 0..<3 { expected = expected.map { $0 * 1.25 - 1 } }
        #expect(run.result == expected.map(\.bitPattern))
        #expect(run.streamed == expected.map(\.bitPattern))
        #expect(!run.record.trace.isEmpty)
    }

    @Test func branchTakesThenOnlyWhenPredicateIsNonZero() throws {
        let workload = try Workload()
        let taken = try workload.run(threads: 1, flagValue: 1)
        let skipped = try workload.run(threads: 1, flagValue: 0)
        #expect(taken.record.trace.count == skipped.record.trace.count + 1)
        let resultRows = taken.result.map { Float(bitPattern: $0) }
        for row in 0..<24 {
            let rowSum = resultRows[(row * 16)..<(row * 16 + 16)].reduce(0, +)
            #expect(abs(Float(bitPattern: taken.streamed[row * 16]) - rowSum) <= 1e-3 * abs(rowSum) + 1e-3)
        }
    }

    /// Exchange code is tallied step by step, the steps in two halves at once: a step run twice
    /// costs each tile twice the descriptors of one run.
    @Test func exchangeCodeOfEveryStepAddsUp() throws {
        let (graph, _, _, scale) = try alternatingWindowGraph()
        let once = try Compiler.compile(graph, program: .execute(scale)).memory.tiles
        let twice = try Compiler.compile(graph, program: .sequence([.execute(scale), .execute(scale)])).memory.tiles
        #expect(twice[0].alwaysLive.exchangeCode == 4 * (6 * 4 + 8))
        #expect(twice[1].alwaysLive.exchangeCode == 4 * (3 * 4 + 8))
        #expect(twice[0].alwaysLive.controlCode > once[0].alwaysLive.controlCode)
    }

    /// A window of rows that alternate between two tiles moves as one copy per source tile, each
    /// copy a loop over rows, in and out; the bytes, the cycles and the results are those of the
    /// rows moved one by one.
    @Test func windowRowsMoveAsOneCopyPerSourceTile() throws {
        let (graph, source, destination, scale) = try alternatingWindowGraph()
        let executable = try Compiler.compile(graph, program: .execute(scale))
        #expect(executable.statistics.copies == 4)
        #expect(executable.statistics.phases.map(\.name) == ["validate", "lay out", "lower", "liveness", "overheads", "place", "finalize"])
        let step = executable.steps[0]
        #expect(step.exchangedBytes == 2 * 6 * 5 * 4)
        // Exchange code is still one descriptor per contiguous row sent or received: 4 B × 3 rows
        // on each sending tile per phase, and 4 B × 6 rows on the receiving tile per phase.
        #expect(executable.memory.tiles[0].alwaysLive.exchangeCode == 2 * (6 * 4 + 8))
        #expect(executable.memory.tiles[1].alwaysLive.exchangeCode == 2 * (3 * 4 + 8))
        let engine = try Engine(executable, options: EngineOptions(threads: 2))
        let values = (0..<60).map { Float($0) }
        try engine.write(source, values)
        try engine.write(destination, [Float](repeating: -1, count: 60))
        try engine.run()
        let result = try engine.read(destination, as: Float.self)
        for row in 0..<6 {
            for column in 0..<10 {
                let expected = (3..<8).contains(column) ? values[row * 10 + column - 1] * 2 + 1 : -1
                #expect(result[row * 10 + column] == expected, "row \(row), column \(column)")
            }
        }
    }

    /// Each tile's vertex reads the next tile's row through the exchange; `inPlace` writes the result
    /// over the rows read, else into a second variable. Returns the rows written, for 1 to 3 threads,
    /// and whether the step ran tile-ordered.
    private func ringShift(inPlace: Bool) throws -> (results: [[Float]], tileOrdered: Bool) {
        let tiles = 6, graph = Graph(target: testTarget(tiles: tiles, bytes: 4096))
        let rows = graph.addVariable(.float32, [tiles, 4], name: "rows")
        let shifted = inPlace ? rows : graph.addVariable(.float32, [tiles, 4], name: "shifted")
        for tile in 0..<tiles {
            try graph.setTileMapping(rows.index(tile), tile: tile)
            if !inPlace { try graph.setTileMapping(shifted.index(tile), tile: tile) }
        }
        try graph.makeHostVisible(rows)
        try graph.makeHostVisible(shifted)
        let shift = graph.addComputeSet("shift")
        for tile in 0..<tiles {
            try graph.addVertex(shift, ScaleCodelet(factor: 2, offset: 1), tile: tile,
                                ["in": rows.index((tile + 1) % tiles), "out": shifted.index(tile)])
        }
        let executable = try Compiler.compile(graph, program: .execute(shift))
        let results = try (1...3).map { threads in
            let engine = try Engine(executable, options: EngineOptions(threads: threads))
            try engine.write(rows, (0..<(tiles * 4)).map { Float($0) })
            try engine.run()
            return try engine.read(shifted, as: Float.self)
        }
        return (results, executable.supersteps.contains { $0.tileOrdered })
    }

    @Test func aStepReadingWhatNoVertexWritesRunsTileOrderedWithBulkSynchronousResults() throws {
        let (results, tileOrdered) = try ringShift(inPlace: false)
        let expected = (0..<24).map { Float(($0 + 4) % 24) * 2 + 1 }
        #expect(tileOrdered)
        for result in results { #expect(result == expected) }
    }

    @Test func aStepOverwritingWhatItsExchangeReadsWaitsForEveryTilesExchange() throws {
        // Tile-ordered, tile 5 would read tile 0's row after tile 0's vertex had overwritten it.
        let (results, tileOrdered) = try ringShift(inPlace: true)
        let expected = (0..<24).map { Float(($0 + 4) % 24) * 2 + 1 }
        #expect(!tileOrdered)
        for result in results { #expect(result == expected) }
    }

    /// Rows of every other element (a stride-folded convolution's input) move in vector blocks that
    /// read only within the row: float32 and float16, rows of 3 (element by element), 7 (blocks of 4),
    /// 9, 16 and 38 (blocks of 8, the last overlapping), each from the even columns of a row of
    /// `2 · count` or `2 · count − 1` elements.
    @Test(arguments: [ElementType.float32, .float16], [3, 7, 9, 16, 38])
    func subsampledRowsCopyEveryOtherElement(_ type: ElementType, count: Int) throws {
        for width in [2 * count - 1, 2 * count] {
            let graph = Graph(target: testTarget(tiles: 2, bytes: 8192))
            let source = graph.addVariable(type, [3, width], name: "source"), copy = graph.addVariable(type, [3, count], name: "copy")
            try graph.setTileMapping(source, tile: 0)
            try graph.setTileMapping(copy, tile: 1)
            try graph.makeHostVisible(source)
            try graph.makeHostVisible(copy)
            let engine = try Engine(try Compiler.compile(graph, program: .copy(from: source.subSample(2, dimension: 1), to: copy)),
                                    options: EngineOptions(threads: 1))
            let values = (0..<(3 * width)).map { Float($0 % 1000) }
            let expected = (0..<3).flatMap { row in (0..<count).map { values[row * width + 2 * $0] } }
            if type == .float32 {
                try engine.write(source, values)
                try engine.run()
                #expect(try engine.read(copy, as: Float.self) == expected, "width \(width)")
            } else {
                try engine.write(source, values.map { Float16($0) })
                try engine.run()
                #expect(try engine.read(copy, as: Float16.self) == expected.map { Float16($0) }, "width \(width)")
            }
        }
    }

    /// A step of 384 vertices on two halves of the tiles is lowered in two shares at once: every
    /// vertex reads the next tile's row through a buffer its tile's vertices share, and writes a row
    /// that lies on another tile, through a buffer of its own. Tiles hold 2 to 10 vertices, so the
    /// buffers of the two halves are placed differently; the results match the host's.
    @Test func aLargeStepLoweredInTwoSharesMatchesAHostReference() throws {
        let tiles = 64, graph = Graph(target: testTarget(tiles: tiles, bytes: 16_384))
        let counts = (0..<tiles).map { 2 + $0 * 7 % 9 }, firstRow = counts.reduce(into: [0]) { $0.append($0.last! + $1) }
        let x = graph.addVariable(.float32, [tiles, 8], name: "x"), y = graph.addVariable(.float32, [firstRow[tiles], 8], name: "y")
        for tile in 0..<tiles {
            try graph.setTileMapping(x.index(tile), tile: tile)
            for row in firstRow[tile]..<firstRow[tile + 1] { try graph.setTileMapping(y.index(row), tile: (tile + tiles / 2) % tiles) }
        }
        try graph.makeHostVisible(x)
        try graph.makeHostVisible(y)
        let step = graph.addComputeSet("step")
        var expected: [Float] = []
        let values = (0..<(tiles * 8)).map { Float($0 % 97) }
        for tile in 0..<tiles {
            for (j, row) in (firstRow[tile]..<firstRow[tile + 1]).enumerated() {
                try graph.addVertex(step, ScaleCodelet(factor: Float(j + 1), offset: Float(tile)), tile: tile,
                                    ["in": x.index((tile + 1) % tiles), "out": y.index(row)])
                expected += (0..<8).map { values[(tile + 1) % tiles * 8 + $0] * Float(j + 1) + Float(tile) }
            }
        }
        #expect(firstRow[tiles] >= 256)
        let executable = try Compiler.compile(graph, program: .execute(step))
        for threads in [1, 2] {
            let engine = try Engine(executable, options: EngineOptions(threads: threads))
            try engine.write(x, values)
            try engine.run()
            #expect(try engine.read(y, as: Float.self) == expected, "threads \(threads)")
        }
    }

    /// A step whose vertices use three tiles of eight: the workers share those three tiles (one
    /// NUMA node here, so the step's work rather than the arenas decides), and every thread count
    /// gives the host reference.
    @Test func aStepOnFewTilesGivesTheReferenceOnAnyThreadCount() throws {
        let graph = Graph(target: testTarget(tiles: 8))
        let x = graph.addVariable(.float32, [8, 8], name: "x"), y = graph.addVariable(.float32, [3, 8], name: "y")
        for row in 0..<8 { try graph.setTileMapping(x.index(row), tile: row) }
        for row in 0..<3 { try graph.setTileMapping(y.index(row), tile: row) }
        try graph.makeHostVisible(x)
        try graph.makeHostVisible(y)
        let step = graph.addComputeSet("step")
        for tile in 0..<3 {
            try graph.addVertex(step, ScaleCodelet(factor: 2, offset: Float(tile)), tile: tile, ["in": x.index(7 - tile), "out": y.index(tile)])
        }
        let executable = try Compiler.compile(graph, program: .execute(step))
        let values = (0..<64).map { Float($0) }
        var expected: [Float] = []
        for tile in 0..<3 {
            for column in 0..<8 { expected.append(values[(7 - tile) * 8 + column] * 2 + Float(tile)) }
        }
        for threads in [1, 2, 3] {
            let engine = try Engine(executable, options: EngineOptions(threads: threads))
            try engine.write(x, values)
            try engine.run()
            #expect(try engine.read(y, as: Float.self) == expected, "threads \(threads)")
        }
    }

    @Test func workersArePinnedWhereHwlocSays() throws {
        let graph = Graph(target: testTarget(tiles: 4))
        let engine = try Engine(try Compiler.compile(graph, program: .sequence([])), options: EngineOptions(threads: 2))
        let topology = try HostTopology.load()
        #expect(engine.pinnings.map(\.worker) == [0, 1])
        for pinning in engine.pinnings {
            let core = topology.cores[pinning.worker % topology.cores.count]
            #expect(pinning.core == core.index)
            #expect(pinning.boundSet == [core.processingUnits[0]])
            #expect(pinning.boundSet.contains(pinning.observedCPU))
        }
        #expect(engine.arenaBytes == 4 * 65_536)
    }

    @Test func hostAccessErrorsAreTyped() throws {
        let graph = Graph(target: testTarget(tiles: 2))
        let visible = graph.addVariable(.float32, [4], name: "visible")
        let hidden = graph.addVariable(.float32, [4], name: "hidden")
        try graph.setTileMapping(visible, tile: 0)
        try graph.setTileMapping(hidden, tile: 1)
        try graph.makeHostVisible(visible)
        let cs = graph.addComputeSet("cs")
        try graph.addVertex(cs, ScaleCodelet(factor: 2), tile: 1, ["in": visible, "out": hidden])
        let stream = try graph.addHostToDeviceStream("in", .float32, elementCount: 4)
        let engine = try Engine(try Compiler.compile(graph, programs: [.execute(cs), .streamToDevice(stream, visible)]),
                                options: EngineOptions(threads: 1))
        // Each call's own case, naming what it refused.
        func thrown(_ body: () throws -> Void) -> RuntimeError? {
            do { try body() } catch { return error as? RuntimeError }
            return nil
        }
        let notVisible = thrown { _ = try engine.read(hidden, as: Float.self) }
        #expect({ if case .notHostVisible("hidden") = notVisible { true } else { false } }(), "\(String(describing: notVisible))")
        for error in [thrown { _ = try engine.read(visible, as: Int32.self) }, thrown { try engine.write(visible, [Float(1)]) }] {
            #expect({ if case let .sizeMismatch(object, _) = error { object.contains("'visible'") } else { false } }(), "\(String(describing: error))")
        }
        let noProgram = thrown { try engine.run(2) }
        #expect({ if case .noSuchProgram(2, 2) = noProgram { true } else { false } }(), "\(String(describing: noProgram))")
        let unconnected = thrown { try engine.run(1) }
        #expect({ if case .streamNotConnected("in") = unconnected { true } else { false } }(), "\(String(describing: unconnected))")
        let badLength = thrown { try engine.connect(stream, [Float(1), 2, 3]) }
        #expect({ if case .sizeMismatch("stream 'in'", _) = badLength { true } else { false } }(), "\(String(describing: badLength))")
        let other = Graph(target: testTarget(tiles: 2)).addVariable(.float32, [4], name: "other")
        let foreign = thrown { _ = try engine.read(other, as: Float.self) }
        // A tensor of another graph has no name this executable knows: it is named by its type and shape.
        #expect({ if case .foreignObject("tensor", "\(other)") = foreign { true } else { false } }(), "\(String(describing: foreign))")
        try engine.connect(stream, [Float(1), 2, 3, 4, 5, 6, 7, 8])
        try engine.run(1)
        #expect(try engine.read(visible, as: Float.self) == [1, 2, 3, 4])
        try engine.run(1)
        #expect(try engine.read(visible, as: Float.self) == [5, 6, 7, 8])
        let message = notVisible?.description ?? ""
        #expect(message.contains("'hidden'") && message.contains("makeHostVisible"), "\(message)")
    }
}
