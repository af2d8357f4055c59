/// How long each compiler phase took and how large the compiled program is — what a user needs
/// to see when a compile is slow.
public struct CompileStatistics: Sendable, Codable, Hashable {
    /// One timed phase of the compiler.
    public struct Phase: Sendable, Codable, Hashable {
        /// Phase name: `validate`, `lay out`, `lower`, `liveness`, `overheads`, `place`, `finalize`.
        public var name: String
        /// Wall-clock seconds on the host.
        public var seconds: Double
    }

    /// The phases in the order they ran.
    public var phases: [Phase] = []
    /// Vertices in the executed compute sets.
    public var vertices = 0
    /// Planned copies (exchange and on-tile), over all steps.
    public var copies = 0
    /// Memory blocks placed (variables per tile, buffers, overheads).
    public var allocations = 0
    /// Steps of all programs.
    public var steps = 0

    /// Seconds of all phases.
    public var totalSeconds: Double { phases.reduce(0) { $0 + $1.seconds } }

    /// Runs `body`, recording its wall-clock time as phase `name`.
    mutating func time<Result, Failure: Error>(_ name: String, _ body: () throws(Failure) -> Result) throws(Failure) -> Result {
        let start = ContinuousClock.now
        defer {
            let elapsed = ContinuousClock.now - start
            phases.append(Phase(name: name, seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18))
        }
        return try body()
    }
}
