import TesseraCompiler
import TesseraGraph
import TesseraHost

/// How an engine runs: how many host threads and whether they are pinned.
public struct EngineOptions: Sendable, Hashable {
    /// Host worker threads; nil means one per core hwloc reports. Results do not depend on it.
    public var threads: Int?
    /// Pin each worker to its own core with hwloc.
    public var pinThreads: Bool
    /// Executed steps kept in the trace of a run.
    public var traceLimit: Int
    /// Time where each worker spends a run (``ExecutionRecord/hostPhases``): two clock reads per
    /// tile of a step, under 1 % of a large model's run.
    public var timesHostPhases: Bool

    /// Options with one pinned thread per core by default.
    public init(threads: Int? = nil, pinThreads: Bool = true, traceLimit: Int = 1_000_000, timesHostPhases: Bool = false) {
        self.threads = threads
        self.pinThreads = pinThreads
        self.traceLimit = traceLimit
        self.timesHostPhases = timesHostPhases
    }
}

/// Loads an ``Executable`` into simulated tile memory and runs its programs on pinned host threads.
///
/// Every tile owns a real arena of the target's bytes per tile, allocated on the NUMA node of the
/// worker whose block of tiles holds it and committed on first touch. Each step is a
/// bulk-synchronous superstep whose phases (exchange in, compute, exchange out, host transfer) are
/// separated by a barrier; in a phase every worker runs its own block of tiles, or, with one replica
/// on one NUMA node, the chunks it claims of the tiles the phase keeps busy. A vertex
/// touches only its own tile's memory and every copy is done by the worker running its destination
/// tile, so results are bitwise identical for any number of threads.
public final class Engine {
    /// The executable loaded.
    public let executable: Executable
    /// The worker threads.
    public let pool: WorkerPool
    /// What the last run did, for cycle reports and traces.
    public private(set) var lastRun: ExecutionRecord?

    let options: EngineOptions
    let arenas: [NumaArena]
    let tileBase: UnsafeMutablePointer<UnsafeMutableRawPointer>
    let workerTiles: [Range<Int>]
    /// Host buffers of every stream, one ring per replica (empty until connected).
    var streamRings: [[StreamRing]]
    var streamCursors: [Int]
    /// How collectives reach the replicas.
    let transport: any ReplicaTransport = InProcessTransport()
    /// Whether a step's tiles may be shared among the workers by the step's own work rather than
    /// by arena: one replica, and every worker on one NUMA node, so no share reaches remote memory.
    let balancesSteps: Bool
    /// Where the workers claim the chunks of a phase's tiles, with ``balancesSteps``.
    let claims = TileClaims()

    /// Starts the workers, allocates every tile's arena and writes the constants.
    public init(_ executable: Executable, options: EngineOptions = EngineOptions()) throws(RuntimeError) {
        let target = executable.target
        let tiles = target.tiles * executable.replicas
        do {
            let pool = try WorkerPool(threads: options.threads.map { min($0, tiles) }, pin: options.pinThreads)
            self.pool = pool
            let workers = pool.threadCount
            workerTiles = (0..<workers).map { ($0 * tiles / workers)..<(($0 + 1) * tiles / workers) }
            arenas = try workerTiles.enumerated().map { worker, tiles throws(HostError) in
                try NumaArena(bytes: tiles.count * target.bytesPerTile, node: pool.pinnings[worker].numaNode)
            }
        } catch {
            throw .host(error)
        }
        self.executable = executable
        self.options = options
        balancesSteps = executable.replicas == 1 && Set(pool.pinnings.map(\.numaNode)).count == 1
        tileBase = .allocate(capacity: tiles)
        for (worker, tiles) in workerTiles.enumerated() {
            for tile in tiles { tileBase[tile] = arenas[worker].base + (tile - tiles.lowerBound) * target.bytesPerTile }
        }
        streamRings = Array(repeating: [], count: executable.streams.count)
        streamCursors = Array(repeating: 0, count: executable.streams.count)
        pool.run { worker in writeConstants(tiles: workerTiles[worker]) }
    }

    deinit {
        pool.shutdown()
        tileBase.deallocate()
    }

