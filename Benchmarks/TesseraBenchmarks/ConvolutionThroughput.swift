import Foundation
import Tessera

/// Host throughput of every distinct ResNet-50 and EfficientNet-B0 convolution (batch 8, float32) in
/// Tessera and in ONNX Runtime, in the same run (scripts/onnx_conv_reference.py times ONNX Runtime).
/// `conv [filter] [repeats]` times only the layers whose name contains `filter`, `repeats` times each;
/// `conv vertices [filter]` times only each layer's largest vertex, alone on one core;
/// `conv work [filter] [repeats]` times only Tessera, on one host thread, in CPU seconds (what a run costs, however busy the machine);
/// `conv phases [filter]` splits each layer's Tessera run into copies, vertices and waits.
func convolutionBenchmarks(target: Target, batch: Int = 8) throws {
    var options = CommandLine.arguments.dropFirst(2)
    let mode = ["vertices", "work", "phases"].contains(options.first ?? "") ? options.first! : ""
    if !mode.isEmpty { options = options.dropFirst() }
    let filter = options.first ?? "", repeats = options.dropFirst().first.flatMap { Int($0) } ?? 3
    let shapes = (resNet50Convolutions(batch: batch) + efficientNetB0Convolutions(batch: batch))
        .filter { filter.isEmpty || $0.name.contains(filter) }
    if mode == "vertices" { return try vertexBenchmarks(shapes, target: target) }
    if mode == "work" { return try workBenchmarks(shapes, target: target, repeats: repeats) }
    if mode == "phases" { return try phaseBenchmarks(shapes, target: target) }
    let threads = ProcessInfo.processInfo.activeProcessorCount, ceilings = HostCeilings(threads: threads)
    print("convolution throughput, batch \(batch), float32 (host GFLOP/s; ratio = Tessera time / ONNX Runtime time; floor = the ratio "
        + "with Tessera's copies at \(format(ceilings.copyBytesPerSecond / 1e9, 1)) GB/s and its multiply-adds at \(format(ceilings.flopsPerSecond / 1e9, 0)) "
        + "GFLOP/s per thread, the host's streaming and arithmetic peaks with \(threads) threads busy)")
    var ratios: [(flops: Int, ratio: Double, floor: Double)] = []
    // Layer by layer, ONNX Runtime just before Tessera: the machine's speed moves within minutes, and a ratio of two
    // times taken minutes apart would carry that drift.
    for shape in shapes {
        let ort = try onnxRuntimeSeconds([shape], repeats: repeats)[shape.name] ?? .nan
        let run = try tesseraSeconds(shape, target: target, repeats: repeats)
        let ratio = run.seconds / ort, floor = ceilings.floorSeconds(copiedBytes: run.copiedBytes, flops: Double(shape.flops)) / ort
        ratios.append((shape.flops, ratio, floor))
        let kernel = try kernelSeconds(shape, target: target), kernelShare = kernel.seconds * Double(kernel.tiles) / Double(threads) / run.seconds
        print("  \(shape.name.padding(toLength: 52, withPad: " ", startingAt: 0)) \(format(Double(shape.flops) / 1e9, 3)) GFLOP  "
            + "Tessera \(format(Double(shape.flops) / run.seconds / 1e9, 1))  ONNX Runtime \(format(Double(shape.flops) / ort / 1e9, 1))  "
            + "ratio \(format(ratio)) (floor \(format(floor)))  vertex \(format(Double(2 * kernel.geometry.macs) / kernel.seconds / 1e9, 1)) per core, "
            + "\(format(100 * kernelShare, 0))% of time")
    }
    let large = ratios.filter { $0.flops >= 1_000_000_000 }
    func geometricMean(_ values: [Double]) -> Double { exp(values.map { log($0) }.reduce(0, +) / Double(max(values.count, 1))) }
    print("  geometric-mean time ratio over the \(large.count) layers of ≥ 1 GFLOP: \(format(geometricMean(large.map(\.ratio)))) "
        + "(floor \(format(geometricMean(large.map(\.floor)))))")
}

