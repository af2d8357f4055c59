import Foundation
import Tessera
import TesseraONNX

/// Simulated inference of whole networks against ONNX Runtime on the same machine in the same run:
/// host images/s of both (and their ratio), compile time, and peak host memory against the
/// simulated memory in use. Both run the same architecture with the same seeded weights (Tessera
/// exports its network to ONNX for ONNX Runtime) on the same input, and their outputs are compared
/// before any time is printed. Both fold each batch norm into its convolution, as ONNX Runtime's
/// graph optimiser does (Tessera's ``FoldedBatchNorm``).
/// `names` empty means ResNet-50 and EfficientNet-B0.
func modelBenchmarks(target: Target, names: [String] = [], batch: Int = 8,
                     resolution: Int = 224, repeats: Int = 3) throws {
    print("model throughput, batch \(batch), \(resolution)×\(resolution), float32 on \(target.name), batch norms folded into convolutions "
        + "(host images/s; ratio = Tessera / ONNX Runtime)")
    let threads = ProcessInfo.processInfo.activeProcessorCount
    var measured: [(name: String, phases: HostPhaseTimes, flops: Double, reference: Double)] = []
    defer {
        // Measured after the models, so that its buffers are not in their peak memory.
        if !measured.isEmpty { printFloors(measured, ceilings: HostCeilings(threads: threads)) }
    }
    for name in names.isEmpty ? ["resnet50", "efficientnet-b0"] : names {
        guard let network = ModelCatalog.network(named: name, batch: batch, resolution: resolution) else { continue }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-\(name)-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let files = ["model.onnx", "input.npy", "tessera.npy"].map { directory.appendingPathComponent($0) }
        // The reference model is written first, so that the peak memory measured from here on is
        // Tessera's: loading the weights, compiling and running (the host copy of the weights is
        // let go once the engine holds them).
        let session = try { () throws -> ModelSession in
            let weights = NetworkWeights.random(for: network, seed: 0)
            try ONNXModel.export(network, weights: weights).write(to: files[0])
            HostMemory.resetPeak()
            // Timing the workers' phases reads the clock twice per tile of a step: well under 1% of a run.
            return try ModelSession(network: network, weights: weights, target: target, foldsBatchNorm: true,
                                    engineOptions: EngineOptions(timesHostPhases: true))
        }()
        let input = ModelSession.syntheticInput(count: session.compiled.input.elementCount)
        var output: [Float] = []
        var times: [Double] = [], cpuTimes: [Double] = []
        for _ in 0...repeats {
            let cpuStart = HostClock.processCPUSeconds()
            times.append(try seconds { output = try session.run(input: input) })
            cpuTimes.append(HostClock.processCPUSeconds() - cpuStart)
        }
        // The first run warms up; the median of the others is the figure.
        let tesseraSeconds = times.dropFirst().sorted()[repeats / 2], cpuSeconds = cpuTimes.dropFirst().sorted()[repeats / 2]
        let peak = HostMemory.peakResidentBytes(), simulated = session.executable.memory.totalBytes

        try NumPyArray(shape: session.compiled.input.shape, values: input).npyData.write(to: files[1])
        try NumPyArray(shape: session.compiled.output.shape, values: output).npyData.write(to: files[2])
        let reference = try onnxRuntimeModel(files, repeats: repeats, threads: threads)

        let tesseraRate = Double(batch) / tesseraSeconds, ortRate = Double(batch) / reference.seconds
        print("  \(name): Tessera \(format(tesseraRate, 2)) images/s (\(format(tesseraSeconds, 3)) s per batch, \(format(cpuSeconds, 3)) CPU s), "
            + "ONNX Runtime \(reference.version) \(format(ortRate, 2)) images/s (\(threads) threads), ratio \(format(tesseraRate / ortRate, 3)); "
            + "outputs differ by at most \(String(format: "%.2e", reference.relativeDifference)) of the largest")
        print("    compile \(format(session.compileSeconds, 2)) s (graph built in \(format(session.buildSeconds, 2)) s); "
            + "peak RSS \(format(Double(peak) / 1e9, 2)) GB for \(format(Double(simulated) / 1e9, 3)) GB simulated in use "
            + "(\(format(Double(peak) / Double(simulated), 2)) ×, from loading the weights to the last run)")
        if let phases = session.record?.hostPhases {
            // With the vertices free, the copies alone would still bound the ratio.
            let ceiling = reference.seconds / phases.copyFloorSeconds
            print("    host phases of the last run: \(phases.summary); the ratio could reach at most \(format(ceiling, 2)) with them alone")
            measured.append((name, phases, Double(2 * network.multiplyAccumulatesPerImage * batch), reference.seconds))
        }
    }
}

/// ONNX Runtime's median seconds for the exported model and how far its output is from Tessera's.
private func onnxRuntimeModel(_ files: [URL], repeats: Int, threads: Int) throws
    -> (seconds: Double, relativeDifference: Double, version: String) {
    struct Result: Decodable { var seconds: Double; var relativeDifference: Double; var version: String }
    let result = try runReferenceScript("onnx_model_reference.py", arguments: files.map { $0.path } + [String(repeats), String(threads)],
                                        as: Result.self)
    return (result.seconds, result.relativeDifference, result.version)
}

/// Each model's copy rate against the host's streaming copies, and the floor its run has on this host: its copies at the
/// streaming rate and its convolutions' and matmuls' multiply-adds at the arithmetic peak, with every thread busy; then
/// the same with the copies at the rate they reached in the run.
private func printFloors(_ models: [(name: String, phases: HostPhaseTimes, flops: Double, reference: Double)], ceilings: HostCeilings) {
    print("  host ceilings with \(ceilings.threads) threads busy: streaming copies \(format(ceilings.copyBytesPerSecond / 1e9, 2)) GB/s per thread "
        + "(64 MiB blocks), float32 multiply-adds \(format(ceilings.flopsPerSecond / 1e9, 1)) GFLOP/s per thread (in registers)")
    for model in models {
        let floor = ceilings.floorSeconds(copiedBytes: model.phases.copiedBytes, flops: model.flops)
        print("    \(model.name): copies at \(format(model.phases.copyBytesPerSecond / ceilings.copyBytesPerSecond, 2)) × the streaming rate; "
            + "its \(format(Double(model.phases.copiedBytes) / 1e9, 2)) GB of copies and \(format(model.flops / 1e9, 1)) GFLOP need "
            + "\(format(floor, 3)) s per batch at least, so the ratio could reach at most \(format(model.reference / floor, 2))")
        // The copies at the rate this run's exchange pattern reached (short rows from sources spread over the tiles),
        // the multiply-adds still at the peak: what faster vertices alone could give.
        let patternFloor = ceilings.floorSeconds(copyThreadSeconds: model.phases.copySeconds, flops: model.flops)
        print("      with the copies at their own rate in this run and the multiply-adds at the peak: "
            + "\(format(patternFloor, 3)) s per batch, so at most \(format(model.reference / patternFloor, 2))")
    }
}
