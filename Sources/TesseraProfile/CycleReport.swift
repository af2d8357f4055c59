import TesseraCompiler
import TesseraGraph
import TesseraRuntime

/// Where the modelled cycles of one run went, step by step: the value written as `cycles.json`
/// (schema `tessera.cycles/1`, docs/report-schema.md) and rendered by ``text``.
///
/// Phase cycles of a row are those of one execution of the step; the totals multiply them by the
/// executions, so a truncated trace does not change them. With several replicas every figure is
/// that of one replica: they run the same program in lockstep, so it is also the run's time.
public struct CycleReport: Sendable, Codable {
    /// One step of the executable: its modelled cost per execution and how often the run executed it.
    public struct Row: Sendable, Codable, Hashable {
        /// Index of the step in the executable.
        public var index: Int
        /// Compute set or copy name.
        public var name: String
        /// What the step does.
        public var kind: StepKind
        /// Times the run executed the step.
        public var executions: Int
        /// Cycles synchronising tiles, per execution.
        public var syncCycles: Int
        /// Cycles of the exchange bringing inputs, per execution.
        public var exchangeInCycles: Int
        /// Cycles of the slowest tile's compute, per execution.
        public var computeCycles: Int
        /// Cycles of the exchange sending outputs, per execution.
        public var exchangeOutCycles: Int
        /// Cycles of host transfers, per execution.
        public var hostCycles: Int
        /// Cycles of a cross-replica collective (ring over the IPU-Links and the exchange to them), per execution.
        public var collectiveCycles: Int
        /// All cycles of one execution.
        public var cyclesPerExecution: Int
        /// All cycles of all executions: `cyclesPerExecution × executions`.
        public var totalCycles: Int
        /// Fewest compute cycles of a tile with work.
        public var tileComputeMin: Int
        /// Mean compute cycles over tiles with work.
        public var tileComputeMean: Double
        /// Most compute cycles of a tile (equals `computeCycles`).
        public var tileComputeMax: Int
        /// Tiles that run vertices or on-tile copies.
        public var activeTiles: Int
        /// Vertices run, per execution.
        public var vertices: Int
        /// Bytes sent between tiles, per execution.
        public var exchangedBytes: Int
        /// Bytes copied within tiles, per execution.
        public var onTileCopyBytes: Int
        /// Bytes moved to or from the host, per execution.
        public var hostBytes: Int
        /// Bytes of each replica's data entering a collective, per execution.
        public var collectiveBytes: Int

        init(_ step: StepCycles, executions: Int) {
            index = step.index
            name = step.name
            kind = step.kind
            self.executions = executions
            syncCycles = step.syncCycles
            exchangeInCycles = step.exchangeInCycles
            computeCycles = step.computeCycles
            exchangeOutCycles = step.exchangeOutCycles
            hostCycles = step.hostCycles
            collectiveCycles = step.collectiveCycles
            cyclesPerExecution = step.totalCycles
            totalCycles = step.totalCycles * executions
            tileComputeMin = step.tileComputeMin
            tileComputeMean = step.tileComputeMean
            tileComputeMax = step.computeCycles
            activeTiles = step.activeTiles
            vertices = step.vertices
            exchangedBytes = step.exchangedBytes
            onTileCopyBytes = step.onTileCopyBytes
            hostBytes = step.hostBytes
            collectiveBytes = step.collectiveBytes
        }
    }

    /// The schema identifier every report carries, `tessera.cycles/1`.
    public static let schemaID = "tessera.cycles/1"

    /// Schema identifier of the JSON form.
    public var schema = CycleReport.schemaID
    /// The target the executable was compiled for.
    public var target: Target
    /// Replicas the executable runs as, in lockstep; the cycles are those of each.
    public var replicas: Int
    /// Index of the program run.
    public var program: Int
    /// Every step of the executable in step order, executed or not (`executions` is 0 for steps of other programs).
    public var steps: [Row]
    /// The totals of the run.
    public var totals: CycleSummary
    /// Executed steps kept in the record's trace.
    public var tracedSteps: Int
    /// True when the engine stopped recording the trace at its limit (the totals still count every execution).
    public var traceTruncated: Bool
    /// Where the host's workers spent the run, when the engine timed it (absent from the JSON otherwise).
    public var hostPhases: HostPhaseTimes?

