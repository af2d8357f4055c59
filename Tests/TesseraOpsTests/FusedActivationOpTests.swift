import Foundation
import Testing
import Tessera
import TesseraTestSupport

/// A normalisation or an add with an activation in its own step gives what the two operations
/// give one after the other, bit for bit (float16 rounding included), in one step of fewer
/// modelled cycles.
@Suite struct FusedActivationOpTests {
    @Test(arguments: normBatchNormCases, [Activation.relu, .silu])
    func batchNormWithAnActivationEqualsTheTwoOperations(_ test: NormBatchNormCase, _ activation: Activation) throws {
        let (graph, x, parameters, ops) = try normInferenceGraph(test)
        let fused = try ops.batchNormInference(x, scale: parameters[0], shift: parameters[1], mean: parameters[2],
                                               variance: parameters[3], epsilon: 1e-3, activation: activation, name: "fused")
        let plain = try ops.batchNormInference(x, scale: parameters[0], shift: parameters[1], mean: parameters[2],
                                               variance: parameters[3], epsilon: 1e-3, name: "plain")
        let separate = try ops.activation(plain, activation, name: "activation")
        #expect(try graph.tileMapping(of: fused) == graph.tileMapping(of: x))
        let (results, affine) = try normInferenceRun(test, x, parameters, ops, seed: 5, outputs: [fused, separate])
        #expect(results[0] == results[1])
        let expected = affine.map { ewReferenceActivation(activation, $0) }
        #expect(normWorstError(results[0], expected) < normTolerance(test.type) * 2)
        let plans = Dictionary(uniqueKeysWithValues: ops.plans.map { ($0.name, $0) })
        #expect(plans["fused"]!.partition.hasSuffix("then \(activation.rawValue) in the same step"))
        #expect(plans["fused"]!.modelledCycles < plans["plain"]!.modelledCycles + plans["activation"]!.modelledCycles)
    }

    @Test func groupNormWithSiLUEqualsTheTwoOperations() throws {
        let graph = Graph(target: testTarget(tiles: 5))
        let shape = [2, 8, 5, 3]
        let x = graph.addVariable(.float16, shape, name: "x")
        try normMap(graph, x, .randomCuts, seed: 4)
        let scale = graph.addVariable(.float16, [8], name: "scale"), shift = graph.addVariable(.float16, [8], name: "shift")
        try graph.setTileMapping(scale, tile: 1)
        try graph.setTileMapping(shift, tile: 3)
        let ops = OpBuilder(graph)
        let fused = try ops.groupNorm(x, groups: 4, scale: scale, shift: shift, activation: .silu, name: "fused")
        let separate = try ops.activation(try ops.groupNorm(x, groups: 4, scale: scale, shift: shift, name: "plain"), .silu, name: "silu")
        var random = NormRandom(seed: 6)
        let xs = random.values(x.elementCount, -2...2, type: .float16)
        let scales = random.values(8, 0.5...2, type: .float16), shifts = random.values(8, -1...1, type: .float16)
        let results = try normRun(ops, inputs: [(x, xs), (scale, scales), (shift, shifts)], outputs: [fused, separate], threads: 2)
        #expect(results[0] == results[1])
        // And against the float64 group norm through SiLU.
        let normalised = groupNormReference(xs, n: 2, c: 8, plane: 15, groups: 4, scale: scales, shift: shifts, epsilon: 1e-5)
        #expect(normWorstError(results[0], normalised.map { $0 / (1 + Foundation.exp(-$0)) }) < normTolerance(.float16))
    }

