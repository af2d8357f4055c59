import Foundation
import Testing
import Tessera
@testable import TesseraOps
import TesseraTestSupport

/// Operations on a view stored box by box, as a convolution's output is: `[N, C, H, W]` =
/// `[2, 6, 2, 3]` kept as two channel blocks of `[N, 3, 2, 3]`, so the view is four runs of 18
/// elements out of storage order. Element-wise, normalisation and pooling steps work on such a
/// view's range in storage order.
@Suite struct PermutedLayoutTests {
    let graph = Graph(target: testTarget(tiles: 4))

    /// The boxed view, its storage mapped so that tile 1 holds the end of box (channels 0–2,
    /// image 1; view positions 48..<54) and then the start of box (channels 3–5, image 0; view
    /// positions 18..<22): in storage order, not in view order.
    private func boxedView() throws -> Tensor {
        let storage = graph.addVariable(.float32, [72], name: "boxes")
        for (range, tile) in [(0..<30, 0), (30..<40, 1), (40..<60, 2), (60..<72, 3)] {
            try graph.setTileMapping(storage.slice(range), tile: tile)
        }
        return try storage.reshape([2, 2, 3, 2, 3]).dimShuffle([1, 0, 2, 3, 4]).reshape([2, 6, 2, 3])
    }

    @Test func elementwiseNormalisationAndPoolingMatchAFloat64Reference() throws {
        let x = try boxedView()
        let ops = OpBuilder(graph)
        let parameters = (0..<4).map { graph.addVariable(.float32, [6], name: "p\($0)") }
        let channelScale = graph.addVariable(.float32, [2, 6, 1, 1], name: "s")
        for tensor in parameters + [channelScale] { try graph.mapLinearly(tensor) }
        let relu = try ops.relu(x, name: "relu")
        let sum = try ops.add(x, relu, name: "add")
        let normalised = try ops.batchNormInference(x, scale: parameters[0], shift: parameters[1], mean: parameters[2],
                                                    variance: parameters[3], epsilon: 1e-3, name: "bn")
        let scaled = try ops.multiply(normalised, channelScale, name: "scale")
        try ops.activationInPlace(sum, .tanh, name: "tanh")
        try ops.multiplyInPlace(relu, channelScale, name: "scaleInPlace")
        let pooled = try ops.globalAveragePool(x, name: "pool")
        #expect(try graph.tileMapping(of: scaled) == graph.tileMapping(of: x))

        var random = EWRandom(seed: 5)
        let values = random.values(72), p = (0..<4).map { k in random.values(6, k == 3 ? 0.5...2 : -2...2) }
        let s = random.values(12)
        let results = try ewRun(ops, inputs: [(x, values), (channelScale, s)] + zip(parameters, p).map { ($0, $1) },
                                outputs: [sum, scaled, relu, pooled])
        let bn = values.indices.map { i in
            let c = (i / 6) % 6
            return p[0][c] * (values[i] - p[2][c]) / (p[3][c] + 1e-3).squareRoot() + p[1][c]
        }
        #expect(ewWorstError(results[0], values.map { Foundation.tanh($0 + max($0, 0)) }, absolute: 1e-6, relative: 1e-6) <= 1)
        #expect(ewWorstError(results[1], bn.indices.map { bn[$0] * s[$0 / 6] }, absolute: 1e-5, relative: 1e-5) <= 1)
        #expect(ewWorstError(results[2], values.indices.map { max(values[$0], 0) * s[$0 / 6] }, absolute: 1e-6, relative: 1e-6) <= 1)
        let means = (0..<12).map { plane in values[(6 * plane)..<(6 * plane + 6)].reduce(0, +) / 6 }
        #expect(ewWorstError(results[3], means, absolute: 1e-6, relative: 1e-6) <= 1)
    }

    /// Tile 1's two pieces come one after another in storage but not in the view: each vertex on
    /// it connects one field per tensor, as for a tile holding one piece.
    @Test func aTileJoinsItsPiecesInStorageOrder() throws {
        let x = try boxedView()
        let ops = OpBuilder(graph)
        let y = try ops.relu(x, name: "relu")
        _ = try ops.add(x, y, name: "add")
        for (name, fields) in [("relu", 2), ("add", 3)] {
            let set = try #require(graph.computeSets.first { $0.name == name })
            let vertices = graph.computeSetVertices[set.index]
            #expect(vertices.count == 4)
            #expect(vertices.allSatisfy { graph.vertices[$0].connections.count == fields }, "\(name)")
        }
    }

