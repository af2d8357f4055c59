import Tessera

/// The 161 parameter tensors of torchvision's ResNet-50 v1.5 (convolution weights, batch-norm scale
/// and shift, the classifier): 25,557,032 values.
func resNet50ParameterSizes() -> [Int] {
    var sizes = [64 * 3 * 7 * 7, 64, 64]
    var channels = 64
    for (blocks, width) in zip([3, 4, 6, 3], [64, 128, 256, 512]) {
        for block in 0..<blocks {
            sizes += [width * channels, width, width, width * width * 9, width, width, 4 * width * width, 4 * width, 4 * width]
            if block == 0 { sizes += [4 * width * channels, 4 * width, 4 * width] }
            channels = 4 * width
        }
    }
    return sizes + [1000 * 2048, 1000]
}

/// Modelled cycles of all-reducing ResNet-50's gradients as one merged collective and as one
/// collective per tensor, on `replicas` replicas of `target` (compiled, not run).
func collectiveMergingCycles(target: Target, replicas: Int) throws -> (merged: Int, separate: Int, tensors: Int, values: Int) {
    let graph = try Graph(target: target, replicas: replicas)
    let sizes = resNet50ParameterSizes()
    var gradients: [Tensor] = []
    for (index, size) in sizes.enumerated() {
        let gradient = graph.addVariable(.float32, [size], name: "gradient \(index)")
        try graph.mapLinearly(gradient)
        gradients.append(gradient)
    }
    let merged = try Compiler.compile(graph, program: .allReduce(gradients, .sum, group: .all))
    let separate = try Compiler.compile(graph, program: .sequence(gradients.map { .allReduce([$0], .sum, group: .all) }))
    func total(_ executable: Executable) -> Int { executable.steps.reduce(0) { $0 + $1.totalCycles } }
    return (total(merged), total(separate), sizes.count, sizes.reduce(0, +))
}

/// One merged all-reduce of ResNet-50's gradients against one all-reduce per tensor.
func collectiveBenchmarks(target: Target) throws {
    for replicas in [4, 16, 64] {
        let cycles = try collectiveMergingCycles(target: target, replicas: replicas)
        print("all-reduce of \(cycles.values) float32 gradients in \(cycles.tensors) tensors over \(replicas) replicas: "
            + "merged \(format(target.seconds(cycles: cycles.merged) * 1e3, 3)) ms, separate \(format(target.seconds(cycles: cycles.separate) * 1e3, 3)) ms "
            + "modelled (separate = \(format(Double(cycles.separate) / Double(cycles.merged))) × merged)")
    }
}
