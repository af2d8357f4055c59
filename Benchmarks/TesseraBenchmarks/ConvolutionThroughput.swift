import Foundation
import Tessera

/// Host throughput of every distinct ResNet-50 and EfficientNet-B0 convolution (batch 8, float32) in
/// Tessera and in ONNX Runtime, in the same run (scripts/onnx_conv_reference.py times ONNX Runtime).
func convolutionBenchmarks(target: Target, batch: Int = 8, repeats: Int = 3) throws {
    let shapes = resNet50Convolutions(batch: batch) + efficientNetB0Convolutions(batch: batch)
    let reference = try onnxRuntimeSeconds(shapes, repeats: repeats)
    print("convolution throughput, batch \(batch), float32 (host GFLOP/s; ratio = Tessera time / ONNX Runtime time)")
    var ratios: [(flops: Int, ratio: Double)] = []
    for shape in shapes {
        let seconds = try tesseraSeconds(shape, target: target, repeats: repeats)
        let ort = reference[shape.name] ?? .nan
        let ratio = seconds / ort
        ratios.append((shape.flops, ratio))
        print("  \(shape.name.padding(toLength: 52, withPad: " ", startingAt: 0)) \(format(Double(shape.flops) / 1e9, 3)) GFLOP  "
            + "Tessera \(format(Double(shape.flops) / seconds / 1e9, 1))  ONNX Runtime \(format(Double(shape.flops) / ort / 1e9, 1))  ratio \(format(ratio))")
    }
    let large = ratios.filter { $0.flops >= 1_000_000_000 }
    let geometricMean = exp(large.map { log($0.ratio) }.reduce(0, +) / Double(max(large.count, 1)))
    print("  geometric-mean time ratio over the \(large.count) layers of ≥ 1 GFLOP: \(format(geometricMean))")
}

/// Median host seconds of one Tessera run of the convolution.
private func tesseraSeconds(_ shape: ConvolutionShape, target: Target, repeats: Int) throws -> Double {
    let graph = Graph(target: target)
    let ops = OpBuilder(graph)
    let parameters = ConvParameters(batch: shape.batch, inputChannels: shape.inputChannels, outputChannels: shape.outputChannels,
                                    groups: shape.groups, inputField: [shape.height, shape.width], kernel: [shape.kernel, shape.kernel],
                                    stride: [shape.stride, shape.stride], padding: .symmetric(shape.padding))
    let input = graph.addVariable(.float32, parameters.inputShape, name: "input")
    let weights = graph.addVariable(.float32, parameters.weightsShape, name: "weights")
    try graph.mapLinearly(input)
    try graph.mapLinearly(weights)
    _ = try ops.conv2d(input, weights: weights, parameters: parameters, name: shape.name)
    let engine = try Engine(try Compiler.compile(graph, program: ops.program))
    try engine.run()
    var times: [Double] = []
    for _ in 0..<repeats { times.append(try seconds { try engine.run() }) }
    return times.sorted()[times.count / 2]
}

/// ONNX Runtime's median seconds per layer, by layer name.
private func onnxRuntimeSeconds(_ shapes: [ConvolutionShape], repeats: Int) throws -> [String: Double] {
    struct Timing: Decodable { var name: String; var seconds: Double }
    let timings = try runReferenceScript("onnx_conv_reference.py", arguments: [String(repeats)], input: try JSONEncoder().encode(shapes),
                                         as: [Timing].self)
    return Dictionary(uniqueKeysWithValues: timings.map { ($0.name, $0.seconds) })
}
