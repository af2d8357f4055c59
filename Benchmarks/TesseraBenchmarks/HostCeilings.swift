import Foundation

/// The most this host can do per thread with every core busy, measured in the run that uses it:
/// the rates no simulation of exchange copies and multiply-adds can beat, so that a benchmark can
/// say how far from its floor a run is, and what puts the floor there.
struct HostCeilings {
    /// Bytes per second per thread of streaming copies between buffers twice the last-level cache.
    let copyBytesPerSecond: Double
    /// Float32 operations (a multiply-add counts two) per second per thread of register-only vector multiply-adds.
    let flopsPerSecond: Double
    /// Threads that ran at once.
    let threads: Int

    /// Measures both rates on `threads` threads at once.
    init(threads: Int) {
        self.threads = threads
        copyBytesPerSecond = streamingCopyRate(threads: threads)
        flopsPerSecond = multiplyAddPeak(threads: threads)
    }

    /// Wall seconds that copying `copiedBytes` and computing `flops` need at least on all the threads at
    /// these rates, with nothing else done and nobody waiting.
    func floorSeconds(copiedBytes: Int, flops: Double) -> Double {
        floorSeconds(copyThreadSeconds: Double(copiedBytes) / copyBytesPerSecond, flops: flops)
    }

    /// Wall seconds for copies that take `copyThreadSeconds` of thread time, and `flops` at the arithmetic peak,
    /// on all the threads.
    func floorSeconds(copyThreadSeconds: Double, flops: Double) -> Double {
        (copyThreadSeconds + flops / flopsPerSecond) / Double(threads)
    }
}

/// Bytes per second per thread of `threads` threads at once, each copying 64 MiB blocks (twice
/// the last-level cache here, so from memory to memory) between two buffers of its own, touched
/// beforehand: the host's streaming copy rate, the most an exchange copy could reach.
func streamingCopyRate(threads: Int, rounds: Int = 8) -> Double {
    let blockBytes = 64 << 20
    return eachThread(threads) {
        let source = UnsafeMutableRawPointer.allocate(byteCount: blockBytes, alignment: 64)
        let destination = UnsafeMutableRawPointer.allocate(byteCount: blockBytes, alignment: 64)
        defer {
            source.deallocate()
            destination.deallocate()
        }
        source.initializeMemory(as: UInt8.self, repeating: 1, count: blockBytes)
        destination.initializeMemory(as: UInt8.self, repeating: 0, count: blockBytes)
        // Through a call the optimiser does not see into, so that no copy is dropped as repeating the one before.
        let elapsed = seconds { for _ in 0..<rounds { copyBlock(from: source, to: destination, byteCount: blockBytes) } }
        if destination.load(fromByteOffset: blockBytes / 2, as: UInt8.self) != 1 { print("streaming copy failed") }
        return Double(rounds * blockBytes) / elapsed
    }
}

/// `byteCount` bytes from `source` to `destination`, in a call of its own.
@inline(never)
private func copyBlock(from source: UnsafeRawPointer, to destination: UnsafeMutableRawPointer, byteCount: Int) {
    destination.copyMemory(from: source, byteCount: byteCount)
}

/// Float32 operations per second per thread of `threads` threads at once, each running independent
/// chains of `SIMD16<Float>` multiply-adds in registers (enough to cover the multiply-add latency of
/// the vector units): the host's arithmetic peak, the best of five trials of sixteen chains (for 32
/// registers of 512 bits) and of six (twelve of AVX2's sixteen 256-bit registers, which sixteen overflow).
func multiplyAddPeak(threads: Int, iterations: Int = 20_000_000) -> Double {
    eachThread(threads) {
        var best = 0.0
        for trial in 0..<5 {
            for (chains, run) in [(16, sixteenChains), (6, sixChains)] {
                var sink: Float = 0
                let elapsed = seconds { sink = run(iterations, Float(trial)) }
                if sink.isNaN { print(sink) }
                best = max(best, Double(iterations * chains * 16 * 2) / elapsed)
            }
        }
        return best
    }
}

/// Sixteen chains of ``multiplyAddChains(_:seed:chains:)``.
@inline(never)
private func sixteenChains(_ iterations: Int, seed: Float) -> Float { multiplyAddChains(iterations, seed: seed, chains: 16) }

/// Six chains of ``multiplyAddChains(_:seed:chains:)``.
@inline(never)
private func sixChains(_ iterations: Int, seed: Float) -> Float { multiplyAddChains(iterations, seed: seed, chains: 6) }

/// `chains` (6 or 16, a constant of each caller) chains of `iterations` multiply-adds of `SIMD16<Float>`, summed so
/// that none is optimised away.
@inline(__always)
private func multiplyAddChains(_ iterations: Int, seed: Float, chains: Int) -> Float {
    let x = SIMD16<Float>(repeating: 0.999_9), y = SIMD16<Float>(repeating: 1e-4)
    var a0 = SIMD16<Float>(repeating: seed), a1 = a0 + 1, a2 = a0 + 2, a3 = a0 + 3, a4 = a0 + 4, a5 = a0 + 5, a6 = a0 + 6, a7 = a0 + 7
    var a8 = a0 + 8, a9 = a0 + 9, a10 = a0 + 10, a11 = a0 + 11, a12 = a0 + 12, a13 = a0 + 13, a14 = a0 + 14, a15 = a0 + 15
    for _ in 0..<iterations {
        // Named registers, as the convolution kernel's sums: an array of them would live in memory.
        a0.addProduct(x, y); a1.addProduct(x, y); a2.addProduct(x, y); a3.addProduct(x, y)
        a4.addProduct(x, y); a5.addProduct(x, y)
        if chains > 6 {
            a6.addProduct(x, y); a7.addProduct(x, y)
            a8.addProduct(x, y); a9.addProduct(x, y); a10.addProduct(x, y); a11.addProduct(x, y)
            a12.addProduct(x, y); a13.addProduct(x, y); a14.addProduct(x, y); a15.addProduct(x, y)
        }
    }
    return (a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11 + a12 + a13 + a14 + a15).sum()
}

/// The mean over `threads` threads, run at once, of the rate each one's `body` measures.
private func eachThread(_ threads: Int, _ body: @Sendable () -> Double) -> Double {
    nonisolated(unsafe) let rates = UnsafeMutableBufferPointer<Double>.allocate(capacity: threads)
    defer { rates.deallocate() }
    DispatchQueue.concurrentPerform(iterations: threads) { rates[$0] = body() }
    return rates.reduce(0, +) / Double(threads)
}
