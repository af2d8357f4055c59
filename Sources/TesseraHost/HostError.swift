import Glibc

/// Everything that can go wrong on the host platform layer: discovering the machine, starting
/// and pinning worker threads, and reserving arena memory.
public enum HostError: Error, CustomStringConvertible, Equatable {
    /// hwloc could not build the machine topology; `step` names the failing hwloc call.
    case topologyUnavailable(step: String, reason: String)
    /// A worker pool was asked for a number of threads below one.
    case invalidWorkerCount(Int)
    /// The host refused to start thread `name`.
    case threadStartFailed(name: String, reason: String)
    /// Worker `worker` could not be bound to, or verified on, host core `core`.
    case pinningFailed(worker: Int, core: Int, reason: String)
    /// An arena of `bytes` bytes could not be reserved on NUMA node `node`.
    case arenaAllocationFailed(bytes: Int, node: Int, reason: String)

    /// The message: what failed, where (worker, core, node) and the numbers involved.
    public var description: String {
        switch self {
        case let .topologyUnavailable(step, reason):
            "Host topology unavailable: \(step) failed: \(reason)"
        case let .invalidWorkerCount(count):
            "Worker pool needs at least 1 thread, asked for \(count)"
        case let .threadStartFailed(name, reason):
            "Starting thread \(name) failed: \(reason)"
        case let .pinningFailed(worker, core, reason):
            "Pinning worker \(worker) to host core \(core) failed: \(reason)"
        case let .arenaAllocationFailed(bytes, node, reason):
            "Allocation of \(bytes) bytes on NUMA node \(node) failed: \(reason)"
        }
    }
}

/// `strerror(errno)` with the number, for error messages.
func errnoDescription(_ code: Int32) -> String {
    "\(String(cString: strerror(code))) (errno \(code))"
}
