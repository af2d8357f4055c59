#if canImport(Glibc)
import Glibc
#endif

/// Asks the kernel to back the `bytes` bytes at `start` with transparent huge pages, for a large
/// table about to be written in full. Faulting in a fresh page costs about a microsecond on a
/// virtual machine (docs/host-platform.md): a 2 MiB page then replaces 512 such faults, and the
/// compiler's largest tables (a model's planned and final copies, hundreds of megabytes) are
/// written once, straight after they are allocated. Does nothing for less than 2 MiB, where the
/// kernel has transparent huge pages off, or off Linux.
package func adviseHugePages(_ start: UnsafeMutableRawPointer, bytes: Int) {
    #if os(Linux)
    let hugePage = 2 << 20, page = 4096
    guard bytes >= hugePage else { return }
    let first = Int(bitPattern: start) / page * page, end = Int(bitPattern: start) + bytes
    _ = madvise(UnsafeMutableRawPointer(bitPattern: first), end - first, 14 /* MADV_HUGEPAGE */)
    #endif
}
