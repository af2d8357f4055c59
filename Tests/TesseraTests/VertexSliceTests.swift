import Testing
import Tessera
import TesseraTestSupport

/// A vertex connected to slices of one-dimensional views stores exactly the runs, sizes and
/// estimate of one connected to the slices' tensors.
@Suite struct VertexSliceTests {
    @Test(arguments: [0..<12, 2..<9, 5..<6, 3..<3])
    func slicesConnectLikeTheirTensors(positions: Range<Int>) throws {
        let graph = Graph(target: testTarget(tiles: 4))
        let x = graph.addVariable(.float32, [3, 4], name: "x")
        let y = graph.addVariable(.float32, [12], name: "y")
        // A transposed view: one run per column, so a slice crosses run boundaries.
        let view = try x.transpose().flatten()
        let codelet = ScaleCodelet(factor: 2), fields = codelet.fields
        let cs = graph.addComputeSet("scale")
        let bySlices = try graph.addVertex(cs, codelet, tile: 1, fields: fields,
                                           slices: [(of: view, positions: positions), (of: y, positions: positions)])
        let byTensors = try graph.addVertex(cs, codelet, tile: 1, fields: fields, [try view.slice(positions), try y.slice(positions)])
        for (a, b) in zip(graph.vertices[bySlices.index].connections, graph.vertices[byTensors.index].connections) {
            #expect(graph.runs(ofConnection: a) == graph.runs(ofConnection: b))
            #expect(graph.connections[a].count == graph.connections[b].count)
            #expect(graph.connections[a].direction == graph.connections[b].direction)
            #expect(graph.connections[a].elementBytes == 4 && !graph.connections[a].isScalar)
        }
        #expect(graph.estimatedCycles(ofVertex: bySlices.index) == codelet.estimateCycles(fieldSizes: [positions.count, positions.count], target: graph.target))
        #expect(graph.estimatedCycles(ofVertex: bySlices.index) == graph.estimatedCycles(ofVertex: byTensors.index))
    }

