import Testing
@testable import TesseraGraph

/// The flat element indices a view reads, from its runs.
private func elements(_ tensor: Tensor) -> [Int] {
    tensor.elements.runs.flatMap { run in (0..<run.count).map(run.element) }
}

@Suite struct StoragePermutationTests {
    let graph = Graph(target: Target(name: "t", tiles: 4, bytesPerTile: 4096))

    /// `[N, C, H, W]` = `[2, 6, 2, 3]` stored as two channel blocks, each `[N, 3, 2, 3]`: the view
    /// reads the range `4..<76` of a variable in four runs of 18, out of storage order.
    private func boxedView() throws -> (variable: Tensor, view: Tensor) {
        let variable = graph.addVariable(.float32, [80], name: "boxes")
        let blocks = try variable.slice(4..<76).reshape([2, 2, 3, 2, 3])
        return (variable, try blocks.dimShuffle([1, 0, 2, 3, 4]).reshape([2, 6, 2, 3]))
    }

    @Test func aBoxedViewIsAPermutationOfItsRange() throws {
        let (_, view) = try boxedView()
        #expect(view.elements.runs.count == 4)
        let permutation = try #require(try graph.storagePermutation(of: view))
        #expect(elements(permutation.storage) == Array(4..<76))
        // Storage offsets 10..<30 hold the end of block (0, n 0) and the start of block (0, n 1),
        // which the view shows at positions 10..<18 and 36..<48.
        let pieces = permutation.pieces(inStorage: [10..<30])
        #expect(pieces.map { $0.positions } == [10..<18, 36..<48])
        #expect(pieces.map { $0.storage } == [10, 18])
        #expect(StoragePiece.storageRanges(of: [12..<18, 36..<40], in: pieces) == [12..<22])
    }

    @Test func relabelingShowsAnotherRangeThroughThePermutation() throws {
        let (variable, view) = try boxedView()
        let permutation = try #require(try graph.storagePermutation(of: view))
        let other = graph.addVariable(.float32, [72], name: "other")
        let relabeled = permutation.relabeled(onto: other)
        #expect(relabeled.view.shape == view.shape)
        #expect(elements(relabeled.view) == elements(view).map { $0 - 4 })
        #expect(relabeled.ordersLike(permutation) && permutation.ordersLike(relabeled))
        #expect(!permutation.ordersLike(try #require(try graph.storagePermutation(of: variable.slice(4..<76)))))
        #expect(elements(relabeled.seen(as: relabeled.view.flatten()).view) == elements(relabeled.view))
    }

    @Test func repeatsGapsOverlapsAndStridesAreNotPermutations() throws {
        let x = graph.addVariable(.float32, [12], name: "x")
        let repeated = try Tensor.concatenate([x.slice(0..<6), x.slice(0..<6)])
        let gap = try Tensor.concatenate([x.slice(0..<3), x.slice(6..<9)])
        // Ten elements over a span of ten, but 2..<4 twice and 6..<8 never.
        let overlap = try Tensor.concatenate([x.slice(0..<4), x.slice(2..<6), x.slice(8..<10)])
        let strided = try x.reshape([3, 4]).transpose()
        let two = try Tensor.concatenate([x, graph.addVariable(.float32, [2], name: "y")])
        for view in [repeated, gap, overlap, strided, two] { #expect(try graph.storagePermutation(of: view) == nil) }
        #expect(try graph.storagePermutation(of: Tensor.concatenate([x.slice(6..<12), x.slice(0..<6)])) != nil)
    }
}