    /// A channel scale of the boxed view: each tile's planes lie one after another in storage and
    /// its scales in runs, so a vertex connects one field of `x`, one of the output and one per
    /// run of scales (in place: no output field) — not three fields per plane.
    @Test func aChannelScaleConnectsAFieldPerRunOfScales() throws {
        let x = try boxedView()
        let ops = OpBuilder(graph)
        let scale = graph.addVariable(.float32, [2, 6, 1, 1], name: "s")
        try graph.mapLinearly(scale)
        _ = try ops.multiply(x, scale, name: "scale")
        try ops.multiplyInPlace(x, scale, name: "scaleInPlace")
        // Tiles 0–2 hold planes of two images (two runs of scales), tile 3 planes of one; tile 0
        // alone holds five planes, which one field per plane and operand would connect as 15 fields.
        for (name, counts) in [("scale", [4, 4, 4, 3]), ("scaleInPlace", [3, 3, 3, 2])] {
            let set = try #require(graph.computeSets.first { $0.name == name })
            #expect(graph.computeSetVertices[set.index].map { graph.vertices[$0].connections.count } == counts, "\(name)")
        }
    }

    /// A pool whose planes are each split over two tiles, row by row: every statistic has an entry
    /// on both tiles, so the reduction vertex takes each tile's entries as one run, in the
    /// partials' order, and sums them in statistic order through the codelet's `order`.
    @Test func planesSplitOverTilesReduceTheirEntriesInTheirOwnOrder() throws {
        let graph = Graph(target: testTarget(tiles: 2))
        let storage = graph.addVariable(.float32, [32], name: "rows")
        try graph.setTileMapping(storage.slice(0..<16), tile: 0)
        try graph.setTileMapping(storage.slice(16..<32), tile: 1)
        // Stored as [row, channel, column]: tile 0 holds row 0 of every channel, tile 1 row 1.
        let x = try storage.reshape([2, 4, 4]).dimShuffle([1, 0, 2]).reshape([1, 4, 2, 4])
        let ops = OpBuilder(graph)
        let pooled = try ops.globalAveragePool(x, name: "pool")
        let reduce = try #require(graph.computeSets.first { $0.name == "pool/reduce" })
        let orders = graph.computeSetVertices[reduce.index].compactMap { (graph.vertices[$0].codelet as? PartialReduceCodelet)?.order }
        // One vertex reduces the four statistics: statistic c's entries are field entries c and c + 4.
        #expect(orders == [[0, 4, 1, 5, 2, 6, 3, 7]])
        var random = EWRandom(seed: 9)
        let values = random.values(32)
        let results = try ewRun(ops, inputs: [(x, values)], outputs: [pooled])
        let means = (0..<4).map { c in values[(8 * c)..<(8 * c + 8)].reduce(0, +) / 8 }
        #expect(ewWorstError(results[0], means, absolute: 1e-6, relative: 1e-6) <= 1)
    }

    /// `[N, C, H, W]` = `[2, 4, 2, 3]` stored as eight boxes `[1, 2, 1, 3]` (image, two channels,
    /// one row), one per tile, as a convolution that splits channels and rows stores its output:
    /// each tile's part is two rows of the view that are not next to each other.
    private func rowBoxes(_ graph: Graph) throws -> Tensor {
        let storage = graph.addVariable(.float32, [48], name: "rowBoxes")
        for tile in 0..<8 { try graph.setTileMapping(storage.slice((6 * tile)..<(6 * tile + 6)), tile: tile) }
        return try storage.reshape([2, 2, 2, 2, 1, 3]).dimShuffle([0, 1, 3, 2, 4, 5]).reshape([2, 4, 2, 3])
    }

