import CNuma
import Glibc

/// A block of host memory placed on one NUMA node, from which tile memory is carved.
///
/// Pages are reserved, not committed: the kernel commits each page (zero-filled) on first touch,
/// so an arena sized for all the tiles costs host RAM only for the bytes the program uses.
/// With libnuma available the block comes from `numa_alloc_onnode`, which binds its pages to
/// `node`; touch them from a worker pinned near that node. Without NUMA support it is a plain
/// anonymous `mmap`, placed wherever the kernel chooses.
public final class NumaArena: @unchecked Sendable {
    /// First byte of the arena, page-aligned. For an empty arena a non-null pointer that must
    /// not be dereferenced.
    public let base: UnsafeMutableRawPointer
    /// Size of the arena in bytes.
    public let byteCount: Int
    /// The NUMA node the arena was requested on.
    public let node: Int
    /// Whether the pages are bound to `node` by libnuma (false: anonymous `mmap` fallback).
    public let isNumaBacked: Bool

    /// `numa_available()` must be called before any other libnuma function; once is enough.
    private static let numaAvailable = numa_available() >= 0

    /// Reserves `bytes` bytes (≥ 0) on NUMA node `node`, zero-filled and committed lazily.
    public convenience init(bytes: Int, node: Int) throws(HostError) {
        try self.init(bytes: bytes, node: node, useNuma: Self.numaAvailable)
    }

    /// Reserves the arena with the anonymous `mmap` fallback even where libnuma is available.
    @_spi(Testing) public convenience init(anonymousBytes bytes: Int, node: Int) throws(HostError) {
        try self.init(bytes: bytes, node: node, useNuma: false)
    }

    private init(bytes: Int, node: Int, useNuma: Bool) throws(HostError) {
        func failure(_ reason: String) -> HostError {
            .arenaAllocationFailed(bytes: bytes, node: node, reason: reason)
        }
        guard bytes >= 0 else { throw failure("negative size") }
        if useNuma {
            let maxNode = Int(numa_max_node())
            guard (0...maxNode).contains(node), numa_node_size64(Int32(node), nil) >= 0 else {
                throw failure("no such NUMA node (nodes 0...\(maxNode))")
            }
        } else {
            guard node >= 0 else { throw failure("no such NUMA node") }
        }
        self.byteCount = bytes
        self.node = node
        self.isNumaBacked = useNuma
        if bytes == 0 {
            base = UnsafeMutableRawPointer(bitPattern: Int(getpagesize()))!
        } else if useNuma {
            guard let pointer = numa_alloc_onnode(bytes, Int32(node)) else {
                throw failure("numa_alloc_onnode: \(errnoDescription(errno))")
            }
            base = pointer
        } else {
            let pointer = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
            guard let pointer, pointer != UnsafeMutableRawPointer(bitPattern: -1) else {
                throw failure("mmap: \(errnoDescription(errno))")
            }
            base = pointer
        }
    }

    deinit {
        guard byteCount > 0 else { return }
        if isNumaBacked {
            numa_free(base, byteCount)
        } else {
            munmap(base, byteCount)
        }
    }
}
