import _TesseraShim

/// Asks for the cache lines of a cold output field a few at a time, spread over the steps of the work that fills it,
/// so that they arrive while that work runs. Asking for all of them at the start stalled it: once the CPU's line
/// fill buffers are taken, each further request waits for memory (docs/convolution-benchmark.md).
struct WritePrefetcher {
    private var next: UnsafeRawPointer
    private let end: UnsafeRawPointer
    private let linesPerStep: Int

    /// A prefetcher for `start ..< end`, to be stepped about `steps` times.
    init(_ start: UnsafeRawPointer, _ end: UnsafeRawPointer, steps: Int) {
        next = start
        self.end = end
        linesPerStep = (end - start + 63) / 64 / max(steps, 1) + 1
    }

    /// Asks for the next few lines for writing.
    @inline(__always)
    mutating func step() {
        for _ in 0..<linesPerStep where next < end {
            tessera_prefetch_for_write(next)
            next += 64
        }
    }
}

/// Asks for every cache line of `start ..< end` for reading (a vertex's weights, read in place from cold tile memory,
/// which then arrive while its window is filled).
@inline(__always)
func prefetchForReading(_ start: UnsafeRawPointer, _ end: UnsafeRawPointer) {
    var line = start
    while line < end {
        tessera_prefetch_for_read(line)
        line += 64
    }
}
