import TesseraCompiler
import TesseraRuntime

/// A run as a Chrome Trace Event file (`trace.json`) that Perfetto (ui.perfetto.dev) and
/// chrome://tracing open: a timeline of the modelled time, not of the host's wall clock.
///
/// Layout: one process per replica, `pid` r named "IPU r (<target>)". In each, track
/// ``stepsThread``, named "steps", has one complete event per executed step, named after the
/// step, with its phases as child events in the order the cost model charges them: "sync" (all
/// of the step's sync cycles), "exchange in", "compute", "exchange out", "host", "collective";
/// phases of zero cycles are left out. Track `g` (0, 1, …), named "tiles a–b", has for each
/// executed step in which one of its tiles computes a "compute" event that starts with the
/// step's compute phase and lasts the group's slowest tile. Every complete event's `args` carry
/// `step` (index), `kind` and `cycles`; a "collective" phase also carries `bytes`.
///
/// Replicas run the same program on the same layout in lockstep, so their events share
/// timestamps and their tile-group tracks would be identical: by default only replica 0 has
/// them (``Options/tileTracksForEveryReplica`` writes them for all), which keeps the events per
/// step near `R × (1 + phases) + groups` instead of `R × (1 + phases + groups)`.
///
/// Times (`ts`, `dur`) are microseconds of modelled time, `cycles / clockHz × 1e6`, accumulated
/// over `ExecutionRecord.trace` in order, so the steps' durations add up to the run's modelled
/// time. Files stay bounded: once writing the next step for every replica would pass
/// ``Options/maxEvents`` events, the trace stops and ends with an instant event "trace
/// truncated"; so does a trace the engine itself truncated.
public struct ChromeTrace: Sendable {
    /// How the trace is laid out and bounded.
    public struct Options: Sendable, Hashable {
        /// Tiles per tile-group track (the last group may hold fewer).
        public var tilesPerGroup: Int
        /// Most events written, metadata included; an event takes about 170 bytes, so the
        /// default keeps the file under about 85 MB, which Perfetto's UI opens comfortably.
        public var maxEvents: Int
        /// True to write the tile-group tracks of every replica, not only of replica 0; they are
        /// identical, and cost `groups` events per step and replica.
        public var tileTracksForEveryReplica: Bool

        /// Options with `tilesPerGroup` tiles per track and at most `maxEvents` events, with
        /// tile-group tracks for replica 0 only unless `tileTracksForEveryReplica`.
        public init(tilesPerGroup: Int = 64, maxEvents: Int = 500_000, tileTracksForEveryReplica: Bool = false) {
            self.tilesPerGroup = tilesPerGroup
            self.maxEvents = maxEvents
            self.tileTracksForEveryReplica = tileTracksForEveryReplica
        }
    }

    /// Thread id of the "steps" track; tile-group tracks use their group index.
    public static let stepsThread = 1_000_000
    /// Identifier of the Tessera metadata in the file's `otherData` member, `tessera.trace/1`.
    public static let schemaID = "tessera.trace/1"

    /// The trace file's text.
    public let json: String
    /// Executed steps written, from the start of the run.
    public let writtenSteps: Int
    /// True when the file does not show every executed step (its own limit or the engine's).
    public let isTruncated: Bool

