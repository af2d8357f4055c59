import Testing
import Tessera
import TesseraTestSupport

@Suite struct GraphErrorTests {
    let graph = Graph(target: testTarget(tiles: 4))

    @Test func vertexConnectionErrorsNameVertexAndField() throws {
        let x = graph.addVariable(.float32, [8], name: "x")
        let y = graph.addVariable(.float32, [8], name: "y")
        let h = graph.addVariable(.float16, [8], name: "h")
        let cs = graph.addComputeSet("scale")
        #expect(throws: GraphError.badConnection(vertex: "ScaleCodelet #0 in 'scale'", field: "out", detail: "not connected")) {
            try graph.addVertex(cs, ScaleCodelet(factor: 2), tile: 0, ["in": x])
        }
        #expect(thrownCase { try graph.addVertex(cs, ScaleCodelet(factor: 2), tile: 0, ["in": x, "out": y, "bias": x]) } == "badConnection")
        #expect(throws: GraphError.elementTypeMismatch(context: "vertex ScaleCodelet #0 in 'scale', field 'in'", expected: .float32, actual: .float16)) {
            try graph.addVertex(cs, ScaleCodelet(factor: 2), tile: 0, ["in": h, "out": y])
        }
        #expect(throws: GraphError.badConnection(vertex: "ScaleCodelet #0 in 'scale'", field: "*", detail: "in has 8 elements, out has 4")) {
            try graph.addVertex(cs, ScaleCodelet(factor: 2), tile: 0, ["in": x, "out": y.slice(0..<4)])
        }
        #expect(throws: GraphError.badConnection(vertex: "SumCodelet #0 in 'scale'", field: "out", detail: "scalar field connected to 8 elements")) {
            try graph.addVertex(cs, SumCodelet(), tile: 0, ["in": x, "out": y])
        }
        #expect(throws: GraphError.tileOutOfRange(object: "vertex SumCodelet #0 in 'scale'", tile: -1, tiles: 4)) {
            try graph.addVertex(cs, SumCodelet(), tile: -1, ["in": x, "out": y.slice(0..<1)])
        }
    }

    @Test func objectsOfAnotherGraphAreRejected() throws {
        let other = Graph(target: testTarget(tiles: 4))
        let foreign = other.addVariable(.float32, [8], name: "foreign")
        let y = graph.addVariable(.float32, [8], name: "y")
        let cs = graph.addComputeSet("cs")
        #expect(throws: GraphError.foreignObject(kind: "tensor", name: "connected to ScaleCodelet #0 in 'cs'.in")) {
            try graph.addVertex(cs, ScaleCodelet(factor: 1), tile: 0, ["in": foreign, "out": y])
        }
        #expect(thrownCase { try graph.setTileMapping(foreign, tile: 0) } == "foreignObject")
        let otherSet = other.addComputeSet("theirs")
        #expect(thrownCase { try Compiler.compile(graph, program: .execute(otherSet)) } == "foreignObject")
    }

    @Test func aTargetWithoutTilesMapsNothing() {
        let empty = Graph(target: Target(name: "none", tiles: 0, bytesPerTile: 1024))
        let x = empty.addVariable(.float32, [8], name: "x")
        #expect(thrownCase { try empty.mapLinearly(x) } == "tileOutOfRange")
    }

    @Test func constantValuesMustMatchShape() throws {
        #expect(thrownCase { try graph.addConstant([Float(1)], shape: [1 << 40, 1 << 40], name: "huge") } == "badConstant")
        #expect(throws: GraphError.badConstant(name: "c", detail: "3 values for shape [2, 2]")) {
            try graph.addConstant([Float(1), 2, 3], shape: [2, 2], name: "c")
        }
    }

    @Test func duplicateStreamNamesAreRejected() throws {
        _ = try graph.addHostToDeviceStream("in", .float32, elementCount: 4)
        #expect(throws: GraphError.duplicateName(kind: "stream", name: "in")) {
            try graph.addDeviceToHostStream("in", .float32, elementCount: 4)
        }
    }
}
