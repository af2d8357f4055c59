import Testing
import Tessera
import TesseraTestSupport

/// Float64 batch statistics of `x` (`[N, C, H, W]` flat): per-channel mean and biased variance.
func normReferenceMoments(_ x: [Double], n: Int, c: Int, plane: Int) -> (mean: [Double], variance: [Double]) {
    var mean = [Double](repeating: 0, count: c), variance = [Double](repeating: 0, count: c)
    let count = Double(n * plane)
    for channel in 0..<c {
        var sum = 0.0
        for sample in 0..<n { for p in 0..<plane { sum += x[(sample * c + channel) * plane + p] } }
        mean[channel] = sum / count
        var squares = 0.0
        for sample in 0..<n { for p in 0..<plane { let d = x[(sample * c + channel) * plane + p] - mean[channel]; squares += d * d } }
        variance[channel] = squares / count
    }
    return (mean, variance)
}

/// Float64 `scale·(x − mean)/√(variance + ε) + shift` per channel.
func normReferenceAffine(_ x: [Double], c: Int, plane: Int, mean: [Double], variance: [Double],
                         scale: [Double], shift: [Double], epsilon: Double) -> [Double] {
    x.indices.map { i in
        let channel = (i / plane) % c
        return scale[channel] * (x[i] - mean[channel]) / (variance[channel] + epsilon).squareRoot() + shift[channel]
    }
}

struct NormBatchNormCase: CustomTestStringConvertible, Sendable {
    var shape: [Int]
    var tiles: Int
    var mapping: NormMapping
    var type: ElementType
    var testDescription: String { "\(type) \(shape) on \(tiles) tiles, \(mapping.rawValue)" }
}

let normBatchNormCases: [NormBatchNormCase] = [
    NormBatchNormCase(shape: [3, 5, 7, 3], tiles: 7, mapping: .randomCuts, type: .float32),
    NormBatchNormCase(shape: [3, 5, 7, 3], tiles: 7, mapping: .randomCuts, type: .float16),
    NormBatchNormCase(shape: [2, 7, 5, 5], tiles: 4, mapping: .channelMajor, type: .float32),
    NormBatchNormCase(shape: [2, 7, 5, 5], tiles: 4, mapping: .channelMajor, type: .float16),
    NormBatchNormCase(shape: [5, 3, 1, 1], tiles: 5, mapping: .linear, type: .float32),
    NormBatchNormCase(shape: [1, 9, 11, 13], tiles: 16, mapping: .linear, type: .float16),
]

/// A graph for `test`: `x` mapped as it says and four `[C]` parameters (scale, shift, mean,
/// variance) on tiles spread over the target, with a builder.
func normInferenceGraph(_ test: NormBatchNormCase) throws -> (graph: Graph, x: Tensor, parameters: [Tensor], ops: OpBuilder) {
    let graph = Graph(target: testTarget(tiles: test.tiles))
    let x = graph.addVariable(test.type, test.shape, name: "x")
    try normMap(graph, x, test.mapping)
    let parameters = (0..<4).map { graph.addVariable(test.type, [test.shape[1]], name: "p\($0)") }
    for (k, p) in parameters.enumerated() { try graph.setTileMapping(p, tile: (k * 3) % test.tiles) }
    return (graph, x, parameters, OpBuilder(graph))
}

/// Runs `outputs` of `test`'s graph (``normInferenceGraph(_:)``) on random `x` and parameters;
/// returns the results and the float64 batch norm (ε = 10⁻³) of those inputs.
func normInferenceRun(_ test: NormBatchNormCase, _ x: Tensor, _ parameters: [Tensor], _ ops: OpBuilder, seed: UInt64,
                      outputs: [Tensor]) throws -> (results: [[Double]], expected: [Double]) {
    let (c, plane) = (test.shape[1], test.shape[2] * test.shape[3])
    var random = NormRandom(seed: seed)
    let xs = random.values(x.elementCount, -3...3, type: test.type)
    let scale = random.values(c, 0.5...2, type: test.type), shift = random.values(c, -1...1, type: test.type)
    let mean = random.values(c, -1...1, type: test.type), variance = random.values(c, 0.2...3, type: test.type)
    let results = try normRun(ops, inputs: [(x, xs), (parameters[0], scale), (parameters[1], shift), (parameters[2], mean), (parameters[3], variance)],
                              outputs: outputs)
    return (results, normReferenceAffine(xs, c: c, plane: plane, mean: mean, variance: variance, scale: scale, shift: shift, epsilon: 1e-3))
}

