import Atomics
import CHwloc
import Foundation
import _TesseraShim

/// Where one worker thread ended up after it pinned itself.
public struct WorkerPinning: Sendable, Codable, Equatable {
    /// Worker index, 0..<threadCount.
    public let worker: Int
    /// Index into `HostTopology.cores` of the core the worker is bound to (for an unbound
    /// worker: the core it was observed on, or -1 if that CPU is not in the topology).
    public let core: Int
    /// OS index of the processing unit the worker is bound to (unbound: the observed CPU).
    public let processingUnit: Int
    /// NUMA node of `core` (0 when unknown).
    public let numaNode: Int
    /// The processing units (OS indices) in the thread's binding, read back with `hwloc_get_cpubind`.
    public let boundSet: [Int]
    /// The CPU the thread was running on right after binding (`sched_getcpu`).
    public let observedCPU: Int
    /// Whether the pool bound this thread (`pin: true`).
    public let isBound: Bool
}

/// A fixed set of dedicated worker threads, each pinned to one host core, that execute a body
/// together and synchronise with `barrier`.
///
/// Worker `i` is bound to core `i % cores.count` (round-robin when there are more workers than
/// cores), to the first processing unit of that core (`hwloc_bitmap_singlify`), so the kernel
/// never migrates it and its caches stay warm across supersteps.
///
/// Between runs a worker first polls for the next run for up to 200 µs, calling `sched_yield()`
/// between polls so a thread that shares its core (typically the caller) keeps running, then
/// parks on its own semaphore (a futex on Linux: no CPU is burnt while idle). Back-to-back runs
/// therefore start without a futex wake-up, which on a virtual machine costs tens of
/// microseconds; an idle pool costs nothing. `run` blocks on one completion semaphore that the
/// last worker to finish signals. The hand-off is paid per `run`, not per superstep: phases
/// inside a run are separated by the spinning `barrier`.
public final class WorkerPool: @unchecked Sendable {
    /// Number of worker threads.
    public let threadCount: Int
    /// A barrier for exactly `threadCount` parties, for use inside `run` bodies between phases.
    public let barrier: SpinBarrier
    /// Where each worker is pinned, indexed by worker; complete when `init` returns.
    public let pinnings: [WorkerPinning]
    /// The topology the workers were pinned with.
    public let topology: HostTopology

    private let shared: SharedState
    private let threads: [JoinableThread]
    private let running = ManagedAtomic<Bool>(false)
    private let stopped = ManagedAtomic<Bool>(false)

    /// Starts `threads` workers (default: one per core of `topology`) and waits until each has
    /// pinned itself (`pin: true`) or reported where it runs (`pin: false`).
    ///
    /// Throws `HostError.pinningFailed` if a binding is refused or does not read back as the
    /// requested single processing unit (e.g. in a container whose cpuset excludes the CPU);
    /// the threads already started are stopped before the error is thrown.
    public init(threads: Int? = nil, pin: Bool = true, topology: HostTopology? = nil) throws(HostError) {
        let topology = if let topology { topology } else { try HostTopology.load() }
        let count = threads ?? topology.cores.count
        guard count >= 1 else { throw .invalidWorkerCount(count) }
        let shared = SharedState(count: count, topology: topology, pin: pin)
        var workers: [JoinableThread] = []
        for worker in 0..<count {
            do {
                workers.append(try JoinableThread(name: "tessera-w\(worker)") { [shared] in shared.workerMain(worker) })
            } catch {
                // The threads started so far wait to pin; let them, then stop them.
                for _ in workers { shared.ready.wait() }
                Self.stop(shared, workers)
                throw error
            }
        }
        for _ in 0..<count { shared.ready.wait() }

        var pinnings: [WorkerPinning] = []
        for worker in 0..<count {
            switch shared.pinResults[worker] {
            case .success(let pinning):
                pinnings.append(pinning)
            case .failure(let error):
                Self.stop(shared, workers)
                throw error
            case nil:
                preconditionFailure("worker \(worker) signalled ready without a pinning result")
            }
        }
        self.threadCount = count
        self.topology = topology
        self.shared = shared
        self.threads = workers
        self.pinnings = pinnings
        self.barrier = SpinBarrier(parties: count, availableCores: topology.processingUnitCount)
    }

