import Foundation
import Tessera

/// Prints the summaries of a run and writes its report files.
enum Reports {
    static func show(executable: Executable, record: ExecutionRecord, directory: String?) throws {
        let memory = executable.memory
        let fullest = memory.fullestTile
        print("Memory: \(memory.totalBytes.formatted) of \(executable.target.totalBytes.formatted) B used; fullest tile \(fullest.tile) "
            + "\(fullest.totalBytes.formatted) B (always-live \(fullest.alwaysLiveBytes.formatted), not-always-live \(fullest.notAlwaysLivePeakBytes.formatted))")
        let cycles = record.totalCycles(executable.steps)
        print("Cycles: \(cycles.formatted) modelled, \(executable.target.seconds(cycles: cycles) * 1e6) µs at \(executable.target.clockHz / 1e9) GHz")
    }
}
