import Testing
import Tessera
import TesseraTestSupport

@Test func sumOverTilesWithExchange() throws {
    let graph = Graph(target: testTarget())
    let x = graph.addVariable(.float32, [4, 8], name: "x")
    let sums = graph.addVariable(.float32, [4], name: "sums")
    for row in 0..<4 { try graph.setTileMapping(x.index(row), tile: row) }
    try graph.setTileMapping(sums, tile: 0)
    try graph.makeHostVisible(x)
    try graph.makeHostVisible(sums)
    let cs = graph.addComputeSet("sum")
    for row in 0..<4 { try graph.addVertex(cs, SumCodelet(), tile: (row + 1) % 4, ["in": x.index(row), "out": sums.index(row)]) }
    let exe = try Compiler.compile(graph, program: .execute(cs))
    let engine = try Engine(exe, options: EngineOptions(threads: 2))
    try engine.write(x, (0..<32).map(Float.init))
    try engine.run()
    let result = try engine.read(sums, as: Float.self)
    #expect(result == [28, 92, 156, 220])
}
