/// The totals of one run: modelled cycles and time, and how they split over the phases.
///
/// Every figure counts every execution of every step, including executions beyond the engine's
/// trace limit. The five shares add up to 1 (all zero for a run of no cycles). With several replicas
/// the figures are those of each replica, which run in lockstep.
public struct CycleSummary: Sendable, Codable, Hashable {
    /// Modelled cycles of the run; equals `ExecutionRecord.totalCycles(executable.steps)`.
    public var totalCycles: Int
    /// Modelled time of the run, in microseconds: `totalCycles / clockHz × 1e6`.
    public var microseconds: Double
    /// Tile clock the time is modelled at, in hertz.
    public var clockHz: Double
    /// Steps executed, counting repeats.
    public var executedSteps: Int
    /// Cycles synchronising tiles.
    public var syncCycles: Int
    /// Cycles of exchange, in and out.
    public var exchangeCycles: Int
    /// Cycles of the slowest tile's compute, over steps.
    public var computeCycles: Int
    /// Cycles of host transfers.
    public var hostCycles: Int
    /// Cycles of cross-replica collectives.
    public var collectiveCycles: Int
    /// Bytes of each replica's data entering collectives.
    public var collectiveBytes: Int
    /// `syncCycles / totalCycles`.
    public var syncShare: Double
    /// `exchangeCycles / totalCycles`.
    public var exchangeShare: Double
    /// `computeCycles / totalCycles`.
    public var computeShare: Double
    /// `hostCycles / totalCycles`.
    public var hostShare: Double
    /// `collectiveCycles / totalCycles`.
    public var collectiveShare: Double

    /// The totals of `rows`, at `clockHz`.
    init(rows: [CycleReport.Row], clockHz: Double) {
        func sum(_ cycles: (CycleReport.Row) -> Int) -> Int { rows.reduce(0) { $0 + $1.executions * cycles($1) } }
        syncCycles = sum(\.syncCycles)
        exchangeCycles = sum { $0.exchangeInCycles + $0.exchangeOutCycles }
        computeCycles = sum(\.computeCycles)
        hostCycles = sum(\.hostCycles)
        collectiveCycles = sum(\.collectiveCycles)
        collectiveBytes = sum(\.collectiveBytes)
        totalCycles = syncCycles + exchangeCycles + computeCycles + hostCycles + collectiveCycles
        executedSteps = rows.reduce(0) { $0 + $1.executions }
        self.clockHz = clockHz
        microseconds = Double(totalCycles) / clockHz * 1e6
        let whole = Double(max(1, totalCycles))
        syncShare = Double(syncCycles) / whole
        exchangeShare = Double(exchangeCycles) / whole
        computeShare = Double(computeCycles) / whole
        hostShare = Double(hostCycles) / whole
        collectiveShare = Double(collectiveCycles) / whole
    }
}
