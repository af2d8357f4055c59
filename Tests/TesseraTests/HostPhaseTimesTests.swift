import Foundation
import Testing
import Tessera
import TesseraTestSupport

/// The engine's own profile: where its workers spend a run.
@Suite struct HostPhaseTimesTests {
    /// ``alternatingWindowGraph()``'s step three times: 6 rows × 5 float32 in and out per execution.
    private func run(timed: Bool) throws -> (record: ExecutionRecord, result: [Float], wallSeconds: Double) {
        let (graph, source, destination, scale) = try alternatingWindowGraph()
        let executable = try Compiler.compile(graph, program: .repeat(count: 3, body: .execute(scale)))
        let engine = try Engine(executable, options: EngineOptions(threads: 2, timesHostPhases: timed))
        try engine.write(source, (0..<60).map { Float($0) })
        try engine.write(destination, [Float](repeating: 0, count: 60))
        let start = ContinuousClock.now
        try engine.run()
        let wall = (ContinuousClock.now - start) / .seconds(1)
        return (engine.lastRun!, try engine.read(destination, as: Float.self), wall)
    }

    @Test func aTimedRunCountsEveryCopiedByteAndSplitsItsThreadTime() throws {
        let timed = try run(timed: true)
        let phases = try #require(timed.record.hostPhases)
        #expect(phases.copiedBytes == 3 * 2 * 6 * 5 * 4)
        #expect(phases.threads == 2)
        #expect(phases.copySeconds > 0 && phases.vertexSeconds > 0)
        // The workers' time lies within the run: at most its wall time on each of the two threads.
        #expect(phases.totalSeconds <= 2 * timed.wallSeconds, "\(phases.totalSeconds) thread-s in \(timed.wallSeconds) s")
        #expect(phases.summary.contains("2 threads") && phases.summary.contains("copies"))
        let untimed = try run(timed: false)
        #expect(untimed.record.hostPhases == nil)
        #expect(timed.result == untimed.result)
        #expect(timed.result[3] == 2 * 2 + 1 && timed.result[59] == 0)
    }

    @Test func cycleReportsCarryTheTimesOnlyWhenTheRunWasTimed() throws {
        let timed = try run(timed: true), untimed = try run(timed: false)
        let (graph, _, _, scale) = try alternatingWindowGraph()
        let executable = try Compiler.compile(graph, program: .repeat(count: 3, body: .execute(scale)))
        let report = try CycleReport(executable: executable, record: timed.record)
        let object = try #require(JSONSerialization.jsonObject(with: try ReportJSON.cycles(report)) as? [String: Any])
        let phases = try #require(object["hostPhases"] as? [String: Any])
        #expect(phases["copiedBytes"] as? Int == 720 && phases["threads"] as? Int == 2)
        #expect(try JSONDecoder().decode(CycleReport.self, from: try ReportJSON.cycles(report)).hostPhases == timed.record.hostPhases)
        #expect(report.text.contains("host (measured, not modelled): 2 threads"))
        let plain = try CycleReport(executable: executable, record: untimed.record)
        let plainObject = try #require(JSONSerialization.jsonObject(with: try ReportJSON.cycles(plain)) as? [String: Any])
        #expect(plainObject["hostPhases"] == nil && !plain.text.contains("measured"))
    }
}
