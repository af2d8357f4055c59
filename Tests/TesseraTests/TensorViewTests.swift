import Testing
@testable import TesseraGraph
import TesseraTestSupport

/// The flat element indices a view reads, from its runs.
private func elements(_ tensor: Tensor) -> [Int] {
    tensor.elements.runs.flatMap { run in (0..<run.count).map(run.element) }
}

/// Row-major flat index of `index` in `shape`.
private func flatIndex(_ index: [Int], _ shape: [Int]) -> Int {
    zip(index, shape).reduce(0) { $0 * $1.1 + $1.0 }
}

/// Every multi-index of `shape` in row-major order.
private func allIndices(_ shape: [Int]) -> [[Int]] {
    shape.reduce([[]]) { acc, size in acc.flatMap { prefix in (0..<size).map { prefix + [$0] } } }
}

@Suite struct TensorViewTests {
    let graph = Graph(target: Target(name: "t", tiles: 4, bytesPerTile: 4096))

    @Test func sliceMatchesIndexArithmetic() throws {
        let x = graph.addVariable(.float32, [3, 4, 5], name: "x")
        let view = try x.slice([1..<3, 0..<4, 2..<5])
        let expected = allIndices([2, 4, 3]).map { flatIndex([$0[0] + 1, $0[1], $0[2] + 2], [3, 4, 5]) }
        #expect(view.shape == [2, 4, 3])
        #expect(elements(view) == expected)
    }

    @Test func dimShuffleOfEveryPermutationOfRank3() throws {
        let shape = [2, 3, 4]
        let x = graph.addVariable(.float32, shape, name: "x")
        for permutation in [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]] {
            let view = try x.dimShuffle(permutation)
            let newShape = permutation.map { shape[$0] }
            let expected = allIndices(newShape).map { index in
                var original = [0, 0, 0]
                for (d, p) in permutation.enumerated() { original[p] = index[d] }
                return flatIndex(original, shape)
            }
            #expect(view.shape == newShape)
            #expect(elements(view) == expected, "permutation \(permutation)")
        }
    }

    @Test func transposeIsStridedRunsNotElements() throws {
        let x = graph.addVariable(.float32, [64, 32], name: "x")
        let t = try x.transpose()
        #expect(t.elements.runs.count == 32)
        #expect(elements(t).prefix(3) == [0, 32, 64])
    }

    @Test func broadcastRepeatsElements() throws {
        let x = graph.addVariable(.float32, [3, 1], name: "x")
        let b = try x.broadcast(to: [2, 3, 4])
        #expect(b.shape == [2, 3, 4])
        #expect(elements(b) == allIndices([2, 3, 4]).map { $0[1] })
    }

    @Test func concatenateInnerDimensionInterleaves() throws {
        let a = graph.addVariable(.float32, [2, 2], name: "a")
        let b = graph.addVariable(.float32, [2, 3], name: "b")
        let c = try Tensor.concatenate([a, b], dimension: 1)
        #expect(c.shape == [2, 5])
        let runs = c.elements.runs.map { ($0.data, $0.start, $0.count) }
        #expect(runs.map(\.0) == [a.elements.runs[0].data, b.elements.runs[0].data, a.elements.runs[0].data, b.elements.runs[0].data])
        #expect(runs.map(\.1) == [0, 0, 2, 3])
    }

    @Test func reshapeAndFlattenKeepElements() throws {
        let x = graph.addVariable(.float32, [4, 6], name: "x")
        let view = try x.transpose().reshape([2, 12])
        #expect(elements(view) == elements(try x.transpose()))
        #expect(try x.transpose().flatten().shape == [24])
    }

    @Test func sliceOfTransposeOfSlice() throws {
        let x = graph.addVariable(.float32, [5, 7], name: "x")
        let view = try x.slice(1..<4, dimension: 0).transpose().slice(2..<6, dimension: 0)
        let expected = allIndices([4, 3]).map { flatIndex([$0[1] + 1, $0[0] + 2], [5, 7]) }
        #expect(elements(view) == expected)
    }

    @Test func subSampleKeepsEveryStrideThElement() throws {
        let x = graph.addVariable(.float32, [2, 7, 5], name: "x")
        let view = try x.subSample(3, dimension: 1).subSample(2, dimension: 2)
        #expect(view.shape == [2, 3, 3])
        #expect(elements(view) == allIndices([2, 3, 3]).map { flatIndex([$0[0], 3 * $0[1], 2 * $0[2]], [2, 7, 5]) })
        #expect(thrownCase { try x.subSample(0, dimension: 1) } == "indexOutOfRange")
        #expect(thrownCase { try x.subSample(2, dimension: 3) } == "indexOutOfRange")
    }

    @Test func badViewsAreTypedErrors() throws {
        let x = graph.addVariable(.float32, [4, 6], name: "x")
        #expect(thrownCase { try x.reshape([5, 5]) } == "shapeMismatch")
        #expect(thrownCase { try x.slice(2..<7, dimension: 1) } == "indexOutOfRange")
        #expect(thrownCase { try x.slice(0..<1, dimension: 2) } == "indexOutOfRange")
        #expect(thrownCase { try x.index(4) } == "indexOutOfRange")
        #expect(thrownCase { try x.dimShuffle([0, 0]) } == "shapeMismatch")
        #expect(thrownCase { try x.broadcast(to: [4, 5]) } == "shapeMismatch")
        // More elements than a view can count, or a negative size.
        let one = graph.addVariable(.float32, [1], name: "one")
        #expect(thrownCase { try one.broadcast(to: [1 << 31]) } == "shapeMismatch")
        #expect(thrownCase { try one.broadcast(to: [-2]) } == "shapeMismatch")
        // A reshape whose sizes overflow when multiplied is refused, not trapped.
        #expect(thrownCase { try x.reshape([1 << 40, 1 << 40, 0]) } == "shapeMismatch")
        let y = graph.addVariable(.float16, [4, 6], name: "y")
        #expect(throws: GraphError.elementTypeMismatch(context: "concatenate", expected: .float32, actual: .float16)) {
            try Tensor.concatenate([x, y])
        }
    }
}
