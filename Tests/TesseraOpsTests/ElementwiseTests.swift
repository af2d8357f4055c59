import Foundation
import Testing
import Tessera
import TesseraTestSupport

@Suite struct ElementwiseTests {
    @Test(arguments: [ElementType.float32, .float16])
    func activationsMatchAFloat64Reference(type: ElementType) throws {
        let graph = Graph(target: testTarget(tiles: 7))
        let ops = OpBuilder(graph)
        let x = graph.addVariable(type, [37, 13], name: "x")
        try ewMapUnevenly(graph, x, tiles: 7)
        let outputs = try Activation.allCases.map { try ops.activation(x, $0, name: $0.rawValue) }
        var random = EWRandom(seed: 11)
        let values = random.values(37 * 13, -6...6, type: type)
        let results = try ewRun(ops, inputs: [(x, values)], outputs: outputs)
        let tolerance = ewTolerance(type)
        for (activation, result) in zip(Activation.allCases, results) {
            let expected = values.map { ewReferenceActivation(activation, $0) }
            #expect(ewWorstError(result, expected, absolute: tolerance.absolute, relative: tolerance.relative) <= 1, "\(activation) \(type)")
        }
        #expect(try graph.tileMapping(of: outputs[0]) == graph.tileMapping(of: x))
        #expect(ops.plans.count == 5 && ops.plans.allSatisfy { $0.tilesUsed == 7 && $0.modelledCycles > 0 })
    }

    @Test func inPlaceActivationAndScaleOfATransposedView() throws {
        let graph = Graph(target: testTarget(tiles: 5))
        let ops = OpBuilder(graph)
        let x = graph.addVariable(.float32, [11, 9], name: "x")
        try ewMapUnevenly(graph, x, tiles: 5)
        let y = try ops.scale(x.transpose(), by: -0.5, name: "y")
        try ops.activationInPlace(y, .relu, name: "reluInPlace")
        try ops.scaleInPlace(x, by: 3, name: "triple")
        var random = EWRandom(seed: 3)
        let values = random.values(99)
        let results = try ewRun(ops, inputs: [(x, values)], outputs: [y, x])
        let transposed = (0..<99).map { values[($0 % 11) * 9 + $0 / 11] }
        #expect(y.shape == [9, 11])
        #expect(ewWorstError(results[0], transposed.map { max(-0.5 * $0, 0) }, absolute: 1e-6, relative: 1e-6) <= 1)
        #expect(ewWorstError(results[1], values.map { 3 * $0 }, absolute: 1e-6, relative: 1e-6) <= 1)
    }

    /// Rows dealt round-robin to the tiles: each tile holds many regions, stored one after another,
    /// so each vertex connects one field per operand and nothing is copied on the tile.
    @Test func regionsStoredOneAfterAnotherShareOneField() throws {
        let graph = Graph(target: testTarget(tiles: 8))
        let ops = OpBuilder(graph)
        let x = graph.addVariable(.float32, [4, 6, 8], name: "x")
        let flat = x.flatten()
        for row in 0..<24 { try graph.setTileMapping(flat.slice(row * 8..<(row + 1) * 8), tile: row % 8) }
        let y = try ops.relu(x, name: "relu")
        let z = try ops.add(x, y, name: "add")
        try ops.activationInPlace(z, .tanh, name: "tanh")
        for name in ["relu", "add", "tanh"] {
            let set = try #require(graph.computeSets.first { $0.name == name })
            let vertices = graph.computeSetVertices[set.index]
            #expect(vertices.count == 8)
            #expect(vertices.allSatisfy { graph.vertices[$0].connections.count == (name == "add" ? 3 : name == "relu" ? 2 : 1) }, "\(name)")
        }
        let executable = try Compiler.compile(graph, program: ops.program)
        #expect(executable.steps.allSatisfy { $0.onTileCopyBytes == 0 && $0.exchangedBytes == 0 })
        var random = EWRandom(seed: 4)
        let values = random.values(x.elementCount)
        let results = try ewRun(ops, inputs: [(x, values)], outputs: [z])
        #expect(ewWorstError(results[0], values.map { Foundation.tanh($0 + max($0, 0)) }, absolute: 1e-6, relative: 1e-6) <= 1)
    }

    /// Shapes of `a`, `b` and their broadcast result.
    static let broadcastCases: [([Int], [Int])] = [
        ([2, 3, 5, 7], [3, 1, 1]), ([37, 13], [1]), ([37, 13], [13]), ([5, 1], [1, 7]),
        ([37, 13], [37, 13]), ([1], [4, 9, 3]), ([3, 1, 5], [3, 4, 1]),
    ]

