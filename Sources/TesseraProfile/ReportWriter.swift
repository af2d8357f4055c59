import Foundation
import TesseraCompiler
import TesseraRuntime

/// The files a ``ReportWriter`` writes, by name.
public enum ReportFile: String, CaseIterable, Sendable {
    /// The memory profile as JSON, schema `tessera.memory/1`.
    case memoryJSON = "memory.json"
    /// ``MemoryReport`` text.
    case memoryText = "memory.txt"
    /// ``MemoryHeatmap`` picture.
    case memorySVG = "memory.svg"
    /// The cycle report as JSON, schema `tessera.cycles/1`.
    case cyclesJSON = "cycles.json"
    /// ``CycleReport`` text.
    case cyclesText = "cycles.txt"
    /// ``ChromeTrace`` of the run, for Perfetto or chrome://tracing.
    case trace = "trace.json"
}

/// Writes the reports of a compilation or a run into a directory, creating it if needed.
///
/// Files are replaced atomically (written beside, then renamed), so a reader never sees half a
/// report. Memory reports need only a ``MemoryProfile``, so they can be written for a graph that
/// did not fit: pass `OutOfMemory.profile` from `CompileError.outOfMemory`.
public struct ReportWriter: Sendable {
    /// Rows of the fullest-tiles table of `memory.txt`.
    public var topTiles = 5
    /// Slices of the tile budget in the histogram of `memory.txt`.
    public var histogramBuckets = 10
    /// Layout of `memory.svg`.
    public var heatmap = MemoryHeatmap.Options()
    /// Layout and bound of `trace.json`.
    public var trace = ChromeTrace.Options()

    /// A writer with the default options.
    public init() {}

    /// Writes `memory.json`, `memory.txt` and `memory.svg` for `memory`, the memory of each of
    /// `replicas` replicas (at least 1), into `directory`.
    ///
    /// - Returns: The files written.
    /// - Throws: ``ProfileError`` naming the directory or file that could not be written, and why.
    @discardableResult
    public func write(memory: MemoryProfile, replicas: Int = 1, to directory: URL) throws(ProfileError) -> [URL] {
        try createDirectory(directory)
        let report = try MemoryReport(memory, replicas: replicas, topTiles: topTiles, histogramBuckets: histogramBuckets)
        return [
            try write(ReportJSON.memory(memory, replicas: replicas), .memoryJSON, in: directory),
            try write(Data(report.text.utf8), .memoryText, in: directory),
            try write(Data(MemoryHeatmap(memory, options: heatmap).svg.utf8), .memorySVG, in: directory),
        ]
    }

    /// Writes the memory reports of `executable` and `cycles.json`, `cycles.txt` and `trace.json`
    /// for `record`, a run of it, into `directory`.
    ///
    /// - Returns: The files written, memory reports first.
    /// - Throws: ``ProfileError`` naming the directory or file that could not be written, and why,
    ///   or ``ProfileError/recordMismatch(detail:)`` when the record is not of this executable.
    @discardableResult
    public func write(executable: Executable, record: ExecutionRecord, to directory: URL) throws(ProfileError) -> [URL] {
        let cycles = try CycleReport(executable: executable, record: record)
        let timeline = try ChromeTrace(executable: executable, record: record, options: trace)
        var written = try write(memory: executable.memory, replicas: executable.replicas, to: directory)
        written.append(try write(ReportJSON.cycles(cycles), .cyclesJSON, in: directory))
        written.append(try write(Data(cycles.text.utf8), .cyclesText, in: directory))
        written.append(try write(Data(timeline.json.utf8), .trace, in: directory))
        return written
    }

    private func createDirectory(_ directory: URL) throws(ProfileError) {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw .cannotCreateDirectory(path: directory.path, reason: ProfileError.reason(error))
        }
    }

    private func write(_ data: Data, _ file: ReportFile, in directory: URL) throws(ProfileError) -> URL {
        let url = directory.appendingPathComponent(file.rawValue)
        do {
            try data.write(to: url, options: .atomic)
        } catch {
            throw .cannotWriteFile(path: url.path, reason: ProfileError.reason(error))
        }
        return url
    }
}
