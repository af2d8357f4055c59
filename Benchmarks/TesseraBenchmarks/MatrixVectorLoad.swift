import Tessera

/// Loads and runs a matrix–vector product; returns the simulated bytes in use and the host RSS
/// growth measured while the engine is loaded.
enum MatrixVectorExampleForBenchmark {
    static func run(target: Target) throws -> (simulated: Int, hostGrowth: Int) {
        let before = HostMemory.residentBytes()
        let rowsPerTile = 64, columns = 512, rows = rowsPerTile * target.tiles
        let graph = Graph(target: target)
        let a = graph.addVariable(.float32, [rows, columns], name: "A")
        let y = graph.addVariable(.float32, [rows], name: "y")
        for tile in 0..<target.tiles {
            try graph.setTileMapping(a.slice(tile * rowsPerTile..<(tile + 1) * rowsPerTile), tile: tile)
            try graph.setTileMapping(y.slice(tile * rowsPerTile..<(tile + 1) * rowsPerTile), tile: tile)
        }
        try graph.makeHostVisible(a)
        try graph.makeHostVisible(y)
        let computeSet = graph.addComputeSet("increment")
        for row in 0..<rows { try graph.addVertex(computeSet, Increment(), tile: row / rowsPerTile, ["x": y.slice(row..<(row + 1)).reshape([])]) }
        let executable = try Compiler.compile(graph, program: .execute(computeSet))
        let engine = try Engine(executable)
        try engine.write(a, [Float](repeating: 1, count: rows * columns))
        try engine.run()
        return (executable.memory.totalBytes, HostMemory.residentBytes() - before)
    }
}