@Suite struct NormBatchNormTests {
    @Test(arguments: normBatchNormCases)
    func inferenceMatchesTheFloat64Reference(_ test: NormBatchNormCase) throws {
        let (graph, x, parameters, ops) = try normInferenceGraph(test)
        let y = try ops.batchNormInference(x, scale: parameters[0], shift: parameters[1], mean: parameters[2],
                                           variance: parameters[3], epsilon: 1e-3, name: "bn")
        #expect(y.shape == test.shape && y.elementType == test.type)
        #expect(try graph.tileMapping(of: y) == graph.tileMapping(of: x))
        let (results, expected) = try normInferenceRun(test, x, parameters, ops, seed: 1, outputs: [y])
        #expect(normWorstError(results[0], expected) < normTolerance(test.type))
        #expect(ops.plans.count == 1 && ops.plans[0].kind == "batchNormInference" && ops.plans[0].modelledCycles > 0)
    }

    @Test(arguments: normBatchNormCases)
    func trainingMatchesTheFloat64Reference(_ test: NormBatchNormCase) throws {
        let graph = Graph(target: testTarget(tiles: test.tiles))
        let (n, c, plane) = (test.shape[0], test.shape[1], test.shape[2] * test.shape[3])
        let x = graph.addVariable(test.type, test.shape, name: "x")
        try normMap(graph, x, test.mapping)
        let scale = graph.addVariable(test.type, [c], name: "scale"), shift = graph.addVariable(test.type, [c], name: "shift")
        try graph.mapLinearly(scale, grainSize: 1, minElementsPerTile: 1)
        try graph.setTileMapping(shift, tile: test.tiles - 1)
        let ops = OpBuilder(graph)
        let (y, mean, variance) = try ops.batchNormTraining(x, scale: scale, shift: shift, epsilon: 1e-5, name: "bn")
        #expect(mean.shape == [c] && variance.shape == [c] && mean.elementType == .float32)
        var random = NormRandom(seed: 2)
        let xs = random.values(x.elementCount, -2...3, type: test.type)
        let scales = random.values(c, 0.5...2, type: test.type), shifts = random.values(c, -1...1, type: test.type)
        let results = try normRun(ops, inputs: [(x, xs), (scale, scales), (shift, shifts)], outputs: [y, mean, variance])
        let moments = normReferenceMoments(xs, n: n, c: c, plane: plane)
        let expected = normReferenceAffine(xs, c: c, plane: plane, mean: moments.mean, variance: moments.variance,
                                           scale: scales, shift: shifts, epsilon: 1e-5)
        #expect(normWorstError(results[1], moments.mean) < 1e-5)
        #expect(normWorstError(results[2], moments.variance) < 1e-5)
        #expect(normWorstError(results[0], expected) < normTolerance(test.type) * (test.type == .float32 ? 5 : 1))
    }

    /// Float16 activations with float32 parameters (mixed precision), run on 2 host threads.
    @Test func float16ActivationsTakeFloat32Parameters() throws {
        let graph = Graph(target: testTarget(tiles: 6))
        let shape = [3, 4, 5, 7]
        let x = graph.addVariable(.float16, shape, name: "x")
        try normMap(graph, x, .randomCuts, seed: 21)
        let parameters = (0..<4).map { graph.addVariable(.float32, [4], name: "p\($0)") }
        for p in parameters { try graph.mapLinearly(p, grainSize: 1, minElementsPerTile: 1) }
        let ops = OpBuilder(graph)
        let inference = try ops.batchNormInference(x, scale: parameters[0], shift: parameters[1], mean: parameters[2],
                                                   variance: parameters[3], name: "bn")
        let (training, mean, variance) = try ops.batchNormTraining(x, scale: parameters[0], shift: parameters[1], name: "bt")
        var random = NormRandom(seed: 8)
        let xs = random.values(x.elementCount, -2...2, type: .float16)
        let scale = random.values(4, 0.5...2, type: .float32), shift = random.values(4, -1...1, type: .float32)
        let givenMean = random.values(4, -1...1, type: .float32), givenVariance = random.values(4, 0.5...2, type: .float32)
        let results = try normRun(ops, inputs: [(x, xs), (parameters[0], scale), (parameters[1], shift), (parameters[2], givenMean), (parameters[3], givenVariance)],
                                  outputs: [inference, training, mean, variance], threads: 2)
        let moments = normReferenceMoments(xs, n: 3, c: 4, plane: 35)
        #expect(normWorstError(results[0], normReferenceAffine(xs, c: 4, plane: 35, mean: givenMean, variance: givenVariance,
                                                               scale: scale, shift: shift, epsilon: 1e-5)) < normTolerance(.float16))
        #expect(normWorstError(results[1], normReferenceAffine(xs, c: 4, plane: 35, mean: moments.mean, variance: moments.variance,
                                                               scale: scale, shift: shift, epsilon: 1e-5)) < normTolerance(.float16))
        #expect(normWorstError(results[2], moments.mean) < 1e-5)
        #expect(normWorstError(results[3], moments.variance) < 1e-5)
    }
}