    deinit {
        shutdown()
    }

    /// Runs `body(worker)` once on every worker thread concurrently and returns when all have
    /// returned. The calling thread only waits. `body` may call `barrier.wait()` between phases;
    /// it must not call `run` again (runs do not nest), and only one thread may call `run` at
    /// a time.
    public func run(_ body: (_ worker: Int) -> Void) {
        precondition(!stopped.load(ordering: .acquiring), "WorkerPool.run called after shutdown()")
        precondition(
            running.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged,
            "WorkerPool.run called while another run is in progress (from inside a worker, or from two threads at once)")
        withoutActuallyEscaping(body) { body in
            shared.job = body
            shared.remaining.store(threadCount, ordering: .relaxed)
            shared.issueToken()
            shared.finished.wait()
            shared.job = nil
        }
        running.store(false, ordering: .releasing)
    }

    /// Stops the workers and joins every thread. Idempotent; `deinit` calls it.
    public func shutdown() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        precondition(!running.load(ordering: .acquiring), "WorkerPool.shutdown called during run")
        Self.stop(shared, threads, joins: joins)
    }

    /// How many of the pool's threads `shutdown` has joined, to let tests check that it joined them all.
    @_spi(Testing) public let joins = JoinCount()

    private static func stop(_ shared: SharedState, _ threads: [JoinableThread], joins: JoinCount? = nil) {
        shared.stopping = true
        shared.issueToken()
        for thread in threads {
            thread.join()
            joins?.count.wrappingIncrement(ordering: .releasing)
        }
    }
}

/// Threads joined so far, counted by the thread that joins them.
@_spi(Testing) public final class JoinCount: Sendable {
    let count = ManagedAtomic<Int>(0)

    /// The threads joined so far.
    public var value: Int { count.load(ordering: .acquiring) }
}

/// What the pool shares with its threads. The threads hold this, not the pool, so dropping
/// the last reference to the pool runs its `deinit`, which stops them.
private final class SharedState: @unchecked Sendable {
    let topology: HostTopology
    let pin: Bool
    /// Start tokens issued so far: one per run and one at shutdown.
    let issued = ManagedAtomic<Int>(0)
    /// One wake-up semaphore per worker, signalled once per token.
    let start: [DispatchSemaphore]
    /// Signalled by the last worker to finish a run.
    let finished = DispatchSemaphore(value: 0)
    /// Signalled once by each worker after pinning.
    let ready = DispatchSemaphore(value: 0)
    /// Workers still executing the current run.
    let remaining = ManagedAtomic<Int>(0)
    /// Per-worker pinning outcome, each slot written only by its worker before `ready`.
    let pinResults: UnsafeMutableBufferPointer<Result<WorkerPinning, HostError>?>
    /// The current run's body; written only between runs (ordered by `issued` and `finished`).
    var job: ((Int) -> Void)?
    /// Set before the last token to make the workers exit.
    var stopping = false

    init(count: Int, topology: HostTopology, pin: Bool) {
        self.topology = topology
        self.pin = pin
        start = (0..<count).map { _ in DispatchSemaphore(value: 0) }
        pinResults = .allocate(capacity: count)
        pinResults.initialize(repeating: nil)
    }

    deinit {
        pinResults.deinitialize()
        pinResults.deallocate()
    }

    /// How long an idle worker polls for the next run before parking.
    private static let idlePollNanoseconds: UInt64 = 200_000

    /// Lets every worker start the next run (or exit, once `stopping` is set).
    func issueToken() {
        issued.wrappingIncrement(ordering: .releasing)
        for semaphore in start { semaphore.signal() }
    }