    /// The report of `record`, a run of `executable`.
    ///
    /// - Throws: ``ProfileError/recordMismatch(detail:)`` when the record's step counts or trace
    ///   do not fit the executable's steps.
    public init(executable: Executable, record: ExecutionRecord) throws(ProfileError) {
        try ProfileChecks.check(record, fits: executable)
        target = executable.target
        replicas = executable.replicas
        program = record.program
        steps = zip(executable.steps, record.executions).map { Row($0, executions: $1) }
        totals = CycleSummary(rows: steps, clockHz: executable.target.clockHz)
        tracedSteps = record.trace.count
        traceTruncated = record.traceTruncated
        hostPhases = record.hostPhases
    }

    /// The report as lines of text: the totals, then one row per executed step, ending with a newline.
    ///
    /// Phase columns are cycles of one execution; "total" is of all executions.
    public var text: String {
        let replication = replicas == 1 ? "" : " × \(replicas.grouped) replicas in lockstep"
        var out = "Cycles of program \(program) on target \(target.name)\(replication) at \(frequency(target.clockHz)): "
            + "\(totals.totalCycles.grouped) cycles = \(fixed(totals.microseconds, 3)) µs modelled, "
            + "\(totals.executedSteps.grouped) steps executed\n"
        out += "  compute \(percent(totals.computeShare)) (\(totals.computeCycles.grouped)), "
            + "exchange \(percent(totals.exchangeShare)) (\(totals.exchangeCycles.grouped)), "
            + "sync \(percent(totals.syncShare)) (\(totals.syncCycles.grouped)), "
            + "host \(percent(totals.hostShare)) (\(totals.hostCycles.grouped)), "
            + "collective \(percent(totals.collectiveShare)) (\(totals.collectiveCycles.grouped); "
            + "\(totals.collectiveBytes.grouped) bytes per replica)\n"
        if traceTruncated {
            out += "  the engine's trace stopped after \(tracedSteps.grouped) steps; these totals count every execution\n"
        }
        if let hostPhases { out += "  host (measured, not modelled): \(hostPhases.summary)\n" }
        let columns: [(String, TextTable.Alignment)] = [
            ("step", .right), ("name", .left), ("kind", .left), ("execs", .right), ("sync", .right), ("exch in", .right),
            ("compute", .right), ("exch out", .right), ("host", .right), ("collective", .right), ("total", .right),
            ("tile min", .right), ("tile mean", .right), ("tile max", .right), ("active tiles", .right), ("exchanged B", .right),
            ("on-tile copy B", .right), ("collective B", .right),
        ]
        var table = TextTable(columns)
        for row in steps where row.executions > 0 {
            table.append([String(row.index), clipped(row.name, 32), row.kind.rawValue, row.executions.grouped,
                          row.syncCycles.grouped, row.exchangeInCycles.grouped, row.computeCycles.grouped,
                          row.exchangeOutCycles.grouped, row.hostCycles.grouped, row.collectiveCycles.grouped,
                          row.totalCycles.grouped, row.tileComputeMin.grouped, fixed(row.tileComputeMean, 1),
                          row.tileComputeMax.grouped, row.activeTiles.grouped, row.exchangedBytes.grouped,
                          row.onTileCopyBytes.grouped, row.collectiveBytes.grouped])
        }
        let idle = steps.count - table.rows.count
        out += "\nSteps (cycles per execution; total over executions)\n" + table.render()
        if idle > 0 { out += "  (\(idle.grouped) step(s) of the executable not executed by this program)\n" }
        return out
    }
}

/// Consistency checks between an executable and a record of running it.
enum ProfileChecks {
    static func check(_ record: ExecutionRecord, fits executable: Executable) throws(ProfileError) {
        let steps = executable.steps.count
        guard record.executions.count == steps else {
            throw .recordMismatch(detail: "the record counts executions of \(record.executions.count) steps, the executable has \(steps)")
        }
        if let bad = record.trace.first(where: { !(0..<steps).contains($0) }) {
            throw .recordMismatch(detail: "the trace executes step \(bad), the executable has steps 0..<\(steps)")
        }
        guard executable.tileComputeCycles.count == steps,
              executable.tileComputeCycles.allSatisfy({ $0.count == executable.target.tiles }) else {
            throw .recordMismatch(detail: "the executable's per-tile compute cycles do not cover its \(steps) steps × \(executable.target.tiles) tiles")
        }
    }
}
