import Foundation
import Testing
import TesseraHost

@Suite struct TopologyTests {
    @Test func everyCoreHasProcessingUnitsAndTheyAddUp() throws {
        let topology = try HostTopology.load()
        #expect(!topology.cores.isEmpty)
        #expect(topology.numaNodeCount >= 1)
        for (position, core) in topology.cores.enumerated() {
            #expect(core.index == position)
            #expect(!core.processingUnits.isEmpty)
            #expect(core.processingUnits == core.processingUnits.sorted())
        }
        let units = topology.cores.flatMap(\.processingUnits)
        #expect(Set(units).count == units.count, "a PU belongs to two cores: \(units)")
        #expect(units.count == topology.processingUnitCount)
    }

    @Test func processingUnitsAreTheCPUsThisProcessMayUse() throws {
        let topology = try HostTopology.load()
        #expect(topology.cores.flatMap(\.processingUnits).sorted() == currentAffinity())
    }

    @Test func numaNodesMatchSysfs() throws {
        let topology = try HostTopology.load()
        let sysfs = "/sys/devices/system/cpu"
        for core in topology.cores {
            for unit in core.processingUnits {
                let links = try FileManager.default.contentsOfDirectory(atPath: "\(sysfs)/cpu\(unit)")
                let nodes = links.filter { $0.hasPrefix("node") }.compactMap { Int($0.dropFirst(4)) }
                #expect(nodes == [core.numaNode] || nodes.isEmpty && core.numaNode == 0, "PU \(unit): sysfs says \(nodes)")
            }
        }
    }

    @Test func summaryListsEveryCore() throws {
        let topology = try HostTopology.load()
        let summary = topology.summary
        #expect(summary.hasPrefix("Machine: "))
        for core in topology.cores {
            let units = core.processingUnits.map(String.init).joined(separator: ",")
            #expect(summary.contains("core \(core.index): PU \(units), NUMA node \(core.numaNode)"))
        }
    }

    @Test func errorsNameWhatFailedAndWhere() {
        #expect(HostError.pinningFailed(worker: 3, core: 1, reason: "EPERM").description
            == "Pinning worker 3 to host core 1 failed: EPERM")
        #expect(HostError.arenaAllocationFailed(bytes: 4096, node: 2, reason: "no such NUMA node").description
            == "Allocation of 4096 bytes on NUMA node 2 failed: no such NUMA node")
        #expect(HostError.invalidWorkerCount(0).description.contains("asked for 0"))
    }
}
