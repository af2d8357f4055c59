import CHwloc
import Glibc

/// One physical core of the host as hwloc sees it (or one processing unit, on machines where
/// hwloc reports no cores).
public struct HostCore: Sendable, Codable, Equatable {
    /// Logical index of the core, 0..<cores.count, in hwloc's topology order.
    public let index: Int
    /// OS indices of the processing units (hardware threads) of this core, ascending.
    public let processingUnits: [Int]
    /// OS index of the NUMA node the core's memory is local to (0 when hwloc knows none).
    public let numaNode: Int
}

/// The host machine's topology, loaded once with hwloc and read-only afterwards.
///
/// Only the processing units this process may run on are included: hwloc drops CPUs outside
/// the cgroup cpuset, and the topology is restricted to the process's CPU binding (`taskset`;
/// on Linux the union of its threads' affinity masks). hwloc documents concurrent reads of a
/// loaded topology as thread-safe, which is why the class is `Sendable`.
public final class HostTopology: @unchecked Sendable {
    /// The loaded hwloc topology; destroyed in `deinit`.
    let handle: hwloc_topology_t
    /// The hwloc type the `cores` were read from: `HWLOC_OBJ_CORE`, or `HWLOC_OBJ_PU` as a fallback.
    let coreType: hwloc_obj_type_t

    /// The host's cores in hwloc's logical order.
    public let cores: [HostCore]
    /// Number of NUMA nodes (at least 1).
    public let numaNodeCount: Int
    /// Number of processing units (hardware threads) this process may use.
    public let processingUnitCount: Int

    private init(handle: hwloc_topology_t) {
        self.handle = handle
        let coreCount = Int(hwloc_get_nbobjs_by_type(handle, HWLOC_OBJ_CORE))
        let coreType = coreCount > 0 ? HWLOC_OBJ_CORE : HWLOC_OBJ_PU
        self.coreType = coreType
        let count = Int(hwloc_get_nbobjs_by_type(handle, coreType))
        cores = (0..<count).compactMap { index in
            guard let object = hwloc_get_obj_by_type(handle, coreType, UInt32(index)) else { return nil }
            let node = object.pointee.nodeset.map { Int(hwloc_bitmap_first($0)) } ?? -1
            return HostCore(
                index: index,
                processingUnits: Self.members(of: object.pointee.cpuset),
                numaNode: max(node, 0))
        }
        numaNodeCount = max(Int(hwloc_get_nbobjs_by_type(handle, HWLOC_OBJ_NUMANODE)), 1)
        processingUnitCount = Int(hwloc_get_nbobjs_by_type(handle, HWLOC_OBJ_PU))
    }

    deinit {
        hwloc_topology_destroy(handle)
    }

    /// Discovers the host with hwloc (`hwloc_topology_init` + `hwloc_topology_load`).
    public static func load() throws(HostError) -> HostTopology {
        var handle: hwloc_topology_t?
        guard hwloc_topology_init(&handle) == 0, let handle else {
            throw .topologyUnavailable(step: "hwloc_topology_init", reason: errnoDescription(errno))
        }
        // Only the CPUs this process is bound to (`taskset`, cgroup cpuset) count; and loading
        // must never rebind threads, since pools may already have pinned theirs.
        let flags = HWLOC_TOPOLOGY_FLAG_IS_THISSYSTEM.rawValue | HWLOC_TOPOLOGY_FLAG_RESTRICT_TO_CPUBINDING.rawValue
            | HWLOC_TOPOLOGY_FLAG_DONT_CHANGE_BINDING.rawValue
        guard hwloc_topology_set_flags(handle, UInt(flags)) == 0 else {
            let reason = errnoDescription(errno)
            hwloc_topology_destroy(handle)
            throw .topologyUnavailable(step: "hwloc_topology_set_flags", reason: reason)
        }
        guard hwloc_topology_load(handle) == 0 else {
            let reason = errnoDescription(errno)
            hwloc_topology_destroy(handle)
            throw .topologyUnavailable(step: "hwloc_topology_load", reason: reason)
        }
        let topology = HostTopology(handle: handle)
        guard !topology.cores.isEmpty, topology.cores.allSatisfy({ !$0.processingUnits.isEmpty }) else {
            throw .topologyUnavailable(step: "hwloc_topology_load", reason: "no usable core or processing unit found")
        }
        return topology
    }

    /// A few human-readable lines: the machine, then each core with its PUs and NUMA node.
    public var summary: String {
        let root = hwloc_get_obj_by_type(handle, HWLOC_OBJ_MACHINE, 0)
        let package = hwloc_get_obj_by_type(handle, HWLOC_OBJ_PACKAGE, 0)
        let model = package.flatMap { hwloc_obj_get_info_by_name($0, "CPUModel") }.map { String(cString: $0) }
        let memoryMiB = (root?.pointee.total_memory ?? 0) >> 20
        func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }
        let coreCount = coreType == HWLOC_OBJ_CORE
            ? count(cores.count, "core") : count(cores.count, "processing unit") + " (no cores reported)"
        var lines = [
            "Machine: \(model ?? "unknown CPU"), \(memoryMiB) MiB",
            "\(coreCount), \(count(processingUnitCount, "processing unit")), \(count(numaNodeCount, "NUMA node"))",
        ]
        for core in cores {
            let units = core.processingUnits.map(String.init).joined(separator: ",")
            lines.append("  core \(core.index): PU \(units), NUMA node \(core.numaNode)")
        }
        return lines.joined(separator: "\n")
    }

    /// The hwloc object behind `cores[index]`; valid as long as this topology lives.
    func coreObject(_ index: Int) -> hwloc_obj_t? {
        hwloc_get_obj_by_type(handle, coreType, UInt32(index))
    }

    /// The core whose processing units include OS index `processingUnit`.
    func core(containing processingUnit: Int) -> HostCore? {
        cores.first { $0.processingUnits.contains(processingUnit) }
    }

    /// The OS indices set in an hwloc bitmap, ascending (empty for a nil or infinite bitmap).
    static func members(of bitmap: hwloc_const_bitmap_t?) -> [Int] {
        guard let bitmap, hwloc_bitmap_weight(bitmap) >= 0 else { return [] }
        var result: [Int] = []
        var index = hwloc_bitmap_first(bitmap)
        while index >= 0 {
            result.append(Int(index))
            index = hwloc_bitmap_next(bitmap, index)
        }
        return result
    }
}
