import TesseraCompiler

/// What one run of a program did: the steps executed, in order, and their modelled cycles.
public struct ExecutionRecord: Sendable {
    /// Index of the program run.
    public var program: Int
    /// Indices of the executed steps in execution order, up to `EngineOptions.traceLimit` entries.
    public var trace: [Int]
    /// Executions of every step (including those beyond the trace limit).
    public var executions: [Int]
    /// True when the trace stopped at the limit.
    public var traceTruncated: Bool
    /// Where the host's workers spent the run, when the engine was asked to time it
    /// (``EngineOptions/timesHostPhases``); nil otherwise.
    public var hostPhases: HostPhaseTimes?

    /// Modelled cycles of the run: every executed step's cycles.
    public func totalCycles(_ steps: [StepCycles]) -> Int {
        zip(executions, steps).reduce(0) { $0 + $1.0 * $1.1.totalCycles }
    }

    /// Bytes the run's copies moved, exchange and on-tile, in all `replicas` replicas: every executed step's.
    public func copiedBytes(_ steps: [StepCycles], replicas: Int) -> Int {
        replicas * zip(executions, steps).reduce(0) { $0 + $1.0 * ($1.1.exchangedBytes + $1.1.onTileCopyBytes) }
    }
}