    /// A vertex connected to boxes of tensors stores the boxes, and gives the runs, sizes and
    /// estimate of one connected to the boxes' slices; a box outside its tensor is a typed error.
    @Test(arguments: [[0..<2, 1..<3, 0..<4], [1..<2, 0..<3, 2..<3], [0..<2, 0..<3, 0..<4]])
    func boxesConnectLikeTheirSlices(box: [Range<Int>]) throws {
        let graph = Graph(target: testTarget(tiles: 4))
        let x = graph.addVariable(.float32, [2, 3, 4], name: "x")
        // A view of two runs per row, so a box walks several runs.
        let view = try Tensor.concatenate([x.slice(0..<2, dimension: 2), x.slice(2..<4, dimension: 2)], dimension: 2)
        let y = graph.addVariable(.float32, box.map(\.count), name: "y")
        let codelet = ScaleCodelet(factor: 2), fields = codelet.fields
        let cs = graph.addComputeSet("scale")
        let byBoxes = try graph.addVertex(cs, codelet, tile: 2, fields: fields, boxes: [(of: view, box: box), (of: y, box: y.shape.map { 0..<$0 })])
        let bySlices = try graph.addVertex(cs, codelet, tile: 2, fields: fields, [try view.slice(box), y])
        #expect(graph.connectionViews.count == 2)
        for (a, b) in zip(graph.vertices[byBoxes.index].connections, graph.vertices[bySlices.index].connections) {
            #expect(graph.connections[a].view != nil && graph.connections[b].view == nil)
            #expect(graph.runs(ofConnection: a) == graph.runs(ofConnection: b))
            #expect(graph.connections[a].count == graph.connections[b].count && graph.connections[a].elementBytes == 4)
        }
        #expect(graph.estimatedCycles(ofVertex: byBoxes.index) == graph.estimatedCycles(ofVertex: bySlices.index))
        #expect(throws: GraphError.indexOutOfRange(operation: "addVertex", detail: "box [0..<2, 0..<3, 3..<5] of field 'in' is outside shape [2, 3, 4]")) {
            try graph.addVertex(cs, codelet, tile: 2, fields: fields, boxes: [(of: view, box: [0..<2, 0..<3, 3..<5]), (of: y, box: y.shape.map { 0..<$0 })])
        }
        let deep = graph.addVariable(.float32, [1, 1, 1, 1, 1, 1, 2], name: "deep")
        #expect {
            try graph.addVertex(cs, codelet, tile: 2, fields: fields, boxes: [(of: deep, box: deep.shape.map { 0..<$0 }), (of: y, box: y.shape.map { 0..<$0 })])
        } throws: { error in
            guard case .badConnection(_, let field, let detail) = error as? GraphError else { return false }
            return field == "in" && detail.contains("rank 7") && detail.contains("6")
        }
    }

    /// A field over two regions that its tile stores one after the other is connected to tile
    /// memory directly; taken in the other order they are gathered into a buffer and scattered back.
    @Test(arguments: [false, true])
    func regionsStoredOneAfterAnotherNeedNoCopies(reversed: Bool) throws {
        let graph = Graph(target: testTarget(tiles: 2))
        let x = graph.addVariable(.float32, [12], name: "x"), y = graph.addVariable(.float32, [12], name: "y")
        for tensor in [x, y] {
            try graph.setTileMapping(tensor, positions: [0..<3, 6..<9], tile: 0)
            try graph.setTileMapping(tensor, positions: [3..<6, 9..<12], tile: 1)
            try graph.makeHostVisible(tensor)
        }
        let regions = reversed ? [6..<9, 0..<3] : [0..<3, 6..<9]
        let codelet = ScaleCodelet(factor: 2)
        let cs = graph.addComputeSet("scale")
        try graph.addVertex(cs, codelet, tile: 0, fields: codelet.fields, regions: [(of: x, positions: regions), (of: y, positions: regions)])
        let executable = try Compiler.compile(graph, program: .execute(cs))
        #expect(executable.steps[0].onTileCopyBytes == (reversed ? 2 * 6 * 4 : 0))
        let engine = try Engine(executable)
        try engine.write(x, (0..<12).map(Float.init))
        try engine.write(y, [Float](repeating: -1, count: 12))
        try engine.run()
        #expect(try engine.read(y, as: Float.self) == [0, 2, 4, -1, -1, -1, 12, 14, 16, -1, -1, -1])
    }

    @Test func outOfRangeSliceThrowsAsTheTensorSliceDoes() throws {
        let graph = Graph(target: testTarget(tiles: 4))
        let x = graph.addVariable(.float32, [8], name: "x")
        let codelet = ScaleCodelet(factor: 2)
        let cs = graph.addComputeSet("scale")
        #expect(throws: GraphError.self) {
            try graph.addVertex(cs, codelet, tile: 0, fields: codelet.fields, slices: [(of: x, positions: 4..<10), (of: x, positions: 0..<6)])
        }
        #expect(throws: GraphError.badConnection(vertex: "ScaleCodelet #0 in 'scale'", field: "*", detail: "in has 4 elements, out has 2")) {
            try graph.addVertex(cs, codelet, tile: 0, fields: codelet.fields, slices: [(of: x, positions: 0..<4), (of: x, positions: 4..<6)])
        }
        #expect(graph.connections.isEmpty && graph.connectionRuns.isEmpty)
    }

    /// A field given as regions is checked as a field given a tensor: its operand's graph, its
    /// element type and (for a scalar field) its size, whichever field it is.
    @Test func regionFieldsAreCheckedLikeTensorFields() throws {
        let graph = Graph(target: testTarget(tiles: 2))
        let x = graph.addVariable(.float32, [8], name: "x"), h = graph.addVariable(.float16, [8], name: "h")
        let foreign = Graph(target: testTarget(tiles: 2)).addVariable(.float32, [8], name: "foreign")
        let cs = graph.addComputeSet("check")
        let scale = ScaleCodelet(factor: 2), sum = SumCodelet()
        #expect(throws: GraphError.elementTypeMismatch(context: "vertex ScaleCodelet #0 in 'check', field 'out'", expected: .float32, actual: .float16)) {
            try graph.addVertex(cs, scale, tile: 0, fields: scale.fields, regions: [(of: x, positions: [0..<2, 4..<6]), (of: h, positions: [0..<4])])
        }
        #expect(throws: GraphError.foreignObject(kind: "tensor", name: "connected to ScaleCodelet #0 in 'check'.out")) {
            try graph.addVertex(cs, scale, tile: 0, fields: scale.fields, regions: [(of: x, positions: [0..<4]), (of: foreign, positions: [0..<4])])
        }
        #expect(throws: GraphError.badConnection(vertex: "SumCodelet #0 in 'check'", field: "out", detail: "scalar field connected to 2 elements")) {
            try graph.addVertex(cs, sum, tile: 0, fields: sum.fields, regions: [(of: x, positions: [0..<4]), (of: x, positions: [4..<5, 6..<7])])
        }
        #expect(graph.connections.isEmpty && graph.vertices.isEmpty)
    }
}