    /// The trace of `record`, a run of `executable`.
    ///
    /// - Throws: ``ProfileError/recordMismatch(detail:)`` when the record does not fit the
    ///   executable, ``ProfileError/cannotEncode(file:reason:)`` when the target's clock is not a
    ///   positive number.
    public init(executable: Executable, record: ExecutionRecord, options: Options = Options()) throws(ProfileError) {
        try ProfileChecks.check(record, fits: executable)
        let target = executable.target
        guard target.clockHz > 0, target.clockHz.isFinite else {
            throw .cannotEncode(file: "trace.json", reason: "target '\(target.name)' has clock \(target.clockHz) Hz; times need a positive clock")
        }
        let groupSize = max(1, options.tilesPerGroup)
        let groups = (target.tiles + groupSize - 1) / groupSize
        let replicas = executable.replicas
        let tileReplicas = options.tileTracksForEveryReplica ? replicas : 1
        var writer = EventWriter(clockHz: target.clockHz)

        for replica in 0..<replicas {
            writer.metadata("process_name", pid: replica, tid: 0, args: "\"name\":\("IPU \(replica) (\(target.name))".jsonQuoted)")
            writer.metadata("thread_name", pid: replica, tid: Self.stepsThread, args: "\"name\":\"steps\"")
            writer.metadata("thread_sort_index", pid: replica, tid: Self.stepsThread, args: "\"sort_index\":-1")
            guard replica < tileReplicas else { continue }
            for group in 0..<groups {
                let last = min(target.tiles, (group + 1) * groupSize) - 1
                let name = "tiles \(group * groupSize)–\(last)"
                writer.metadata("thread_name", pid: replica, tid: group, args: "\"name\":\(name.jsonQuoted)")
                writer.metadata("thread_sort_index", pid: replica, tid: group, args: "\"sort_index\":\(group)")
            }
        }

        // The slowest tile of each group, for the steps the run executed.
        var groupCycles: [Int: [Int]] = [:]
        for (step, count) in record.executions.enumerated() where count > 0 {
            var slowest = [Int](repeating: 0, count: groups)
            for (tile, cycles) in executable.tileComputeCycles[step].enumerated() {
                slowest[tile / groupSize] = max(slowest[tile / groupSize], cycles)
            }
            groupCycles[step] = slowest
        }

        var clock = 0
        var written = 0
        var stoppedEarly = false
        for index in record.trace {
            let step = executable.steps[index]
            let phases = [("sync", step.syncCycles), ("exchange in", step.exchangeInCycles), ("compute", step.computeCycles),
                          ("exchange out", step.exchangeOutCycles), ("host", step.hostCycles),
                          ("collective", step.collectiveCycles)].filter { $0.1 > 0 }
            let busyGroups = groupCycles[index, default: []].enumerated().filter { $0.element > 0 }
            let events = replicas * (1 + phases.count) + tileReplicas * busyGroups.count
            guard writer.count + events + 1 <= options.maxEvents else {  // + 1 for the truncation note
                stoppedEarly = true
                break
            }
            let args = "\"step\":\(index),\"kind\":\"\(step.kind.rawValue)\""
            for replica in 0..<replicas {
                writer.complete(step.name, category: "step", pid: replica, tid: Self.stepsThread, from: clock, cycles: step.totalCycles,
                                args: args)
                var phaseStart = clock
                var computeStart = clock
                for (name, cycles) in phases {
                    if name == "compute" { computeStart = phaseStart }
                    let extra = name == "collective" ? ",\"bytes\":\(step.collectiveBytes)" : ""
                    writer.complete(name, category: "phase", pid: replica, tid: Self.stepsThread, from: phaseStart, cycles: cycles,
                                    args: args + extra)
                    phaseStart += cycles
                }
                guard replica < tileReplicas else { continue }
                for (group, cycles) in busyGroups {
                    writer.complete("compute", category: "tiles", pid: replica, tid: group, from: computeStart, cycles: cycles,
                                    args: args + ",\"name\":\(step.name.jsonQuoted)")
                }
            }
            clock += step.totalCycles
            written += 1
        }

        let executed = record.executions.reduce(0, +)
        if stoppedEarly || record.traceTruncated {
            let reason = stoppedEarly ? "the trace file's limit of \(options.maxEvents) events" : "the engine's trace limit"
            writer.instant("trace truncated", tid: Self.stepsThread, at: clock,
                           args: "\"reason\":\(reason.jsonQuoted),\"writtenSteps\":\(written),\"executedSteps\":\(executed)")
        }
        let other = "\"schema\":\(Self.schemaID.jsonQuoted),\"target\":\(target.name.jsonQuoted),\"program\":\(record.program),"
            + "\"replicas\":\(replicas),\"tileTrackReplicas\":\(tileReplicas),"
            + "\"clockHz\":\(target.clockHz),\"writtenSteps\":\(written),\"executedSteps\":\(executed),"
            + "\"truncated\":\(stoppedEarly || record.traceTruncated)"
        json = "{\"displayTimeUnit\":\"ns\",\"otherData\":{\(other)},\"traceEvents\":[\n" + writer.events + "\n]}\n"
        writtenSteps = written
        isTruncated = stoppedEarly || record.traceTruncated
    }
}

/// Appends trace events, one per line, converting cycle positions to modelled microseconds.
private struct EventWriter {
    let clockHz: Double
    var events = ""
    var count = 0

    /// Modelled microseconds at cycle `cycles` of the run.
    func microseconds(_ cycles: Int) -> Double { Double(cycles) / clockHz * 1e6 }

    mutating func append(_ event: String) {
        if count > 0 { events += ",\n" }
        events += event
        count += 1
    }

    mutating func metadata(_ name: String, pid: Int, tid: Int, args: String) {
        append("{\"name\":\"\(name)\",\"ph\":\"M\",\"pid\":\(pid),\"tid\":\(tid),\"args\":{\(args)}}")
    }

    /// A complete event over cycles `from..<from + cycles`; its end is computed from the same
    /// cycle position as the next event's start, so nested events end exactly with their parent.
    mutating func complete(_ name: String, category: String, pid: Int, tid: Int, from start: Int, cycles: Int, args: String) {
        let begin = microseconds(start), duration = microseconds(start + cycles) - begin
        append("{\"name\":\(name.jsonQuoted),\"cat\":\"\(category)\",\"ph\":\"X\",\"pid\":\(pid),\"tid\":\(tid),"
            + "\"ts\":\(begin),\"dur\":\(duration),\"args\":{\(args),\"cycles\":\(cycles)}}")
    }

    mutating func instant(_ name: String, tid: Int, at cycle: Int, args: String) {
        append("{\"name\":\(name.jsonQuoted),\"ph\":\"i\",\"s\":\"g\",\"pid\":0,\"tid\":\(tid),\"ts\":\(microseconds(cycle)),\"args\":{\(args)}}")
    }
}
