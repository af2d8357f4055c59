import Foundation
import Tessera

/// Compile time of whole networks (building the graph with the kernel library, then compiling it),
/// as the model benchmark compiles them (batch norms folded), `repeats` times each: the fastest and
/// the median, and the fastest time of each phase, so that a change to the compiler is measured
/// apart from the noise of one run on a shared machine.
func compileBenchmarks(target: Target, names: [String], batch: Int = 8, repeats: Int = 5) throws {
    print("compile time, batch \(batch), 224×224, float32 on \(target.name), batch norms folded (seconds; fastest and median of \(repeats))")
    for name in names {
        guard let network = ModelCatalog.network(named: name, batch: batch) else { continue }
        var totals: [Double] = [], builds: [Double] = [], phases: [String: Double] = [:], order: [String] = []
        for _ in 0..<repeats {
            HostMemory.mapLargeBlocks()
            var lowered: LoweredNetwork?, compiled: CompileStatistics?
            let build = try seconds { lowered = try NetworkLowering.lower(network, target: target, foldsBatchNorm: true) }
            let compile = try seconds {
                var options = CompileOptions()
                options.releasesConnections = true
                compiled = try Compiler.compile(lowered!.graph, program: lowered!.program, options: options).statistics
            }
            lowered = nil
            totals.append(build + compile)
            builds.append(build)
            let statistics = compiled!
            for phase in statistics.phases {
                if phases[phase.name] == nil { order.append(phase.name) }
                phases[phase.name] = min(phases[phase.name] ?? .infinity, phase.seconds)
            }
            HostMemory.returnFreedMemory()
        }
        let sorted = totals.sorted()
        print("  \(name): fastest \(format(sorted[0])) s, median \(format(sorted[sorted.count / 2])) s; fastest graph build \(format(builds.min()!)) s, "
            + order.map { "\($0) \(format(phases[$0]!))" }.joined(separator: ", "))
    }
}
