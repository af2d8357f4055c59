import Testing
import Tessera
import TesseraTestSupport

/// Float64 group normalisation of `x` (`[N, C, H, W]` flat) with biased variance per (sample, group).
func groupNormReference(_ x: [Double], n: Int, c: Int, plane: Int, groups: Int,
                       scale: [Double], shift: [Double], epsilon: Double) -> [Double] {
    let size = c / groups * plane
    var y = x
    for row in 0..<(n * groups) {
        let values = x[(row * size)..<((row + 1) * size)]
        let mean = values.reduce(0, +) / Double(size)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(size)
        for i in (row * size)..<((row + 1) * size) {
            let channel = (i / plane) % c
            y[i] = scale[channel] * (x[i] - mean) / (variance + epsilon).squareRoot() + shift[channel]
        }
    }
    return y
}

struct NormGroupNormCase: CustomTestStringConvertible, Sendable {
    var shape: [Int]
    var groups: Int
    var tiles: Int
    var mapping: NormMapping
    var type: ElementType
    var testDescription: String { "\(type) \(shape) in \(groups) groups on \(tiles) tiles, \(mapping.rawValue)" }
}

@Suite struct NormGroupNormTests {
    static let cases: [NormGroupNormCase] = [
        NormGroupNormCase(shape: [3, 6, 5, 3], groups: 3, tiles: 7, mapping: .randomCuts, type: .float32),
        NormGroupNormCase(shape: [3, 6, 5, 3], groups: 2, tiles: 7, mapping: .randomCuts, type: .float16),
        NormGroupNormCase(shape: [2, 9, 3, 5], groups: 9, tiles: 5, mapping: .channelMajor, type: .float32),
        NormGroupNormCase(shape: [2, 5, 7, 1], groups: 1, tiles: 4, mapping: .linear, type: .float16),
        NormGroupNormCase(shape: [1, 4, 9, 9], groups: 4, tiles: 16, mapping: .linear, type: .float32),
    ]

    @Test(arguments: cases)
    func matchesTheFloat64Reference(_ test: NormGroupNormCase) throws {
        let graph = Graph(target: testTarget(tiles: test.tiles))
        let (n, c, plane) = (test.shape[0], test.shape[1], test.shape[2] * test.shape[3])
        let x = graph.addVariable(test.type, test.shape, name: "x")
        try normMap(graph, x, test.mapping)
        let scale = graph.addVariable(test.type, [c], name: "scale"), shift = graph.addVariable(test.type, [c], name: "shift")
        try graph.mapLinearly(scale, grainSize: 1, minElementsPerTile: 1)
        try graph.mapLinearly(shift, grainSize: 1, minElementsPerTile: 3)
        let ops = OpBuilder(graph)
        let y = try ops.groupNorm(x, groups: test.groups, scale: scale, shift: shift, epsilon: 1e-4, name: "gn")
        #expect(try graph.tileMapping(of: y) == graph.tileMapping(of: x))
        var random = NormRandom(seed: 3)
        let xs = random.values(x.elementCount, -2...4, type: test.type)
        let scales = random.values(c, 0.5...2, type: test.type), shifts = random.values(c, -1...1, type: test.type)
        let result = try normRun(ops, inputs: [(x, xs), (scale, scales), (shift, shifts)], outputs: [y])[0]
        let expected = groupNormReference(xs, n: n, c: c, plane: plane, groups: test.groups, scale: scales, shift: shifts, epsilon: 1e-4)
        #expect(normWorstError(result, expected) < normTolerance(test.type) * (test.type == .float32 ? 5 : 1))
        #expect(ops.plans.last?.kind == "groupNorm")
    }
}
