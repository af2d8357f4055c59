import Foundation
import Testing
import Tessera

@Suite struct NumPyArrayTests {
    static var fixtures: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures") }

    @Test func readsFilesNumPyWrote() throws {
        let input = try NumPyArray(contentsOf: Self.fixtures.appendingPathComponent("convolutions.input.npy"))
        #expect(input.shape == [2, 3, 11, 9])
        #expect(input.values.count == 2 * 3 * 11 * 9)
        let output = try NumPyArray(contentsOf: Self.fixtures.appendingPathComponent("residual_block.output.npy"))
        #expect(output.shape == [2, 10])
    }

    @Test func roundTripsThroughItsOwnWriter() throws {
        let array = NumPyArray(shape: [2, 3], values: [1, -2, 3.5, 0, 1e-3, 7])
        #expect(try NumPyArray(npy: array.npyData) == array)
        #expect(array.npyData.count % 64 == 24)  // header padded to 64 bytes, then 6 × 4 bytes
        let vector = NumPyArray(shape: [3], values: [1, 2, 3])
        #expect(try NumPyArray(npy: vector.npyData) == vector)
    }

    @Test func malformedFilesAreTypedErrors() throws {
        #expect(throws: NumPyArray.Error.notNumPy) { try NumPyArray(npy: Data("hello, world".utf8)) }
        let good = NumPyArray(shape: [4], values: [1, 2, 3, 4]).npyData
        #expect(throws: NumPyArray.Error.truncated(expectedBytes: 16, actualBytes: 8)) { try NumPyArray(npy: good.prefix(good.count - 8)) }
        #expect(throws: NumPyArray.Error.self) { try NumPyArray(npy: good.prefix(20)) }
        var complex = good
        complex.replaceSubrange(complex.range(of: Data("<f4".utf8))!, with: Data("<c8".utf8))
        #expect(throws: NumPyArray.Error.unsupportedType("<c8")) { try NumPyArray(npy: complex) }
    }
}
