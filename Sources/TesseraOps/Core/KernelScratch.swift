#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Scratch memory for host kernels, one arena per thread: the temporaries of a vertex's run come
/// from it instead of the allocator (a model's run computes hundreds of thousands of convolution
/// vertices, each of which would otherwise allocate and free its window, offsets, panels and staging rows).
///
/// ``withKernelScratch(_:)`` lends the calling thread's arena to `body`; pieces taken from it stay
/// valid until `body` returns, and are all given back then. A run that needs more than the arena
/// holds takes the rest from extra blocks, and the arena grows to the whole need for the next run.
final class KernelScratch {
    /// Byte alignment of every piece (a cache line, and enough for any SIMD vector).
    static let alignment = 64
    private var block: UnsafeMutableRawPointer?
    private var capacity = 0
    private var used = 0
    /// Blocks taken beyond `block` during the current lending, freed when it ends.
    private var overflow: [UnsafeMutableRawPointer] = []
    private var overflowBytes = 0

    /// `count` uninitialised elements of `T`, aligned to ``alignment``.
    func take<T>(_ count: Int, of _: T.Type) -> UnsafeMutablePointer<T> {
        let bytes = (max(count, 1) * MemoryLayout<T>.stride + Self.alignment - 1) / Self.alignment * Self.alignment
        if let block, used + bytes <= capacity {
            defer { used += bytes }
            return (block + used).bindMemory(to: T.self, capacity: count)
        }
        let extra = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: Self.alignment)
        overflow.append(extra)
        overflowBytes += bytes
        return extra.bindMemory(to: T.self, capacity: count)
    }

    /// Gives back every piece; after a lending that overflowed, one block holds the whole need.
    fileprivate func reset() {
        if !overflow.isEmpty {
            for extra in overflow { extra.deallocate() }
            overflow.removeAll(keepingCapacity: true)
            block?.deallocate()
            capacity = used + overflowBytes
            block = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: Self.alignment)
            overflowBytes = 0
        }
        used = 0
    }

    deinit {
        for extra in overflow { extra.deallocate() }
        block?.deallocate()
    }
}

/// The key of each thread's ``KernelScratch``, released with its thread.
private let kernelScratchKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key) { arena in
        if let arena { Unmanaged<KernelScratch>.fromOpaque(arena).release() }
    }
    return key
}()

/// Runs `body` with the calling thread's scratch arena (see ``KernelScratch``). Not reentrant: a
/// kernel takes all it needs in one lending.
func withKernelScratch<Result>(_ body: (KernelScratch) -> Result) -> Result {
    let stored: UnsafeMutableRawPointer
    if let existing = pthread_getspecific(kernelScratchKey) {
        stored = existing
    } else {
        stored = Unmanaged.passRetained(KernelScratch()).toOpaque()
        pthread_setspecific(kernelScratchKey, stored)
    }
    // The thread's key holds the arena: lent without a retain and release per kernel run.
    return Unmanaged<KernelScratch>.fromOpaque(stored)._withUnsafeGuaranteedRef { arena in
        defer { arena.reset() }
        return body(arena)
    }
}
