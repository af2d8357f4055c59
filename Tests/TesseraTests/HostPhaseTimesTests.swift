import Testing
import Tessera
import TesseraTestSupport

/// The engine's own profile: where its workers spend a run.
@Suite struct HostPhaseTimesTests {
    /// ``alternatingWindowGraph()``'s step three times: 6 rows × 5 float32 in and out per execution.
    private func run(timed: Bool) throws -> (record: ExecutionRecord, result: [Float]) {
        let (graph, source, destination, scale) = try alternatingWindowGraph()
        let executable = try Compiler.compile(graph, program: .repeat(count: 3, body: .execute(scale)))
        let engine = try Engine(executable, options: EngineOptions(threads: 2, timesHostPhases: timed))
        try engine.write(source, (0..<60).map { Float($0) })
        try engine.write(destination, [Float](repeating: 0, count: 60))
        try engine.run()
        return (engine.lastRun!, try engine.read(destination, as: Float.self))
    }

    @Test func aTimedRunCountsEveryCopiedByteAndSplitsItsThreadTime() throws {
        let timed = try run(timed: true)
        let phases = try #require(timed.record.hostPhases)
        #expect(phases.copiedBytes == 3 * 2 * 6 * 5 * 4)
        #expect(phases.threads == 2)
        #expect(phases.copySeconds > 0 && phases.vertexSeconds > 0 && phases.waitSeconds >= 0 && phases.otherSeconds >= 0)
        #expect(phases.totalSeconds == phases.copySeconds + phases.vertexSeconds + phases.waitSeconds + phases.otherSeconds)
        #expect(phases.copyFloorSeconds == phases.copySeconds / 2)
        #expect(phases.summary.contains("2 threads") && phases.summary.contains("copies"))
        let untimed = try run(timed: false)
        #expect(untimed.record.hostPhases == nil)
        #expect(timed.result == untimed.result)
        #expect(timed.result[3] == 2 * 2 + 1 && timed.result[59] == 0)
    }
}
