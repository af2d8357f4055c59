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
}

