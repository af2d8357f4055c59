import Testing
import Tessera
import TesseraTestSupport
@testable import TesseraOps

/// A normalisation step takes a tile's regions in one vertex when the tile stores them one after
/// another, with segments that follow the rows and their coefficients.
@Suite struct NormRegionGroupTests {
    /// Rows of 4 elements using coefficient `row mod 3`: the region is cut where the coefficient
    /// wraps to 0, and the pieces stay one vertex while their coefficients are one range.
    @Test func affineVerticesCutAtTheCoefficientWrap() {
        let vertices = AffineVertex.split([10..<30], rowLength: 4, coefficients: 3)
        #expect(vertices.count == 1)
        #expect(vertices[0].regions == [10..<12, 12..<24, 24..<30])
        #expect(vertices[0].coefficients == 0..<3)
        #expect(vertices[0].segments.map(\.count) == [2, 12, 6])
        #expect(vertices[0].segments.map(\.offset) == [2, 0, 0])
        #expect(vertices[0].segments.map(\.first) == [2, 0, 0])
    }

    /// Regions whose coefficients are not one range go to separate vertices, each counting its
    /// coefficients from its own first.
    @Test func disjointCoefficientsMakeSeparateVertices() {
        let vertices = AffineVertex.split([0..<4, 20..<24, 24..<26], rowLength: 4, coefficients: 10)
        #expect(vertices.map(\.coefficients) == [0..<1, 5..<7])
        #expect(vertices.map(\.regions) == [[0..<4], [20..<24, 24..<26]])
        #expect(vertices[1].segments.map(\.first) == [0, 1])
    }

    /// The slowest share's estimate against a count of the distinct rows each share touches,
    /// element by element.
    @Test(arguments: [[100], [45, 55], [3, 50, 7, 40], [5]])
    func segmentSharesChargeTheRowsTheyTouch(counts: [Int]) {
        let target = Target.mk2, rowLength = 10
        var segments: [NormSegment] = [], first = 0
        for (k, count) in counts.enumerated() {
            let segment = NormSegment(count: count, offset: (3 * k) % rowLength, first: first)
            segments.append(segment)
            first += segment.rows(rowLength: rowLength)
        }
        let total = counts.reduce(0, +)
        // Element e of the concatenation lies in row (segment, (offset + index) / rowLength).
        var rowOf: [[Int]] = []
        for (k, segment) in segments.enumerated() {
            for index in 0..<segment.count { rowOf.append([k, (segment.offset + index) / rowLength]) }
        }
        let expected = NormCost.workerShares(total, minimum: NormCost.minimumShare, workers: target.workerContexts).map { share in
            NormCost.vector(elements: share.count, rows: Set(share.map { rowOf[$0] }).count, type: .float32,
                            instructions: NormCost.affineInstructionsPerVector, target: target)
        }.max()!
        #expect(NormCost.segmentShareCycles(segments, rowLength: rowLength, type: .float32,
                                            instructions: NormCost.affineInstructionsPerVector, target: target) == expected)
    }

    /// Rows of a variable dealt round-robin to the tiles: every tile holds many regions, stored one
    /// after another, so each step runs one vertex per tile and copies none of `x` on the tile.
    @Test func regionsOfAVariableMakeOneVertexPerTile() throws {
        let tiles = 8, shape = [4, 6, 8, 8]
        let graph = Graph(target: testTarget(tiles: tiles))
        let x = graph.addVariable(.float32, shape, name: "x")
        let flat = x.flatten()
        for row in 0..<(x.elementCount / 8) { try graph.setTileMapping(flat.slice(row * 8..<(row + 1) * 8), tile: row % tiles) }
        let scale = graph.addVariable(.float32, [6], name: "scale"), shift = graph.addVariable(.float32, [6], name: "shift")
        try graph.setTileMapping(scale, tile: 0)
        try graph.setTileMapping(shift, tile: 1)
        let ops = OpBuilder(graph)
        let (y, _, _) = try ops.batchNormTraining(x, scale: scale, shift: shift, name: "bn")
        let executable = try Compiler.compile(graph, program: ops.program)
        let normalise = try #require(executable.steps.first { $0.name == "bn/normalise" })
        let sums = try #require(executable.steps.first { $0.name == "bn/sums/partialSums" })
        #expect(normalise.vertices == tiles && sums.vertices == tiles)
        // Only coefficients (a and b, 6 float32 each, at most) are copied on a tile, not the 768 bytes of x a tile holds.
        #expect(normalise.onTileCopyBytes <= tiles * 2 * 6 * 4 && sums.onTileCopyBytes == 0)

        var random = NormRandom(seed: 5)
        let xs = random.values(x.elementCount, -2...2, type: .float32)
        let scales = random.values(6, 0.5...2, type: .float32), shifts = random.values(6, -1...1, type: .float32)
        let results = try normRun(ops, inputs: [(x, xs), (scale, scales), (shift, shifts)], outputs: [y])
        let moments = normReferenceMoments(xs, n: 4, c: 6, plane: 64)
        let expected = normReferenceAffine(xs, c: 6, plane: 64, mean: moments.mean, variance: moments.variance,
                                           scale: scales, shift: shifts, epsilon: 1e-5)
        #expect(normWorstError(results[0], expected) < 5 * normTolerance(.float32))
    }

    /// A transposed view's regions are not consecutive in tile memory: each keeps its own vertex,
    /// and the results still match the reference.
    @Test func regionsOfATransposedViewKeepTheirOwnVertices() throws {
        let tiles = 4
        let graph = Graph(target: testTarget(tiles: tiles))
        let storage = graph.addVariable(.float32, [2, 3, 5, 4], name: "storage")
        try graph.mapLinearly(storage, grainSize: 1, minElementsPerTile: 1)
        let x = try storage.dimShuffle([0, 1, 3, 2])
        let p = (0..<4).map { graph.addVariable(.float32, [3], name: "p\($0)") }
        for (k, tensor) in p.enumerated() { try graph.setTileMapping(tensor, tile: k) }
        let ops = OpBuilder(graph)
        let y = try ops.batchNormInference(x, scale: p[0], shift: p[1], mean: p[2], variance: p[3], name: "bn")
        var random = NormRandom(seed: 6)
        let xs = random.values(x.elementCount, -2...2, type: .float32)
        let scale = random.values(3, 0.5...2, type: .float32), shift = random.values(3, -1...1, type: .float32)
        let mean = random.values(3, -1...1, type: .float32), variance = random.values(3, 0.5...2, type: .float32)
        // `xs` is given in the view's order: write it to the storage transposed back.
        var stored = [Double](repeating: 0, count: xs.count)
        for n in 0..<2 { for c in 0..<3 { for w in 0..<4 { for h in 0..<5 {
            stored[((n * 3 + c) * 5 + h) * 4 + w] = xs[((n * 3 + c) * 4 + w) * 5 + h]
        } } } }
        let results = try normRun(ops, inputs: [(storage, stored), (p[0], scale), (p[1], shift), (p[2], mean), (p[3], variance)], outputs: [y])
        #expect(normWorstError(results[0], normReferenceAffine(xs, c: 3, plane: 20, mean: mean, variance: variance,
                                                               scale: scale, shift: shift, epsilon: 1e-5)) < normTolerance(.float32))
        let executable = try Compiler.compile(graph, program: ops.program)
        let normalise = try #require(executable.steps.first { $0.name == "bn/normalise" })
        #expect(normalise.vertices > tiles)
    }
}