    /// A channel scale of tiles that each store one box of the view: each tile's vertex iterates
    /// its box as one region (fields: its part of `x`, its box of the scales, its part of the
    /// output), and the results match a float64 reference, for scales `[N, C, 1, 1]` and `[C, 1, 1]`.
    @Test func aTileStoringOneBoxScalesItAsOneRegion() throws {
        let graph = Graph(target: testTarget(tiles: 8))
        let x = try rowBoxes(graph)
        let ops = OpBuilder(graph)
        let perImage = graph.addVariable(.float32, [2, 4, 1, 1], name: "s"), perChannel = graph.addVariable(.float32, [4, 1, 1], name: "t")
        try graph.mapLinearly(perImage)
        try graph.mapLinearly(perChannel)
        let relu = try ops.relu(x, name: "relu")
        let scaled = try ops.multiply(x, perImage, name: "scale")
        try ops.multiplyInPlace(relu, perChannel, name: "scaleInPlace")
        for (name, fields) in [("scale", 3), ("scaleInPlace", 2)] {
            let set = try #require(graph.computeSets.first { $0.name == name })
            let vertices = graph.computeSetVertices[set.index].map { graph.vertices[$0] }
            #expect(vertices.count == 8 && vertices.allSatisfy { $0.connections.count == fields }, "\(name)")
            #expect(vertices.allSatisfy { ($0.codelet as? BinaryCodelet)?.regionStarts.count == 1 }, "\(name)")
        }
        var random = EWRandom(seed: 11)
        let values = random.values(48), s = random.values(8), t = random.values(4)
        let results = try ewRun(ops, inputs: [(x, values), (perImage, s), (perChannel, t)], outputs: [scaled, relu])
        #expect(ewWorstError(results[0], values.indices.map { values[$0] * s[$0 / 6] }, absolute: 1e-6, relative: 1e-6) <= 1)
        #expect(ewWorstError(results[1], values.indices.map { max(values[$0], 0) * t[$0 / 6 % 4] }, absolute: 1e-6, relative: 1e-6) <= 1)
    }

    /// A view box is found only where a storage range holds one box in row-major order: two row
    /// boxes of one tile, stored one after the other, are not one box of the view.
    @Test func aViewBoxIsOneBoxInRowMajorOrder() throws {
        let graph = Graph(target: testTarget(tiles: 8))
        let x = try rowBoxes(graph)
        let permutation = try #require(try graph.storagePermutation(of: x))
        let box = ViewBox(pieces: permutation.pieces(inStorage: [6..<12]), shape: x.shape)
        #expect(box?.ranges == [0..<1, 0..<2, 1..<2, 0..<3])
        #expect(ViewBox(pieces: permutation.pieces(inStorage: [0..<12]), shape: x.shape) == nil)
        #expect(ViewBox(pieces: permutation.pieces(inStorage: [0..<3]), shape: x.shape)?.ranges == [0..<1, 0..<1, 0..<1, 0..<3])
        // Row-major ranges of a box: the dimensions it covers fully join the one outside them.
        #expect(ViewBox.flatRanges([0..<2, 1..<3, 0..<2, 0..<3], in: [2, 4, 2, 3]) == [6..<18, 30..<42])
        #expect(ViewBox.flatRanges([1..<2, 0..<4, 1..<2, 1..<3], in: [2, 4, 2, 3]) == [28..<30, 34..<36, 40..<42, 46..<48])
        #expect(ViewBox.flatRanges([0..<2, 0..<0], in: [2, 4]).isEmpty)
    }

    /// A sum of two views stored in different orders (two differently planned convolutions
    /// meeting at a residual add): `b` is read in `a`'s storage order, so each tile's vertex has
    /// one region, its part of `a` and of the output, and the output is mapped like `a`.
    @Test func aSumOfDifferentlyStoredViewsFollowsTheFirst() throws {
        let graph = Graph(target: testTarget(tiles: 8))
        let x = try rowBoxes(graph)
        let storage = graph.addVariable(.float32, [48], name: "rowsFirst")
        try graph.mapLinearly(storage)
        let y = try storage.reshape([2, 2, 4, 3]).dimShuffle([1, 2, 0, 3])
        let ops = OpBuilder(graph)
        let sum = try ops.add(x, y, name: "add")
        #expect(try graph.tileMapping(of: sum) == graph.tileMapping(of: x))
        let set = try #require(graph.computeSets.first { $0.name == "add" })
        let vertices = graph.computeSetVertices[set.index].map { graph.vertices[$0] }
        #expect(vertices.count == 8 && vertices.allSatisfy { ($0.codelet as? BinaryCodelet)?.regionStarts.count == 1 })
        var random = EWRandom(seed: 13)
        let values = random.values(48), others = random.values(48)
        let results = try ewRun(ops, inputs: [(x, values), (y, others)], outputs: [sum])
        let expected = values.indices.map { values[$0] + others[$0] }
        #expect(ewWorstError(results[0], expected, absolute: 1e-6, relative: 1e-6) <= 1)
    }
}
