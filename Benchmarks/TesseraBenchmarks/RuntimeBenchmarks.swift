import Foundation
import Tessera

/// A vertex that does nothing: measures the cost of dispatch alone.
struct NoOp: Codelet {
    var fields: [Field] { [] }
    func estimateCycles(fieldSizes: [Int], target: Target) -> Int { 1 }
    func compute(_ fields: VertexFields) {}
}

/// A vertex that adds one to a float32 scalar: the smallest vertex that touches tile memory.
struct Increment: Codelet {
    var fields: [Field] { [.scalar("x", .inOut, .float32)] }
    func estimateCycles(fieldSizes: [Int], target: Target) -> Int { 4 }
    func compute(_ fields: VertexFields) { fields.setScalar(0, fields.scalar(0, as: Float.self) + 1) }
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = ContinuousClock.now
    try body()
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
}

func format(_ value: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }

/// Supersteps of `verticesPerTile` no-op vertices on every tile of `target`, repeated `repeats` times.
func superstepSeconds(target: Target, verticesPerTile: Int, repeats: Int, threads: Int?) throws -> Double {
    let graph = Graph(target: target)
    let computeSet = graph.addComputeSet("no-op")
    for tile in 0..<target.tiles {
        for _ in 0..<verticesPerTile { try graph.addVertex(computeSet, NoOp(), tile: tile, [:]) }
    }
    let engine = try Engine(try Compiler.compile(graph, program: .repeat(count: repeats, body: .execute(computeSet))),
                            options: EngineOptions(threads: threads))
    try engine.run()
    return try seconds { try engine.run() } / Double(repeats)
}

/// Seconds per barrier round of the worker pool: the floor under any superstep.
func barrierSeconds(threads: Int?, rounds: Int) throws -> Double {
    let pool = try WorkerPool(threads: threads)
    defer { pool.shutdown() }
    pool.run { _ in for _ in 0..<100 { pool.barrier.wait() } }
    return seconds { pool.run { _ in for _ in 0..<rounds { pool.barrier.wait() } } } / Double(rounds)
}

/// Compile time, superstep and vertex-dispatch cost, and host memory of a loaded engine.
func runtimeBenchmarks(target: Target) throws {
    // 1. Compile time for tens of thousands of vertices.
    for rowsPerTile in [4, 16, 32] {
        let rows = rowsPerTile * target.tiles, columns = 64
        let graph = Graph(target: target)
        var program = Program.sequence([])
        let build = try seconds {
            let a = graph.addVariable(.float32, [rows, columns], name: "A")
            let y = graph.addVariable(.float32, [rows], name: "y")
            for tile in 0..<target.tiles {
                try graph.setTileMapping(a.slice(tile * rowsPerTile..<(tile + 1) * rowsPerTile), tile: tile)
                try graph.setTileMapping(y.slice(tile * rowsPerTile..<(tile + 1) * rowsPerTile), tile: tile)
            }
            let computeSet = graph.addComputeSet("rows")
            for row in 0..<rows {
                try graph.addVertex(computeSet, Increment(), tile: (row / rowsPerTile + 1) % target.tiles, ["x": y.slice(row..<(row + 1)).reshape([])])
            }
            program = .execute(computeSet)
        }
        var executable: Executable?
        let compile = try seconds { executable = try Compiler.compile(graph, program: program) }
        print("compile: \(rows) vertices (each reading another tile) in \(format(compile * 1e3, 1)) ms "
            + "(\(format(compile / build)) × the time to build the graph, \(format(build * 1e3, 1)) ms); "
            + "\(executable!.steps[0].exchangedBytes) B exchanged per run")
    }

    // 2. Superstep and per-vertex dispatch cost.
    let barrier = try barrierSeconds(threads: nil, rounds: 20_000)
    let oneVertex = try superstepSeconds(target: target, verticesPerTile: 1, repeats: 2_000, threads: nil)
    let manyVertices = try superstepSeconds(target: target, verticesPerTile: 20, repeats: 200, threads: nil)
    let perVertex = (manyVertices - oneVertex) / Double(19 * target.tiles)
    let emptySuperstep = oneVertex - perVertex * Double(target.tiles)
    print("barrier round: \(format(barrier * 1e6)) µs (reference)")
    print("empty superstep over \(target.tiles) tiles: \(format(emptySuperstep * 1e6)) µs = \(format(emptySuperstep / barrier, 1)) × a barrier round")
    print("vertex dispatch: \(format(perVertex * 1e9, 1)) ns per vertex (\(format(manyVertices * 1e6, 1)) µs per step of \(20 * target.tiles) vertices)")

    // 3. Host memory of a loaded engine against the simulated bytes in use.
    let load = try MatrixVectorExampleForBenchmark.run(target: target)
    print("host RSS growth while y = A·x is loaded: \(format(Double(load.hostGrowth) / 1e6, 1)) MB for "
        + "\(format(Double(load.simulated) / 1e6, 1)) MB of simulated memory in use "
        + "(\(format(Double(load.hostGrowth) / Double(load.simulated))) ×; the arenas reserve \(format(Double(target.totalBytes) / 1e6)) MB, committed on touch)")
}
