import Foundation
import Tessera

/// Host seconds per batch of a catalogued model, run `repeats` times after one warm-up run, with the
/// process's CPU seconds (steadier than wall time when other work shares the cores) and a checksum of
/// the output so runs of two builds can be compared.
/// Arguments after `model`: name (resnet50), batch (8), resolution (224), repeats (3).
func modelBenchmarks(target: Target, arguments: [String]) throws {
    let name = arguments.first ?? "resnet50"
    let batch = arguments.count > 1 ? Int(arguments[1])! : 8
    let resolution = arguments.count > 2 ? Int(arguments[2])! : 224
    let repeats = arguments.count > 3 ? Int(arguments[3])! : 3
    guard let network = ModelCatalog.network(named: name, batch: batch, resolution: resolution) else {
        print("unknown model \(name); available: \(ModelCatalog.names.joined(separator: ", "))")
        return
    }
    let session = try ModelSession(network: network, weights: NetworkWeights.random(for: network), target: target)
    let input = ModelSession.syntheticInput(count: session.lowered.input.shape.reduce(1, *))
    print("\(name), batch \(batch), \(resolution)×\(resolution): compiled in \(format(session.compileSeconds)) s")
    var output: [Float] = []
    _ = try session.run(input: input)
    for run in 0..<repeats {
        let cpuStart = processCPUSeconds()
        let elapsed = try seconds { output = try session.run(input: input) }
        let cpu = processCPUSeconds() - cpuStart
        print("  run \(run): \(format(elapsed, 3)) s per batch = \(format(Double(batch) / elapsed, 1)) images/s (\(format(cpu, 3)) CPU s)")
    }
    let checksum = output.reduce(0.0) { $0 + Double($1) }
    print("  output checksum \(checksum), first \(output.prefix(4).map { String($0) })")
}

/// CPU seconds the process has used, over all its threads.
private func processCPUSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}
