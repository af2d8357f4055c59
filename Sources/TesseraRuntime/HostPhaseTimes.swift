import Glibc

/// Where the host's worker threads spent a run: the simulator's own profile, beside the modelled
/// cycles of the chip. Measured only with ``EngineOptions/timesHostPhases``.
///
/// Times are thread-seconds summed over the workers, so with `threads` workers they add up to
/// about `threads ×` the run's wall time. Copies are the exchange (and on-tile copies) that fill
/// and empty the vertices' field buffers, done by the worker owning each destination tile;
/// vertices are the codelets' `compute`; waits are time at the barriers between phases (a
/// worker whose tiles had less work waits for the others).
public struct HostPhaseTimes: Sendable, Hashable, Codable {
    /// Thread-seconds copying between and within tiles.
    public var copySeconds = 0.0
    /// Thread-seconds running vertices.
    public var vertexSeconds = 0.0
    /// Thread-seconds waiting at barriers.
    public var waitSeconds = 0.0
    /// Thread-seconds of host transfers, collectives and everything else the walk did.
    public var otherSeconds = 0.0
    /// Bytes the copies moved: every executed step's exchanged and on-tile copy bytes, in every replica.
    public var copiedBytes = 0
    /// Workers that ran.
    public var threads = 0

    /// All thread-seconds.
    public var totalSeconds: Double { copySeconds + vertexSeconds + waitSeconds + otherSeconds }

    /// Bytes copied per thread-second of copying.
    public var copyBytesPerSecond: Double { copySeconds > 0 ? Double(copiedBytes) / copySeconds : 0 }

    /// Wall seconds the copies need at least if they ran at this rate on every worker at once, with
    /// no vertex or wait time: the floor a run's copies put under its host time.
    public var copyFloorSeconds: Double { copySeconds / Double(max(1, threads)) }

    /// Adds another worker's times (bytes are counted once, by the engine).
    mutating func add(_ other: HostPhaseTimes) {
        copySeconds += other.copySeconds
        vertexSeconds += other.vertexSeconds
        waitSeconds += other.waitSeconds
        otherSeconds += other.otherSeconds
    }
}

/// One worker's phase stopwatch: the time since the last mark goes to the phase named at the next
/// mark. Off, it reads no clock.
struct PhaseStopwatch {
    /// The phases time is split into.
    enum Phase { case copy, vertex, wait, other }

    let enabled: Bool
    private(set) var times = HostPhaseTimes()
    private var last: Int64

    init(enabled: Bool) {
        self.enabled = enabled
        last = enabled ? PhaseStopwatch.nanoseconds() : 0
    }

    /// Charges the time since the last mark to `phase`.
    @inline(__always) mutating func mark(_ phase: Phase) {
        guard enabled else { return }
        let now = PhaseStopwatch.nanoseconds()
        let seconds = Double(now - last) * 1e-9
        last = now
        switch phase {
        case .copy: times.copySeconds += seconds
        case .vertex: times.vertexSeconds += seconds
        case .wait: times.waitSeconds += seconds
        case .other: times.otherSeconds += seconds
        }
    }

    private static func nanoseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}
