import Testing
import Tessera

/// The chunked array against an `Array` doing the same appends, removals and writes.
@Suite struct ChunkedArrayTests {
    /// Three chunks' worth and a bit, appended one by one and in slices that straddle chunk ends.
    @Test func appendsAcrossChunksKeepOrder() {
        var chunked = ChunkedArray<Int>(), reference: [Int] = []
        for value in 0..<70_000 {
            chunked.append(value)
            reference.append(value)
        }
        let slice = Array(1_000_000..<(1_000_000 + 140_001))
        chunked.append(contentsOf: slice[1...])
        reference.append(contentsOf: slice[1...])
        #expect(chunked.count == 210_000)
        #expect(Array(chunked) == reference)
        var copied: [Int] = [-1]
        chunked.append(65_530..<131_080, to: &copied)
        #expect(copied == [-1] + reference[65_530..<131_080])
    }

    @Test func writesAndRemovalsMatchAnArray() {
        var chunked = ChunkedArray<Int>(), reference: [Int] = []
        chunked.append(contentsOf: 0..<150_000)
        reference.append(contentsOf: 0..<150_000)
        for index in stride(from: 7, to: 150_000, by: 9_001) {
            chunked[index] = -index
            reference[index] = -index
        }
        chunked.removeLast(85_000)
        reference.removeLast(85_000)
        #expect(chunked.count == 65_000 && Array(chunked) == reference)
        chunked.append(contentsOf: [1, 2, 3])
        reference.append(contentsOf: [1, 2, 3])
        #expect(Array(chunked) == reference)
        chunked.removeLast(chunked.count)
        #expect(chunked.isEmpty)
    }
}
