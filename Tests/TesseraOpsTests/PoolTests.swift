import Testing
import Tessera
import TesseraTestSupport

/// Float64 2-D pooling of `x` (`[N, C, H, W]` flat) as PyTorch defines it (no dilation, no ceil mode).
private func reference(_ x: [Double], shape: [Int], kernel: [Int], stride: [Int], padding: [Int],
                       average: Bool, countIncludePad: Bool) -> [Double] {
    let (planes, h, w) = (shape[0] * shape[1], shape[2], shape[3])
    let oh = (h + 2 * padding[0] - kernel[0]) / stride[0] + 1, ow = (w + 2 * padding[1] - kernel[1]) / stride[1] + 1
    var y: [Double] = []
    for plane in 0..<planes {
        for r in 0..<oh {
            for c in 0..<ow {
                var best = -Double.infinity, sum = 0.0, count = 0
                for i in 0..<kernel[0] {
                    for j in 0..<kernel[1] {
                        let row = r * stride[0] - padding[0] + i, column = c * stride[1] - padding[1] + j
                        guard (0..<h).contains(row), (0..<w).contains(column) else { continue }
                        let value = x[(plane * h + row) * w + column]
                        best = max(best, value)
                        sum += value
                        count += 1
                    }
                }
                y.append(average ? sum / Double(countIncludePad ? kernel[0] * kernel[1] : count) : best)
            }
        }
    }
    return y
}

struct PoolCase: CustomTestStringConvertible, Sendable {
    var shape: [Int]
    var kernel: [Int]
    var stride: [Int]?
    var padding: [Int]
    var tiles: Int
    var mapping: NormMapping
    var type: ElementType
    var testDescription: String {
        "\(type) \(shape) kernel \(kernel) stride \(stride ?? kernel) padding \(padding) on \(tiles) tiles, \(mapping.rawValue)"
    }
}

@Suite struct PoolTests {
    static let cases: [PoolCase] = [
        // Windows hang over the padded border on every side; odd sizes.
        PoolCase(shape: [2, 3, 7, 5], kernel: [3, 3], stride: [2, 2], padding: [1, 1], tiles: 5, mapping: .randomCuts, type: .float32),
        PoolCase(shape: [2, 3, 7, 5], kernel: [3, 3], stride: [2, 2], padding: [1, 1], tiles: 5, mapping: .randomCuts, type: .float16),
        // Default stride (= kernel); the last input row and column are never read.
        PoolCase(shape: [1, 2, 7, 7], kernel: [2, 2], stride: nil, padding: [0, 0], tiles: 4, mapping: .linear, type: .float32),
        // Rectangular kernel, stride 1 in height and wider than the kernel in width.
        PoolCase(shape: [3, 4, 5, 8], kernel: [3, 2], stride: [1, 3], padding: [1, 1], tiles: 7, mapping: .channelMajor, type: .float16),
        // Kernel as large as the input plus padding: the border windows are mostly padding.
        PoolCase(shape: [1, 3, 5, 5], kernel: [5, 5], stride: [1, 1], padding: [2, 2], tiles: 16, mapping: .randomCuts, type: .float32),
        // A single output per plane on tiny planes.
        PoolCase(shape: [5, 3, 2, 3], kernel: [2, 3], stride: [2, 2], padding: [0, 1], tiles: 4, mapping: .linear, type: .float16),
    ]

    /// Builds the pooling, runs it on seeded random data and checks it against the reference.
    private func check(_ test: PoolCase, average: Bool, countIncludePad: Bool) throws {
        let graph = Graph(target: testTarget(tiles: test.tiles))
        let x = graph.addVariable(test.type, test.shape, name: "x")
        try normMap(graph, x, test.mapping)
        let ops = OpBuilder(graph)
        let y = average
            ? try ops.avgPool2d(x, kernel: test.kernel, stride: test.stride, padding: test.padding, countIncludePad: countIncludePad, name: "pool")
            : try ops.maxPool2d(x, kernel: test.kernel, stride: test.stride, padding: test.padding, name: "pool")
        var random = NormRandom(seed: 9)
        let xs = random.values(x.elementCount, -5...2, type: test.type)
        let result = try normRun(ops, inputs: [(x, xs)], outputs: [y])[0]
        let expected = reference(xs, shape: test.shape, kernel: test.kernel, stride: test.stride ?? test.kernel, padding: test.padding,
                                 average: average, countIncludePad: countIncludePad)
        // PyTorch's output size, from the shape alone: ⌊(size + 2 · padding − kernel) / stride⌋ + 1.
        let stride = test.stride ?? test.kernel
        let field = (0..<2).map { (d: Int) -> Int in
            let padded: Int = test.shape[2 + d] + 2 * test.padding[d]
            return (padded - test.kernel[d]) / stride[d] + 1
        }
        #expect(y.shape == [test.shape[0], test.shape[1]] + field && expected.count == y.elementCount, "\(y.shape)")
        if average {
            #expect(normWorstError(result, expected) < normTolerance(test.type))
        } else {
            #expect(result == expected)
        }
        #expect(ops.plans.last?.modelledCycles ?? 0 > 0)
    }

    @Test(arguments: cases)
    func maxPoolMatchesTheReference(_ test: PoolCase) throws {
        try check(test, average: false, countIncludePad: false)
    }

    @Test(arguments: cases, [true, false])
    func avgPoolMatchesTheFloat64Reference(_ test: PoolCase, countIncludePad: Bool) throws {
        try check(test, average: true, countIncludePad: countIncludePad)
    }

    @Test func avgPoolCountsPaddingByDefault() throws {
        let graph = Graph(target: testTarget(tiles: 4))
        let x = graph.addVariable(.float32, [1, 1, 2, 2], name: "x")
        try graph.setTileMapping(x, tile: 1)
        let ops = OpBuilder(graph)
        let y = try ops.avgPool2d(x, kernel: [3, 3], stride: [1, 1], padding: [1, 1], name: "pool")
        let result = try normRun(ops, inputs: [(x, [1, 2, 3, 4])], outputs: [y])[0]
        let ninth = Double(Float(10) / 9)
        #expect(result == [Double](repeating: ninth, count: 4))
    }

    @Test(arguments: [ElementType.float32, .float16], [NormMapping.randomCuts, .channelMajor])
    func globalAveragePoolMatchesTheFloat64Reference(_ type: ElementType, _ mapping: NormMapping) throws {
        for shape in [[3, 5, 7, 3], [2, 7, 1, 1], [1, 3, 9, 11]] {
            let graph = Graph(target: testTarget(tiles: 6))
            let x = graph.addVariable(type, shape, name: "x")
            try normMap(graph, x, mapping)
            let ops = OpBuilder(graph)
            let y = try ops.globalAveragePool(x, name: "gap")
            #expect(y.shape == [shape[0], shape[1]] && y.elementType == type)
            var random = NormRandom(seed: 4)
            let xs = random.values(x.elementCount, -1...3, type: type)
            let result = try normRun(ops, inputs: [(x, xs)], outputs: [y])[0]
            let plane = shape[2] * shape[3]
            let expected = (0..<(shape[0] * shape[1])).map { xs[($0 * plane)..<(($0 + 1) * plane)].reduce(0, +) / Double(plane) }
            #expect(normWorstError(result, expected) < normTolerance(type))
        }
    }
}
