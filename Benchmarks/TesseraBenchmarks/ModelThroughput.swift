import Foundation
import Tessera
import TesseraONNX

/// Simulated inference of whole networks against ONNX Runtime on the same machine in the same run:
/// host images/s of both (and their ratio), compile time, and peak host memory against the
/// simulated memory in use. Both run the same architecture with the same seeded weights (Tessera
/// exports its network to ONNX for ONNX Runtime) on the same input, and their outputs are compared
/// before any time is printed. Both fold each batch norm into its convolution, as ONNX Runtime's
/// graph optimiser does (Tessera's ``FoldedBatchNorm``).
func modelBenchmarks(target: Target, names: [String] = ["resnet50", "efficientnet-b0"], batch: Int = 8,
                     resolution: Int = 224, repeats: Int = 3) throws {
    print("model throughput, batch \(batch), \(resolution)×\(resolution), float32 on \(target.name), batch norms folded into convolutions "
        + "(host images/s; ratio = Tessera / ONNX Runtime)")
    let threads = ProcessInfo.processInfo.activeProcessorCount
    var copyRates: [(name: String, bytesPerSecond: Double)] = []
    defer {
        // Measured after the models, so that its buffers are not in their peak memory.
        if !copyRates.isEmpty {
            let reference = streamingCopyRate(threads: threads)
            print("  exchange copies against memcpy: \(threads) threads each copying 64 MiB blocks between buffers of their own at "
                + "\(format(reference / 1e9, 2)) GB/s per thread; "
                + copyRates.map { "\($0.name)'s copies \(format($0.bytesPerSecond / 1e9, 2)) GB/s (\(format($0.bytesPerSecond / reference, 2)) ×)" }
                    .joined(separator: ", "))
        }
    }
    for name in names {
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
            copyRates.append((name, phases.copyBytesPerSecond))
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

/// Bytes per second per thread of `threads` threads at once, each copying 64 MiB blocks (twice
/// the last-level cache here, so from memory to memory) between two buffers of its own, touched
/// beforehand: the host's streaming copy rate, the most an exchange copy could reach.
private func streamingCopyRate(threads: Int, rounds: Int = 8) -> Double {
    let blockBytes = 64 << 20
    nonisolated(unsafe) let rates = UnsafeMutableBufferPointer<Double>.allocate(capacity: threads)
    defer { rates.deallocate() }
    DispatchQueue.concurrentPerform(iterations: threads) { thread in
        let source = UnsafeMutableRawPointer.allocate(byteCount: blockBytes, alignment: 64)
        let destination = UnsafeMutableRawPointer.allocate(byteCount: blockBytes, alignment: 64)
        defer {
            source.deallocate()
            destination.deallocate()
        }
        source.initializeMemory(as: UInt8.self, repeating: 1, count: blockBytes)
        destination.initializeMemory(as: UInt8.self, repeating: 0, count: blockBytes)
        let elapsed = seconds { for _ in 0..<rounds { destination.copyMemory(from: source, byteCount: blockBytes) } }
        rates[thread] = Double(rounds * blockBytes) / elapsed
    }
    return rates.reduce(0, +) / Double(threads)
}