    /// Every replica's tile memory, for collectives.
    var replicaMemory: ReplicaMemory {
        ReplicaMemory(tileBase: tileBase, tilesPerReplica: executable.target.tiles, replicas: executable.replicas)
    }

    /// Where each worker thread is pinned.
    public var pinnings: [WorkerPinning] { pool.pinnings }

    /// Host bytes reserved for tile memory (committed only where touched).
    public var arenaBytes: Int { arenas.reduce(0) { $0 + $1.byteCount } }

    /// Runs program `index` once.
    public func run(_ index: Int = 0) throws(RuntimeError) {
        guard executable.programs.indices.contains(index) else {
            throw .noSuchProgram(index: index, count: executable.programs.count)
        }
        let program = executable.programs[index]
        try checkStreams(program)
        let record = RecordBox(program: index, steps: executable.steps.count, limit: options.traceLimit)
        let cursors = streamCursors, timing = options.timesHostPhases
        let phases = UnsafeMutableBufferPointer<HostPhaseTimes>.allocate(capacity: pool.threadCount)
        defer { phases.deallocate() }
        claims.reset(phase: 0)
        claims.reset(phase: 1)
        pool.run { worker in
            var walker = ProgramWalker(engine: self, worker: worker, tiles: workerTiles[worker], cursors: cursors,
                                       record: worker == 0 ? record : nil, stopwatch: PhaseStopwatch(enabled: timing))
            walker.walk(program)
            if worker == 0 { record.cursors = walker.cursors }
            (phases.baseAddress! + worker).initialize(to: walker.stopwatch.times)
        }
        streamCursors = record.cursors
        var run = ExecutionRecord(program: index, trace: record.trace, executions: record.executions,
                                  traceTruncated: record.truncated, hostPhases: nil)
        if timing {
            var total = HostPhaseTimes()
            for worker in phases { total.add(worker) }
            total.threads = pool.threadCount
            total.copiedBytes = run.copiedBytes(executable.steps, replicas: executable.replicas)
            run.hostPhases = total
        }
        lastRun = run
    }

    /// Writes the constants, and each replica's index, into the tiles of `tiles` (global tile indices).
    private func writeConstants(tiles: Range<Int>) {
        let tilesPerReplica = executable.target.tiles
        for case let placement? in executable.data {
            let elementBytes = placement.elementType.byteSize
            for (index, interval) in placement.intervals.enumerated() {
                for replica in 0..<executable.replicas where tiles.contains(replica * tilesPerReplica + interval.tile) {
                    let address = tileBase[replica * tilesPerReplica + interval.tile] + Int(placement.byteOffsets[index])
                    if placement.isReplicaIndex {
                        address.storeBytes(of: UInt32(replica), as: UInt32.self)
                    } else if let bytes = placement.constantBytes {
                        bytes.withUnsafeBytes {
                            address.copyMemory(from: $0.baseAddress! + interval.begin * elementBytes, byteCount: interval.count * elementBytes)
                        }
                    }
                }
            }
        }
    }

    private func checkStreams(_ program: PlannedProgram) throws(RuntimeError) {
        switch program {
        case let .sequence(programs):
            for program in programs { try checkStreams(program) }
        case let .step(index):
            if let host = executable.supersteps[index].host, streamRings[host.stream].isEmpty {
                throw .streamNotConnected(stream: executable.streams[host.stream].name)
            }
        case let .loop(_, body):
            try checkStreams(body)
        case let .branch(_, thenBody, elseBody):
            try checkStreams(thenBody)
            try checkStreams(elseBody)
        case .nothing:
            break
        }
    }
}

/// The record of a run, written by worker 0 only.
final class RecordBox: @unchecked Sendable {
    let program: Int
    let limit: Int
    var trace: [Int] = []
    var executions: [Int]
    var truncated = false
    var cursors: [Int] = []

    init(program: Int, steps: Int, limit: Int) {
        self.program = program
        self.limit = limit
        executions = Array(repeating: 0, count: steps)
    }

    func note(_ step: Int) {
        executions[step] += 1
        if trace.count < limit { trace.append(step) } else { truncated = true }
    }
}
