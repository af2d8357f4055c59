import Foundation
import Testing
@testable import TesseraOps

/// The per-thread scratch arena the convolution kernel takes its temporaries from.
@Suite struct KernelScratchTests {
    @Test func piecesAreAlignedApartAndKeepTheirValuesUntilTheLendingEnds() {
        let sizes = [3, 1000, 17, 40_000]
        withKernelScratch { scratch in
            let pieces = sizes.map { scratch.take($0, of: Float.self) }
            for (piece, size) in zip(pieces, sizes) {
                #expect(Int(bitPattern: piece) % KernelScratch.alignment == 0)
                for i in 0..<size { piece[i] = Float(size) }
            }
            for (piece, size) in zip(pieces, sizes) { #expect((0..<size).allSatisfy { piece[$0] == Float(size) }) }
            let ranges = zip(pieces, sizes).map { Int(bitPattern: $0) ..< Int(bitPattern: $0) + 4 * $1 }.sorted { $0.lowerBound < $1.lowerBound }
            #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0.upperBound <= $1.lowerBound })
        }
    }

    @Test func aLendingThatOverflowedLeavesOneBlockForTheWholeNeed() {
        // A need far beyond anything taken on this thread before: the second lending of it is one
        // block, its pieces one after another.
        let sizes = [300_000, 200_000, 100_000]
        withKernelScratch { scratch in for size in sizes { _ = scratch.take(size, of: Int.self) } }
        withKernelScratch { scratch in
            let pieces = sizes.map { scratch.take($0, of: Int.self) }
            #expect(Int(bitPattern: pieces[1]) - Int(bitPattern: pieces[0]) == 8 * sizes[0])
            #expect(Int(bitPattern: pieces[2]) - Int(bitPattern: pieces[1]) == 8 * sizes[1])
        }
    }

    @Test func threadsHoldingLendingsAtOnceGetDifferentMemory() {
        final class Address: @unchecked Sendable { var value = 0 }
        let other = Address()
        let taken = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0), finished = DispatchSemaphore(value: 0)
        let thread = Thread {
            withKernelScratch { scratch in
                other.value = Int(bitPattern: scratch.take(16, of: Float.self))
                taken.signal()
                release.wait()
            }
            finished.signal()
        }
        thread.start()
        taken.wait()
        let mine = withKernelScratch { Int(bitPattern: $0.take(16, of: Float.self)) }
        release.signal()
        finished.wait()
        #expect(mine != 0 && other.value != 0 && mine != other.value)
    }
}
