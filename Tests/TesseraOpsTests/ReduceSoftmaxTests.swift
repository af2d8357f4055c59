import Foundation
import Testing
import Tessera
import TesseraTestSupport

/// Float64 softmax and log-softmax of rows of length `classes`.
private func referenceRows(_ values: [Double], classes: Int) -> (softmax: [Double], logSoftmax: [Double]) {
    var softmax: [Double] = [], logSoftmax: [Double] = []
    for start in stride(from: 0, to: values.count, by: classes) {
        let row = values[start..<(start + classes)]
        let largest = row.max()!
        let logSum = Foundation.log(row.reduce(0) { $0 + Foundation.exp($1 - largest) })
        logSoftmax += row.map { $0 - largest - logSum }
        softmax += row.map { Foundation.exp($0 - largest - logSum) }
    }
    return (softmax, logSoftmax)
}

@Suite struct ReduceSoftmaxTests {
    @Test(arguments: [ElementType.float32, .float16])
    func softmaxAndLogSoftmaxAreStableAndMatchAFloat64Reference(type: ElementType) throws {
        for shape in [[37, 13], [3, 5, 7]] {
            let graph = Graph(target: testTarget(tiles: 6))
            let ops = OpBuilder(graph)
            let x = graph.addVariable(type, shape, name: "x")
            try ewMapUnevenly(graph, x, tiles: 6)
            let probabilities = try ops.softmax(x, name: "softmax")
            let logProbabilities = try ops.logSoftmax(x, name: "logSoftmax")
            var random = EWRandom(seed: 21)
            var values = random.values(x.elementCount, -8...8, type: type)
            // A row far beyond exp's range: e^200 overflows float32, so only a shifted softmax survives.
            let classes = shape.last!, offset = type == .float16 ? 2_000.0 : 200.0
            for i in 0..<classes { values[classes + i] = (values[classes + i] + offset).rounded() }
            let results = try ewRun(ops, inputs: [(x, values)], outputs: [probabilities, logProbabilities])
            let expected = referenceRows(values, classes: classes)
            // float16: inputs up to 8 in magnitude carry 2⁻⁸ absolute rounding in x − max, so e^(x − max)
            // is off by ~0.4 % relative before its own rounding.
            let (absolute, relative) = type == .float16 ? (2e-3, 1.5e-2) : (1e-6, 2e-5)
            #expect(ewWorstError(results[0], expected.softmax, absolute: absolute, relative: relative) <= 1, "softmax \(shape) \(type)")
            #expect(ewWorstError(results[1], expected.logSoftmax, absolute: type == .float16 ? 2e-2 : 1e-5, relative: relative) <= 1,
                    "logSoftmax \(shape) \(type)")
            #expect(try graph.tileMapping(of: probabilities) == graph.tileMapping(of: x))
            #expect(ops.plans.contains { $0.kind == "softmax" && $0.name == "softmax" && $0.modelledCycles > 0 })
        }
    }

    @Test(arguments: [ElementType.float32, .float16])
    func crossEntropyLossMatchesAFloat64Reference(type: ElementType) throws {
        let (samples, classes) = (37, 13)
        let graph = Graph(target: testTarget(tiles: 5))
        let ops = OpBuilder(graph)
        let logits = graph.addVariable(type, [samples, classes], name: "logits")
        let labels = graph.addVariable(.int32, [samples], name: "labels")
        try ewMapUnevenly(graph, logits, tiles: 5)
        try graph.mapLinearly(labels, grainSize: 1, minElementsPerTile: 8)
        let (loss, perSample) = try ops.crossEntropyLoss(logits: logits, labels: labels, name: "xent")
        var random = EWRandom(seed: 8)
        let values = random.values(samples * classes, -5...5, type: type)
        let labelValues = (0..<samples).map { _ in Double(random.next() % UInt64(classes)) }
        let results = try ewRun(ops, inputs: [(logits, values), (labels, labelValues)], outputs: [loss, perSample])
        let logProbabilities = referenceRows(values, classes: classes).logSoftmax
        let expected = (0..<samples).map { -logProbabilities[$0 * classes + Int(labelValues[$0])] }
        let (absolute, relative) = type == .float16 ? (2e-2, 1e-2) : (1e-5, 1e-5)
        #expect(loss.shape == [] && perSample.shape == [samples])
        #expect(ewWorstError(results[1], expected, absolute: absolute, relative: relative) <= 1)
        #expect(ewWorstError(results[0], [expected.reduce(0, +) / Double(samples)], absolute: absolute, relative: relative) <= 1)
        #expect(ops.plans.last?.kind == "crossEntropyLoss")
    }

    @Test func crossEntropyRejectsMismatchedLabels() {
        let graph = Graph(target: testTarget(tiles: 2))
        let ops = OpBuilder(graph)
        let logits = graph.addVariable(.float32, [6, 4], name: "logits")
        let short = graph.addVariable(.int32, [5], name: "short"), floats = graph.addVariable(.float32, [6], name: "floats")
        guard case let .shapeMismatch(op, detail)? = ewError({ () throws(OpError) in _ = try ops.crossEntropyLoss(logits: logits, labels: short, name: "xent") }),
              case .typeMismatch? = ewError({ () throws(OpError) in _ = try ops.crossEntropyLoss(logits: logits, labels: floats, name: "xent") }) else {
            Issue.record("expected a shape and a type mismatch")
            return
        }
        #expect(op == "xent" && detail.contains("[6, 4]") && detail.contains("[5]"))
    }
}