    @Test(arguments: [ElementType.float32, .float16])
    func binaryOperationsBroadcastLikeNumPy(type: ElementType) throws {
        let operations: [(String, (Double, Double) -> Double)] = [
            ("add", { $0 + $1 }), ("subtract", { $0 - $1 }), ("multiply", { $0 * $1 }), ("divide", { $0 / $1 }),
        ]
        for (caseIndex, (shapeA, shapeB)) in Self.broadcastCases.enumerated() {
            let graph = Graph(target: testTarget(tiles: 6))
            let ops = OpBuilder(graph)
            let a = graph.addVariable(type, shapeA, name: "a"), b = graph.addVariable(type, shapeB, name: "b")
            try ewMapUnevenly(graph, a, tiles: 6, seed: UInt64(caseIndex))
            try ewMapUnevenly(graph, b, tiles: 6, seed: UInt64(caseIndex + 100))
            let outputs = [try ops.add(a, b, name: "add"), try ops.subtract(a, b, name: "subtract"),
                           try ops.multiply(a, b, name: "multiply"), try ops.divide(a, b, name: "divide")]
            var random = EWRandom(seed: UInt64(caseIndex))
            let valuesA = random.values(a.elementCount, type: type)
            let valuesB = random.values(b.elementCount, 0.5...3, type: type).map { random.next() % 2 == 0 ? $0 : -$0 }
            let results = try ewRun(ops, inputs: [(a, valuesA), (b, valuesB)], outputs: outputs)
            let shape = outputs[0].shape
            let left = ewBroadcast(valuesA, shapeA, to: shape), right = ewBroadcast(valuesB, shapeB, to: shape)
            let tolerance = ewTolerance(type)
            for ((name, function), result) in zip(operations, results) {
                let expected = zip(left, right).map { function($0, $1) }
                #expect(ewWorstError(result, expected, absolute: tolerance.absolute, relative: tolerance.relative) <= 1,
                        "\(name) \(shapeA) with \(shapeB), \(type)")
            }
            if shapeA == shape {
                #expect(try graph.tileMapping(of: outputs[0]) == graph.tileMapping(of: a))
            }
        }
    }

    @Test(arguments: [ElementType.float32, .float16])
    func inPlaceBinaryOperationsBroadcastTheSecondOperand(type: ElementType) throws {
        let graph = Graph(target: testTarget(tiles: 6))
        let ops = OpBuilder(graph)
        let x = graph.addVariable(type, [2, 3, 5, 7], name: "x")
        let bias = graph.addVariable(type, [3, 1, 1], name: "bias"), factor = graph.addVariable(type, [1], name: "factor")
        let rows = graph.addVariable(type, [5, 7], name: "rows"), divisor = graph.addVariable(type, [7], name: "divisor")
        try ewMapUnevenly(graph, x, tiles: 6)
        try ewMapUnevenly(graph, rows, tiles: 6, seed: 3)
        try graph.setTileMapping(bias, tile: 1)
        try graph.setTileMapping(factor, tile: 4)
        try graph.mapLinearly(divisor, grainSize: 1, minElementsPerTile: 2)
        try ops.addInPlace(x, bias, name: "addBias")
        try ops.multiplyInPlace(x, factor, name: "scale")
        try ops.subtractInPlace(rows, divisor, name: "subtract")
        try ops.divideInPlace(rows, divisor, name: "divide")
        var random = EWRandom(seed: 31)
        let valuesX = random.values(210, type: type), valuesBias = random.values(3, type: type)
        let valuesFactor = random.values(1, 0.5...2, type: type), valuesRows = random.values(35, type: type)
        let valuesDivisor = random.values(7, 0.5...2, type: type)
        let results = try ewRun(ops, inputs: [(x, valuesX), (bias, valuesBias), (factor, valuesFactor), (rows, valuesRows), (divisor, valuesDivisor)],
                                outputs: [x, rows])
        let shifted = zip(valuesX, ewBroadcast(valuesBias, [3, 1, 1], to: [2, 3, 5, 7])).map { $0 + $1 }
        // float16 rounds the intermediate a + b (or a − b) once more before the second operation.
        let tolerance = type == .float16 ? (4e-3, 4e-3) : (1e-5, 1e-5)
        let expectedX = type == .float16 ? shifted.map { Double(Float16(Float($0))) * valuesFactor[0] } : shifted.map { $0 * valuesFactor[0] }
        #expect(ewWorstError(results[0], expectedX, absolute: tolerance.0, relative: tolerance.1) <= 1)
        let expectedRows = valuesRows.indices.map { (valuesRows[$0] - valuesDivisor[$0 % 7]) / valuesDivisor[$0 % 7] }
        #expect(ewWorstError(results[1], expectedRows, absolute: tolerance.0, relative: tolerance.1) <= 1)
        #expect(ops.plans.map(\.kind) == ["addInPlace", "multiplyInPlace", "subtractInPlace", "divideInPlace"])
        let small = graph.addVariable(type, [7], name: "small")
        guard case let .shapeMismatch(op, detail)? = ewError({ () throws(OpError) in try ops.addInPlace(small, rows, name: "grow") }) else {
            Issue.record("expected a shape mismatch")
            return
        }
        #expect(op == "grow" && detail.contains("[5, 7]") && detail.contains("[7]"))
    }

    @Test func broadcastOperandIsReceivedOncePerTile() throws {
        let graph = Graph(target: testTarget(tiles: 4))
        let ops = OpBuilder(graph)
        let x = graph.addVariable(.float32, [4, 8, 6, 6], name: "x"), bias = graph.addVariable(.float32, [8, 1, 1], name: "bias")
        try graph.mapLinearly(x)
        try graph.setTileMapping(bias, tile: 0)
        _ = try ops.add(x, bias, name: "addBias")
        _ = try ops.silu(x, name: "silu")
        let executable = try Compiler.compile(graph, program: ops.program)
        let step = try #require(executable.steps.first)
        // One vertex on each tile reads bias through one shared receive buffer: tiles 1…3 receive
        // at most all 8 channels each, 32 bytes.
        #expect(step.exchangedBytes > 0 && step.exchangedBytes <= 3 * 8 * 4)
        #expect(step.vertices == 4)
        #expect(ops.plans[0].temporaryBytesPerTile <= 32)
        // The plans' step model is the compiler's.
        #expect(ops.plans.map(\.modelledCycles) == executable.steps.map(\.totalCycles))
    }

    @Test func everyStepRunsOneVertexPerTile() throws {
        let graph = Graph(target: testTarget(tiles: 6))
        let ops = OpBuilder(graph)
        let x = graph.addVariable(.float32, [29, 11], name: "x"), bias = graph.addVariable(.float32, [11], name: "bias")
        try ewMapUnevenly(graph, x, tiles: 6)
        try graph.setTileMapping(bias, tile: 2)
        let y = try ops.silu(x, name: "silu")
        let z = try ops.add(x, bias, name: "addBias")
        try ops.scaledAddTo(z, y, scale: 0.25, name: "axpy")
        let h = try ops.cast(z, to: .float16, rounding: .stochastic(seed: 9), name: "toHalf")
        var random = EWRandom(seed: 5)
        let values = random.values(29 * 11), biasValues = random.values(11)
        let results = try ewRun(ops, inputs: [(x, values), (bias, biasValues)], outputs: [h], threads: 2)
        let expected = values.indices.map { values[$0] + biasValues[$0 % 11] + 0.25 * values[$0] / (1 + Foundation.exp(-values[$0])) }
        #expect(ewWorstError(results[0], expected, absolute: 4e-3, relative: 2e-3) <= 1)
        let executable = try Compiler.compile(graph, program: ops.program)
        let tilesHoldingX = try graph.tileMapping(of: x).filter { !$0.isEmpty }.count
        #expect(executable.steps.map(\.vertices) == [Int](repeating: tilesHoldingX, count: 4))
        #expect(ops.plans.map(\.modelledCycles) == executable.steps.map(\.totalCycles))
    }

    @Test func mismatchedOperandsAreTypedErrors() throws {
        let graph = Graph(target: testTarget(tiles: 2))
        let ops = OpBuilder(graph)
        let a = graph.addVariable(.float32, [3, 4], name: "a"), b = graph.addVariable(.float32, [5], name: "b")
        let h = graph.addVariable(.float16, [3, 4], name: "h"), i = graph.addVariable(.int32, [3, 4], name: "i")
        guard case let .shapeMismatch(op, detail)? = ewError({ () throws(OpError) in _ = try ops.add(a, b, name: "sum") }) else {
            Issue.record("expected a shape mismatch")
            return
        }
        #expect(op == "sum" && detail.contains("[3, 4]") && detail.contains("[5]"))
        guard case let .typeMismatch(_, typeDetail)? = ewError({ () throws(OpError) in _ = try ops.multiply(a, h, name: "product") }) else {
            Issue.record("expected a type mismatch")
            return
        }
        #expect(typeDetail.contains("float32") && typeDetail.contains("float16"))
        guard case .typeMismatch? = ewError({ () throws(OpError) in _ = try ops.relu(i, name: "r") }) else {
            Issue.record("expected a type mismatch for int32 relu")
            return
        }
    }
}
