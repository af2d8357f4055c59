import Atomics
import Foundation
import Testing
@_spi(Testing) import TesseraHost
import _TesseraShim

/// Pools spin and pin threads on a 2-core machine: run their tests one at a time.
@Suite(.serialized) struct WorkerPoolTests {
    @Test func workersArePinnedToOneProcessingUnitOfTheirCore() throws {
        let topology = try HostTopology.load()
        let pool = try WorkerPool(threads: 2, topology: topology)
        #expect(pool.threadCount == 2)
        #expect(pool.pinnings.map(\.worker) == [0, 1])
        for pinning in pool.pinnings {
            let core = topology.cores[pinning.worker % topology.cores.count]
            #expect(pinning.isBound)
            #expect(pinning.core == core.index)
            #expect(pinning.numaNode == core.numaNode)
            #expect(pinning.processingUnit == core.processingUnits.first)
            #expect(pinning.boundSet == [pinning.processingUnit])
            #expect(pinning.boundSet.contains(pinning.observedCPU))
        }
        let affinities = PerWorker<[Int]>(count: 2, initial: [])
        let cpus = PerWorker(count: 2, initial: -1)
        pool.run { worker in
            affinities[worker] = currentAffinity()
            cpus[worker] = Int(tessera_sched_getcpu())
        }
        for pinning in pool.pinnings {
            #expect(affinities[pinning.worker] == [pinning.processingUnit])
            #expect(cpus[pinning.worker] == pinning.processingUnit)
        }
    }

    @Test func unpinnedWorkersReportWhereTheyRun() throws {
        let pool = try WorkerPool(threads: 2, pin: false)
        #expect(pool.pinnings.map(\.worker) == [0, 1])
        for pinning in pool.pinnings {
            #expect(!pinning.isBound)
            #expect(pinning.boundSet == currentAffinity())
            #expect(pinning.boundSet.contains(pinning.observedCPU))
            #expect(pinning.processingUnit == pinning.observedCPU)
        }
    }

    @Test func moreWorkersThanCoresWrapRoundRobin() throws {
        let topology = try HostTopology.load()
        let count = topology.cores.count + 1
        let pool = try WorkerPool(threads: count, topology: topology)
        #expect(pool.pinnings.map(\.core) == (0..<count).map { $0 % topology.cores.count })
    }

    @Test func zeroWorkersIsRejected() {
        #expect(throws: HostError.invalidWorkerCount(0)) { try WorkerPool(threads: 0) }
    }

    @Test func runExecutesTheBodyOncePerWorkerAndWaitsForAll() throws {
        let pool = try WorkerPool(threads: 3)
        let calls = (0..<3).map { _ in ManagedAtomic<Int>(0) }
        let runs = 200
        for run in 0..<runs {
            pool.run { worker in
                if run % 50 == 0, worker == 2 { usleep(2_000) }
                calls[worker].wrappingIncrement(ordering: .relaxed)
            }
            #expect(calls.allSatisfy { $0.load(ordering: .relaxed) == run + 1 })
        }
    }

    @Test(arguments: [1, 2, 3])
    func barrierKeepsEveryPhaseTogether(workers: Int) throws {
        let pool = try WorkerPool(threads: workers)
        let phases = 1_000
        let slots = (0..<workers).map { _ in ManagedAtomic<Int>(-1) }
        let arrivals = (0..<phases).map { _ in ManagedAtomic<Int>(0) }
        let violations = ManagedAtomic<Int>(0)
        pool.run { worker in
            for phase in 0..<phases {
                slots[worker].store(phase, ordering: .relaxed)
                arrivals[phase].wrappingIncrement(ordering: .relaxed)
                pool.barrier.wait()
                let lagging = slots.filter { $0.load(ordering: .relaxed) != phase }.count
                let missing = workers - arrivals[phase].load(ordering: .relaxed)
                if lagging + missing != 0 { violations.wrappingIncrement(ordering: .relaxed) }
                pool.barrier.wait()
            }
        }
        #expect(violations.load(ordering: .relaxed) == 0)
        #expect(arrivals.allSatisfy { $0.load(ordering: .relaxed) == workers })
        let oversubscribed = workers > pool.topology.processingUnitCount
        #expect((pool.barrier.spinsBeforeYield == 0) == oversubscribed)
    }

    @Test func barrierSpinsOnlyWhilePartiesFitTheCores() {
        #expect(SpinBarrier(parties: 2, availableCores: 2).spinsBeforeYield > 0)
        #expect(SpinBarrier(parties: 3, availableCores: 2).spinsBeforeYield == 0)
    }

    @Test func shutdownJoinsEveryThread() throws {
        let pool = try WorkerPool(threads: 2)
        pool.run { _ in }
        pool.shutdown()
        #expect(pool.joins.value == 2)
        pool.shutdown()
        #expect(pool.joins.value == 2)
    }

    @Test func droppingThePoolStopsItsThreads() throws {
        weak var released: WorkerPool?
        let joins = try {
            let pool = try WorkerPool(threads: 2)
            released = pool
            pool.run { _ in }
            return pool.joins
        }()
        #expect(released == nil)
        #expect(joins.value == 2)
    }

    @Test func runFromInsideAWorkerTraps() async {
        await #expect(processExitsWith: .failure) {
            let pool = try WorkerPool(threads: 1)
            pool.run { _ in pool.run { _ in } }
        }
    }
}
