import Testing
import Tessera
import TesseraGraph
import TesseraTestSupport

/// Vertices of one compute set connected to the same box share one view of it, and each reads
/// the box's elements wherever they live.
@Suite struct SharedBoxTests {
    @Test func verticesReadingOneBoxShareItsViewAndItsElements() throws {
        let graph = Graph(target: Target(name: "t", tiles: 4, bytesPerTile: 65_536))
        let x = graph.addVariable(.float32, [4, 6], name: "x")
        try graph.mapLinearly(x)
        let sums = graph.addVariable(.float32, [8], name: "sums")
        let set = graph.addComputeSet("sums")
        let boxes = [[1..<3, 2..<5], [0..<4, 0..<1], [1..<3, 2..<5], [0..<4, 0..<1]]
        for (k, box) in (boxes + boxes).enumerated() {
            try graph.setTileMapping(sums.slice(k..<(k + 1)), tile: k % 4)
            try graph.addVertex(set, SumCodelet(), tile: k % 4, fields: SumCodelet().fields,
                                boxes: [(of: x, box: box), (of: sums, box: [k..<(k + 1)])])
        }
        // Two distinct boxes of `x`, and the eight one-element boxes of `sums`.
        #expect(graph.connectionViews.count == 10)
        for tensor in [x, sums] { try graph.makeHostVisible(tensor) }
        let engine = try Engine(try Compiler.compile(graph, program: .execute(set)))
        let values = (0..<24).map { Float($0) }
        try engine.write(x, values)
        try engine.run()
        let window = Float([8, 9, 10, 14, 15, 16].reduce(0, +)), column = Float([0, 6, 12, 18].reduce(0, +))
        #expect(try engine.read(sums, as: Float.self) == [window, column, window, column, window, column, window, column])
    }
}