/// Median host seconds of one Tessera run of the convolution, and the bytes its copies move.
private func tesseraSeconds(_ shape: ConvolutionShape, target: Target, repeats: Int) throws -> (seconds: Double, copiedBytes: Int) {
    let engine = try convolutionEngine(shape, target: target, options: EngineOptions())
    try engine.run()
    var times: [Double] = []
    for _ in 0..<repeats { times.append(try seconds { try engine.run() }) }
    let copiedBytes = engine.lastRun?.copiedBytes(engine.executable.steps, replicas: engine.executable.replicas) ?? 0
    return (times.sorted()[times.count / 2], copiedBytes)
}

/// Each layer's fastest of `repeats` Tessera runs on one host thread, in process CPU seconds, with the geometric mean
/// over the layers of ≥ 1 GFLOP.
private func workBenchmarks(_ shapes: [ConvolutionShape], target: Target, repeats: Int) throws {
    print("convolution work, batch 8, float32: CPU milliseconds of one Tessera run on one host thread")
    var large: [Double] = []
    for shape in shapes {
        let engine = try convolutionEngine(shape, target: target, options: EngineOptions(threads: 1))
        try engine.run()
        var best = Double.infinity
        for _ in 0..<repeats {
            let start = cpuSeconds(CLOCK_PROCESS_CPUTIME_ID)
            try engine.run()
            best = min(best, cpuSeconds(CLOCK_PROCESS_CPUTIME_ID) - start)
        }
        if shape.flops >= 1_000_000_000 { large.append(best) }
        print("  \(shape.name.padding(toLength: 52, withPad: " ", startingAt: 0)) \(format(1e3 * best, 2)) ms  "
            + "\(format(Double(shape.flops) / best / 1e9, 1)) GFLOP/s")
    }
    let geometricMean = exp(large.map { log($0) }.reduce(0, +) / Double(max(large.count, 1)))
    print("  geometric-mean time over the \(large.count) layers of ≥ 1 GFLOP: \(format(1e3 * geometricMean, 2)) ms")
}

/// Each layer's host phases in one Tessera run (after a warm-up run): thread-milliseconds of copies, vertices and waits, and the
/// bytes the copies moved.
private func phaseBenchmarks(_ shapes: [ConvolutionShape], target: Target) throws {
    print("convolution host phases, batch 8, float32: thread-milliseconds of one Tessera run")
    for shape in shapes {
        let engine = try convolutionEngine(shape, target: target, options: EngineOptions(timesHostPhases: true))
        try engine.run()
        try engine.run()
        guard let phases = engine.lastRun?.hostPhases else { continue }
        print("  \(shape.name.padding(toLength: 52, withPad: " ", startingAt: 0)) copies \(format(1e3 * phases.copySeconds, 2))  "
            + "vertices \(format(1e3 * phases.vertexSeconds, 2))  waits \(format(1e3 * phases.waitSeconds, 2))  "
            + "other \(format(1e3 * phases.otherSeconds, 2))  copied \(format(Double(phases.copiedBytes) / 1e6, 1)) MB "
            + "at \(format(phases.copyBytesPerSecond / 1e9, 2)) GB/s")
    }
}

/// An engine that runs the layer once (its input mapped linearly, its weights created for its
/// plan as the model builders create them, no bias).
private func convolutionEngine(_ shape: ConvolutionShape, target: Target, options: EngineOptions) throws -> Engine {
    let graph = Graph(target: target)
    let ops = OpBuilder(graph)
    let parameters = ConvParameters(batch: shape.batch, inputChannels: shape.inputChannels, outputChannels: shape.outputChannels,
                                    groups: shape.groups, inputField: [shape.height, shape.width], kernel: [shape.kernel, shape.kernel],
                                    stride: [shape.stride, shape.stride], padding: .symmetric(shape.padding))
    let input = graph.addVariable(.float32, parameters.inputShape, name: "input")
    let weights = try ops.createConvWeights(parameters: parameters, name: "weights")
    try graph.mapLinearly(input)
    _ = try ops.conv2d(input, weights: weights, parameters: parameters, name: shape.name)
    return try Engine(try Compiler.compile(graph, program: ops.program), options: options)
}

/// ONNX Runtime's median seconds per layer, by layer name.
private func onnxRuntimeSeconds(_ shapes: [ConvolutionShape], repeats: Int) throws -> [String: Double] {
    struct Timing: Decodable { var name: String; var seconds: Double }
    let timings = try runReferenceScript("onnx_conv_reference.py", arguments: [String(repeats)], input: try JSONEncoder().encode(shapes),
                                         as: [Timing].self)
    return Dictionary(uniqueKeysWithValues: timings.map { ($0.name, $0.seconds) })
}

