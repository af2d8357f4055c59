import Atomics
import Foundation
import _TesseraShim

/// A reusable barrier for a fixed number of threads, for superstep boundaries.
///
/// Sense-reversing: the "sense" is a generation counter that the last thread to arrive advances
/// after re-arming the arrival count, so threads keep no local state and the barrier can be
/// waited on any number of times in a row.
///
/// Waiters spin (with a CPU relax hint), because waking a parked thread costs tens of
/// microseconds while a superstep may take less. Spinning only pays while every party owns a
/// core, so with more parties than cores the waiters call `sched_yield()` from the first poll,
/// letting the thread they wait for run instead of livelocking; with enough cores they switch
/// to yielding after about 100 µs, so a long, unbalanced phase does not hold a core forever.
/// Waiters never sleep: when other processes keep every core busy, each phase costs scheduler
/// time slices (milliseconds), pinned or not.
public final class SpinBarrier: @unchecked Sendable {
    /// Number of threads that must call `wait()` before any of them returns.
    public let parties: Int
    /// How many times a waiter polls with a relax hint before it yields its CPU on each poll.
    public let spinsBeforeYield: Int

    /// The arrival count and the generation, each on its own cache line so arrivals do not
    /// invalidate the line the waiters poll.
    private let storage: UnsafeMutableRawPointer
    private let remaining: UnsafeAtomic<Int>
    private let generation: UnsafeAtomic<Int>

    private static let cacheLine = 64
    /// About 100 µs of polling (a `pause` costs ~26 ns on the AMD EPYC development host).
    private static let spinBudget = 1 << 12

    /// A barrier for `parties` threads (at least 1). `availableCores` is how many threads can
    /// run at once (default: the CPUs this process may use); above it the waiters never spin.
    public init(parties: Int, availableCores: Int = ProcessInfo.processInfo.activeProcessorCount) {
        precondition(parties >= 1, "SpinBarrier needs at least 1 party, got \(parties)")
        self.parties = parties
        spinsBeforeYield = parties <= availableCores ? Self.spinBudget : 0
        storage = .allocate(byteCount: 2 * Self.cacheLine, alignment: Self.cacheLine)
        let remainingSlot = storage.bindMemory(to: UnsafeAtomic<Int>.Storage.self, capacity: 1)
        remainingSlot.initialize(to: UnsafeAtomic<Int>.Storage(parties))
        let generationSlot = (storage + Self.cacheLine).bindMemory(to: UnsafeAtomic<Int>.Storage.self, capacity: 1)
        generationSlot.initialize(to: UnsafeAtomic<Int>.Storage(0))
        remaining = UnsafeAtomic(at: remainingSlot)
        generation = UnsafeAtomic(at: generationSlot)
    }

    deinit {
        storage.deallocate()
    }

    /// Blocks until all `parties` threads have called `wait()` for this phase. Everything a
    /// thread wrote before `wait()` is visible to every thread after it returns.
    public func wait() {
        let phase = generation.load(ordering: .acquiring)
        if remaining.wrappingDecrementThenLoad(ordering: .acquiringAndReleasing) == 0 {
            remaining.store(parties, ordering: .relaxed)
            generation.wrappingIncrement(ordering: .releasing)
            return
        }
        var spins = 0
        while generation.load(ordering: .acquiring) == phase {
            if spins < spinsBeforeYield {
                spins += 1
                tessera_cpu_relax()
            } else {
                sched_yield()
            }
        }
    }
}
