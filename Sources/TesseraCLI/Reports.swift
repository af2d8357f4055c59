import Foundation
import Tessera

/// Prints the reports of a run and writes their files.
enum Reports {
    static func show(executable: Executable, record: ExecutionRecord, directory: String?) throws {
        print(try MemoryReport(executable.memory, replicas: executable.replicas).text)
        print(try CycleReport(executable: executable, record: record).text)
        guard let directory else { return }
        let files = try ReportWriter().write(executable: executable, record: record, to: URL(fileURLWithPath: directory))
        print("Reports written: \(files.map { $0.path }.joined(separator: ", "))")
    }

    /// Writes the memory profile of a compilation that did not fit, so it can be inspected.
    static func writeFailed(_ failure: OutOfMemory, directory: String?) throws {
        print(try MemoryReport(failure.profile).text)
        guard let directory else { return }
        let files = try ReportWriter().write(memory: failure.profile, to: URL(fileURLWithPath: directory))
        print("Memory profile of the failed compilation written: \(files.map { $0.path }.joined(separator: ", "))")
    }
}
