// A first Tessera program, read top to bottom: y = A·x over every tile of a simulated IPU.
//
// 1. Build a graph: A's rows are spread over all tiles, x arrives from the host.
// 2. Write a codelet (a vertex type) in Swift: a dot product with its cycle estimate.
// 3. Add one vertex per row, on the tile that holds the row; the compiler turns the reads of x,
//    which lives on other tiles, into exchange.
// 4. Compile (placing every byte of every tile), run on pinned host threads, check the answer,
//    and look at where the memory and the cycles went.
import Foundation
import Tessera

/// A dot product of two float32 vectors into one element.
///
/// The cycle estimate models the tile's 64-bit vector unit: two float32 multiply-accumulates per
/// worker instruction, plus a fixed loop set-up (docs/cost-model.md, "vector codelets").
public struct DotProduct: Codelet {
    public init() {}
    public var fields: [Field] { [.input("row", .float32), .input("x", .float32), .scalar("y", .output, .float32)] }
    public func sizeProblem(fieldSizes: [Int]) -> String? {
        fieldSizes[0] == fieldSizes[1] ? nil : "row has \(fieldSizes[0]) elements, x has \(fieldSizes[1])"
    }
    public func estimateCycles(fieldSizes: [Int], target: Target) -> Int {
        12 + (fieldSizes[0] + target.vectorWidth(.float32) - 1) / target.vectorWidth(.float32)
    }
    public func compute(_ fields: VertexFields) {
        let row = fields.input(0, as: Float.self), x = fields.input(1, as: Float.self)
        var sum: Float = 0
        for i in row.indices { sum += row[i] * x[i] }
        fields.setScalar(2, sum)
    }
}

/// The matrix–vector example: builds, compiles and runs y = A·x, and reports on it.
public enum MatrixVectorExample {
    /// What a run produced.
    public struct Outcome {
        /// The compiled program (memory profile and step cycles).
        public var executable: Executable
        /// What the run executed.
        public var record: ExecutionRecord
        /// Largest absolute difference from a float64 host reference.
        public var maxError: Double
        /// Where the workers were pinned.
        public var pinnings: [WorkerPinning]
    }

    /// Runs y = A·x with `rowsPerTile` rows of `columns` elements on every tile of `target`.
    public static func run(target: Target = .mk2, rowsPerTile: Int = 16, columns: Int = 1024,
                           threads: Int? = nil) throws -> Outcome {
        // 1. The graph: A mapped row-block by row-block, x and y spread linearly over the tiles.
        let rows = rowsPerTile * target.tiles
        let graph = Graph(target: target)
        let a = graph.addVariable(.float32, [rows, columns], name: "A")
        let x = graph.addVariable(.float32, [columns], name: "x")
        let y = graph.addVariable(.float32, [rows], name: "y")
        for tile in 0..<target.tiles {
            let block = tile * rowsPerTile..<(tile + 1) * rowsPerTile
            try graph.setTileMapping(a.slice(block), tile: tile)
            try graph.setTileMapping(y.slice(block), tile: tile)
        }
        try graph.mapLinearly(x)
        try graph.makeHostVisible(a)

        // 2–3. One vertex per row, on the row's tile.
        let multiply = graph.addComputeSet("A·x")
        for row in 0..<rows {
            try graph.addVertex(multiply, DotProduct(), tile: row / rowsPerTile,
                                ["row": a.index(row), "x": x, "y": y.slice(row..<(row + 1)).reshape([])])
        }

        // The program: x in from the host, multiply, y out to the host.
        let xIn = try graph.addHostToDeviceStream("x", .float32, elementCount: columns)
        let yOut = try graph.addDeviceToHostStream("y", .float32, elementCount: rows)
        let program = Program.sequence(.streamToDevice(xIn, x), .execute(multiply), .streamToHost(y, yOut))

        // 4. Compile, load, run.
        let executable = try Compiler.compile(graph, program: program)
        let engine = try Engine(executable, options: EngineOptions(threads: threads))
        let aValues = (0..<rows * columns).map { Float(($0 * 7919) % 201 - 100) / 100 }
        let xValues = (0..<columns).map { Float($0 % 17) / 8 - 1 }
        try engine.write(a, aValues)
        try engine.connect(xIn, xValues)
        try engine.connect(yOut)
        try engine.run()
        let result = try engine.streamed(yOut, as: Float.self)

        var maxError = 0.0
        for row in 0..<rows {
            var reference = 0.0
            for column in 0..<columns { reference += Double(aValues[row * columns + column]) * Double(xValues[column]) }
            // A NaN result must not pass: `max` keeps its first argument against a NaN.
            let error = abs(reference - Double(result[row]))
            maxError = error.isNaN ? .infinity : max(maxError, error)
        }
        return Outcome(executable: executable, record: engine.lastRun!, maxError: maxError, pinnings: engine.pinnings)
    }
}