    @Test(arguments: [ElementType.float32, .float16], [[2, 6, 5, 7], [6, 1, 1]])
    func addWithAnActivationEqualsTheTwoOperations(_ type: ElementType, _ bShape: [Int]) throws {
        let graph = Graph(target: testTarget(tiles: 6))
        let shape = [2, 6, 5, 7]
        let a = graph.addVariable(type, shape, name: "a"), b = graph.addVariable(type, bShape, name: "b")
        try ewMapUnevenly(graph, a, tiles: 6)
        try graph.mapLinearly(b, grainSize: 1, minElementsPerTile: 1)
        let ops = OpBuilder(graph)
        let fused = try ops.add(a, b, activation: .relu, name: "fused")
        let separate = try ops.activation(try ops.add(a, b, name: "add"), .relu, name: "relu")
        var random = EWRandom(seed: 9)
        let aValues = random.values(a.elementCount, type: type), bValues = random.values(b.elementCount, type: type)
        let results = try ewRun(ops, inputs: [(a, aValues), (b, bValues)], outputs: [fused, separate], threads: 2)
        #expect(results[0] == results[1])
        let expected = zip(aValues, ewBroadcast(bValues, bShape, to: shape)).map { max($0 + $1, 0) }
        let tolerance = ewTolerance(type)
        #expect(ewWorstError(results[0], expected, absolute: tolerance.absolute, relative: tolerance.relative) <= 1)
        #expect(results[0].contains(0) && results[0].contains { $0 > 0 })
        let plans = Dictionary(uniqueKeysWithValues: ops.plans.map { ($0.name, $0) })
        #expect(plans["fused"]!.partition.hasSuffix("then relu in the same step"))
        #expect(plans["fused"]!.modelledCycles < plans["add"]!.modelledCycles + plans["relu"]!.modelledCycles)
    }
}

/// A convolution that applies its activation as its output is written.
@Suite struct FusedConvolutionActivationTests {
    /// The first case writes its output from the convolution vertices; the last two from the
    /// reduction of an input-channel split.
    @Test(arguments: [LinearConvCase.all[0], LinearConvCase.all[3]] + LinearConvCase.all.suffix(2), [Activation.relu, .silu])
    func convolutionWithAnActivationEqualsTheTwoOperations(_ test: LinearConvCase, _ activation: Activation) throws {
        let p = test.parameters
        let fixture = LinearFixture(tiles: test.tiles)
        let (x, xs) = try fixture.input(p.inputShape, p.elementType, name: "x", seed: 3)
        let w = try fixture.ops.createConvWeights(parameters: p, name: "w")
        let ws = try fixture.written(w, seed: 4)
        let (b, bs) = p.hasBias ? try fixture.input([p.outputChannels], p.elementType, name: "b", seed: 5) : (nil, nil)
        let fused = try fixture.ops.conv2d(x, weights: w, bias: b, parameters: p, activation: activation, name: "fused")
        let separate = try fixture.ops.activation(try fixture.ops.conv2d(x, weights: w, bias: b, parameters: p, name: "conv"),
                                                  activation, name: "act")
        let both = try Tensor.concatenate([fused.flatten(), separate.flatten()])
        let results = try fixture.run(both, threads: 2)
        let half = results.count / 2
        #expect(Array(results[..<half]) == Array(results[half...]))
        // Against the float64 reference through the activation (ReLU checked exactly where it clips).
        let reference = linearReferenceConv(p, input: xs, weights: ws, bias: bs)
        let activated = (values: reference.values.map { activation == .relu ? max($0, 0) : $0 / (1 + Foundation.exp(-$0)) },
                         magnitudes: reference.magnitudes)
        #expect(linearWorstError(Array(results[..<half]), activated, type: p.elementType) <= 1)
        if activation == .relu { #expect(results[..<half].contains(0) && results[..<half].contains { $0 > 0 }) }
        let names = Set(fixture.graph.vertices.map { $0.codelet.name })
        #expect(names.contains { $0.hasSuffix("+\(activation.rawValue)") }, "\(names)")
        let plans = Dictionary(uniqueKeysWithValues: fixture.ops.plans.map { ($0.name, $0) })
        #expect(plans["fused"]!.partition.hasSuffix("then \(activation.rawValue) in the same step"))
    }
}
