import Testing
import Tessera
import TesseraTestSupport

@Test func variableLikeCopiesTheMappingPositionByPosition() throws {
    let graph = Graph(target: testTarget(tiles: 4))
    let x = graph.addVariable(.float32, [4, 6], name: "x")
    for row in 0..<4 { try graph.setTileMapping(x.index(row), tile: 3 - row) }
    let ops = OpBuilder(graph)
    let view = try x.transpose()
    let y = try ops.variable(like: view, type: .float16, name: "y")
    #expect(y.shape == [6, 4] && y.elementType == .float16)
    #expect(try graph.tileMapping(of: y) == graph.tileMapping(of: view))
    #expect(try ops.tileRegions(of: x).map(\.tile) == [0, 1, 2, 3])
}
