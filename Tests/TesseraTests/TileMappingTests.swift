import Testing
import Tessera
import TesseraTestSupport

@Suite struct TileMappingTests {
    /// Gaps between regions walked in order: whether a tile holds none of a gap's elements, as
    /// the walk tells it, against a look at every element's tile.
    @Test func gapWalksAgreeWithEveryElementsTile() throws {
        let graph = Graph(target: testTarget(tiles: 5))
        let x = graph.addVariable(.float32, [300], name: "x")
        var random = SeededRandom(seed: 9)
        var tiles: [Int] = [], start = 0
        while start < 300 {
            let count = 1 + random.next(below: 9), tile = random.next(below: 5)
            try graph.setTileMapping(x, positions: [start..<min(300, start + count)], tile: tile)
            tiles += [Int](repeating: tile, count: min(300, start + count) - start)
            start += count
        }
        let data = x.elements.runs[0].data
        for tile in 0..<5 {
            var walk = TileGapWalk()
            var begin = 1 + random.next(below: 5)
            while begin < 299 {
                let end = min(300, begin + random.next(below: 40))
                let truth = !(begin..<end).contains { tiles[$0] == tile }
                #expect(walk.tileHoldsNone(of: data, in: begin..<end, tile: tile, graph: graph) == truth, "tile \(tile), gap \(begin)..<\(end)")
                begin = end + 1 + random.next(below: 5)
            }
        }
    }

    @Test func setAndReadBackMappingOfAView() throws {
        let graph = Graph(target: testTarget(tiles: 4))
        let x = graph.addVariable(.float32, [4, 4], name: "x")
        for row in 0..<4 { try graph.setTileMapping(x.index(row), tile: 3 - row) }
        let mapping = try graph.tileMapping(of: x.transpose())
        // Column-major positions: position p = column * 4 + row lives on tile 3 - row.
        for tile in 0..<4 {
            let positions = mapping[tile].flatMap { Array($0) }
            #expect(positions == (0..<4).map { $0 * 4 + (3 - tile) })
        }
    }

    /// A clone has its source's shape and each position's tile, and stores its elements in the
    /// order the source stores them: the clone of `[b, a]` (a made first) keeps a's part first.
    @Test func cloneMapsLikeItsSourceAndKeepsItsStorageOrder() throws {
        let graph = Graph(target: testTarget(tiles: 4))
        let a = graph.addVariable(.float32, [2, 3], name: "a"), b = graph.addVariable(.float32, [2, 3], name: "b")
        try graph.mapLinearly(a, grainSize: 1, minElementsPerTile: 2)
        try graph.setTileMapping(b, tile: 3)
        let source = try Tensor.concatenate([b, a], dimension: 1)
        let clone = try graph.clone(source, type: .float16, name: "clone")
        #expect(clone.shape == [2, 6] && clone.elementType == .float16)
        #expect(try graph.tileMapping(of: clone) == graph.tileMapping(of: source))
        // View rows `[b0 a0; b1 a1]`: storage a0 a1 b0 b1, so a's rows come first and b's follow.
        #expect(clone.elements.runs.map(\.start) == [6, 0, 9, 3] && clone.elements.runs.allSatisfy { $0.count == 3 && $0.stride == 1 })
        #expect(Set(clone.elements.runs.map(\.data)).count == 1)
    }

    @Test func laterMappingOverridesEarlier() throws {
        let graph = Graph(target: testTarget(tiles: 4))
        let x = graph.addVariable(.float32, [10], name: "x")
        try graph.setTileMapping(x, tile: 0)
        try graph.setTileMapping(x.slice(3..<6), tile: 2)
        let mapping = try graph.tileMapping(of: x)
        #expect(mapping[0] == [0..<3, 6..<10])
        #expect(mapping[2] == [3..<6])
    }

    @Test func linearMappingUsesGrainAndMinimum() throws {
        let graph = Graph(target: testTarget(tiles: 4))
        let x = graph.addVariable(.float32, [100], name: "x")
        try graph.mapLinearly(x)
        // 100 float32: grain 2 (one 64-bit vector), at least 32 elements (128 B) per tile.
        let mapping = try graph.tileMapping(of: x)
        #expect(mapping.map { $0.reduce(0) { $0 + $1.count } } == [32, 32, 32, 4])
        let y = graph.addVariable(.float32, [1000], name: "y")
        try graph.mapLinearly(y, grainSize: 10, minElementsPerTile: 1)
        #expect(try graph.tileMapping(of: y).map { $0.reduce(0) { $0 + $1.count } } == [250, 250, 250, 250])
    }

    @Test func tileOutOfRangeIsTypedError() throws {
        let graph = Graph(target: testTarget(tiles: 4))
        let x = graph.addVariable(.float32, [10], name: "weights")
        #expect(throws: GraphError.tileOutOfRange(object: "setTileMapping of 'weights'", tile: 4, tiles: 4)) {
            try graph.setTileMapping(x, tile: 4)
        }
        let error = GraphError.tileOutOfRange(object: "setTileMapping of 'weights'", tile: 4, tiles: 4)
        #expect(error.description == "setTileMapping of 'weights': tile 4 is out of range (the target has tiles 0..<4)")
    }
}

/// A seeded SplitMix64 stream for the mapping tests.
private struct SeededRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next(below bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(bound))
    }
}