    func workerMain(_ worker: Int) {
        pinResults[worker] = Result { () throws(HostError) in try pinCurrentThread(worker: worker) }
        ready.signal()
        var consumed = 0
        while true {
            awaitToken(worker, consumed: consumed)
            consumed += 1
            if stopping { break }
            execute(worker)
            if remaining.wrappingDecrementThenLoad(ordering: .acquiringAndReleasing) == 0 {
                finished.signal()
            }
        }
    }

    /// Waits for the token after the `consumed` ones: polls `issued` for up to
    /// `idlePollNanoseconds`, then parks. Every token is also a signal of the worker's
    /// semaphore, so the `wait` after a successful poll returns at once.
    private func awaitToken(_ worker: Int, consumed: Int) {
        let deadline = DispatchTime.now().uptimeNanoseconds + Self.idlePollNanoseconds
        while issued.load(ordering: .acquiring) == consumed, DispatchTime.now().uptimeNanoseconds < deadline {
            sched_yield()
        }
        start[worker].wait()
    }

    /// Kept out of line so the worker's reference to `job` ends before it reports completion.
    @inline(never)
    private func execute(_ worker: Int) {
        job?(worker)
    }

    private func pinCurrentThread(worker: Int) throws(HostError) -> WorkerPinning {
        let handle = topology.handle
        let threadFlag = Int32(HWLOC_CPUBIND_THREAD.rawValue)
        guard pin else {
            let observed = Int(tessera_sched_getcpu())
            let core = topology.core(containing: observed)
            return WorkerPinning(
                worker: worker, core: core?.index ?? -1, processingUnit: observed, numaNode: core?.numaNode ?? 0,
                boundSet: try readBinding(worker: worker, core: -1), observedCPU: observed, isBound: false)
        }
        let core = topology.cores[worker % topology.cores.count]
        func failure(_ reason: String) -> HostError {
            .pinningFailed(worker: worker, core: core.index, reason: reason)
        }
        guard let object = topology.coreObject(core.index), let coreSet = object.pointee.cpuset,
            let target = hwloc_bitmap_dup(coreSet)
        else { throw failure("hwloc has no cpuset for the core") }
        defer { hwloc_bitmap_free(target) }
        guard hwloc_bitmap_singlify(target) == 0 else { throw failure("hwloc_bitmap_singlify: \(errnoDescription(errno))") }
        let processingUnit = Int(hwloc_bitmap_first(target))
        guard hwloc_set_cpubind(handle, target, threadFlag) == 0 else {
            throw failure("hwloc_set_cpubind(PU \(processingUnit), THREAD): \(errnoDescription(errno))")
        }
        let boundSet = try readBinding(worker: worker, core: core.index)
        guard boundSet == [processingUnit] else {
            throw failure("binding reads back as PUs \(boundSet), expected [\(processingUnit)]")
        }
        let observed = Int(tessera_sched_getcpu())
        guard observed == processingUnit else {
            throw failure("thread runs on CPU \(observed) after binding to PU \(processingUnit)")
        }
        return WorkerPinning(
            worker: worker, core: core.index, processingUnit: processingUnit, numaNode: core.numaNode,
            boundSet: boundSet, observedCPU: observed, isBound: true)
    }

    private func readBinding(worker: Int, core: Int) throws(HostError) -> [Int] {
        guard let bound = hwloc_bitmap_alloc() else {
            throw .pinningFailed(worker: worker, core: core, reason: "hwloc_bitmap_alloc failed")
        }
        defer { hwloc_bitmap_free(bound) }
        guard hwloc_get_cpubind(topology.handle, bound, Int32(HWLOC_CPUBIND_THREAD.rawValue)) == 0 else {
            throw .pinningFailed(worker: worker, core: core, reason: "hwloc_get_cpubind(THREAD): \(errnoDescription(errno))")
        }
        return HostTopology.members(of: bound)
    }
}