/// Each layer's largest vertex alone: its sizes and host GFLOP/s on one core (the best of 25 short trials in thread CPU time, so other
/// processes on the machine count little).
private func vertexBenchmarks(_ shapes: [ConvolutionShape], target: Target) throws {
    print("convolution vertices, float32: each layer's largest part (GFLOP/s of one core)")
    for shape in shapes {
        let vertex = try kernelSeconds(shape, target: target)
        let g = vertex.geometry
        let sizes = "N\(g.batch) G\(g.groups) C\(g.inputChannelsPerGroup) O\(g.outputChannelsPerGroup) out \(g.outputRows)×\(g.outputColumns) "
            + "k\(g.kernel[0]) s\(g.stride[0])"
        print("  \(shape.name.padding(toLength: 52, withPad: " ", startingAt: 0)) \(sizes.padding(toLength: 34, withPad: " ", startingAt: 0)) "
            + "\(format(Double(2 * g.macs) / vertex.seconds / 1e9, 1))")
    }
}

/// Host seconds of the largest tile's convolution vertex of the layer's plan (its first box), run alone on one core,
/// the layer's tiles and the vertex's geometry; `seconds × tiles / 2 cores` is what the layer's vertex compute costs the engine.
private func kernelSeconds(_ shape: ConvolutionShape, target: Target) throws -> (seconds: Double, tiles: Int, geometry: ConvVertexGeometry) {
    let p = ConvParameters(batch: shape.batch, inputChannels: shape.inputChannels, outputChannels: shape.outputChannels,
                           groups: shape.groups, inputField: [shape.height, shape.width], kernel: [shape.kernel, shape.kernel],
                           stride: [shape.stride, shape.stride], padding: .symmetric(shape.padding))
    let plan = try ConvPlanner.shared.plan(p, target: target, options: OpOptions(), op: shape.name)
    func part(_ axis: ConvAxis) -> Range<Int> { plan.parts(axis)[0] }
    let geometry = ConvVertexGeometry(plan.parameters, batch: part(.batch), groups: part(.group), outputChannels: part(.outputChannel),
                                      inputChannels: part(.inputChannel), rows: part(.row), columns: part(.column))
    let codelet = ConvPartialCodelet(geometry: geometry, method: plan.method, workerAxis: plan.workerAxis, workers: plan.workerSplit,
                                     inputType: .float32, outputType: .float32, hasBias: false)
    let g = geometry, channels = g.groups * g.inputChannelsPerGroup
    let counts = [g.batch * g.fieldRows * g.fieldColumns * channels, g.macs / g.positions, g.positions * g.groups * g.outputChannelsPerGroup]
    var slots: [FieldSlot] = [], bytes = 0
    for count in counts {
        slots.append(FieldSlot(offset: bytes, count: count))
        bytes += (count * 4 + 63) / 64 * 64
    }
    let memory = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
    defer { memory.deallocate() }
    let values = memory.bindMemory(to: Float.self, capacity: bytes / 4)
    for e in 0..<(bytes / 4) { values[e] = Float(e % 7) - 3 }
    return slots.withUnsafeBufferPointer { slots in
        let fields = VertexFields(memory: memory, slots: slots.baseAddress!)
        codelet.compute(fields)
        let runs = max(1, 20_000_000 / g.macs)
        var best = Double.infinity
        for _ in 0..<25 { best = min(best, threadSeconds { for _ in 0..<runs { codelet.compute(fields) } } / Double(runs)) }
        return (best, plan.tilesUsed, g)
    }
}

/// CPU seconds the calling thread spends in `body`.
private func threadSeconds(_ body: () -> Void) -> Double {
    let start = cpuSeconds(CLOCK_THREAD_CPUTIME_ID)
    body()
    return cpuSeconds(CLOCK_THREAD_CPUTIME_ID) - start
}

/// The CPU seconds `clock` reads (a thread's or the process's CPU time).
private func cpuSeconds(_ clock: clockid_t) -> Double {
    var time = timespec()
    clock_gettime(clock, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}
