import Testing
import Tessera
import TesseraTestSupport

/// Float64 reduction of `values` (shape `shape`) over `axes`, row-major over the kept dimensions.
func ewReference(_ values: [Double], _ shape: [Int], axes: Set<Int>, _ combine: ([Double]) -> Double) -> [Double] {
    let kept = shape.indices.map { axes.contains($0) ? 1 : shape[$0] }
    var groups = [[Double]](repeating: [], count: kept.reduce(1, *))
    for (position, value) in values.enumerated() {
        var rest = position, index = 0, stride = 1
        for dim in shape.indices.reversed() {
            let coordinate = rest % shape[dim]
            rest /= shape[dim]
            if !axes.contains(dim) { index += coordinate * stride }
            stride *= kept[dim]
        }
        groups[index].append(value)
    }
    return groups.map(combine)
}

@Suite struct ReduceTests {
    static let cases: [([Int], [Int])] = [
        ([37, 13], [1]), ([37, 13], [0]), ([37, 13], [0, 1]), ([2, 3, 5, 7], [0, 2, 3]), ([2, 3, 5, 7], [1]),
        ([2, 3, 5, 7], [-1, 0]), ([41], [0]), ([4, 1, 6], [1]),
    ]

    @Test(arguments: [ElementType.float32, .float16])
    func reductionsMatchAFloat64Reference(type: ElementType) throws {
        for (caseIndex, (shape, axes)) in Self.cases.enumerated() {
            let graph = Graph(target: testTarget(tiles: 7))
            let ops = OpBuilder(graph)
            let x = graph.addVariable(type, shape, name: "x")
            try ewMapUnevenly(graph, x, tiles: 7, seed: UInt64(caseIndex))
            let sum = try ops.reduceSum(x, axes: axes, name: "sum")
            let mean = try ops.reduceMean(x, axes: axes, keepDims: true, name: "mean")
            let largest = try ops.reduceMax(x, axes: axes, name: "max")
            var random = EWRandom(seed: UInt64(caseIndex) + 50)
            let values = random.values(x.elementCount, type: type)
            let results = try ewRun(ops, inputs: [(x, values)], outputs: [sum, mean, largest])
            let normalised = Set(axes.map { $0 < 0 ? $0 + shape.count : $0 })
            #expect(sum.shape == shape.indices.filter { !normalised.contains($0) }.map { shape[$0] })
            #expect(mean.shape == shape.indices.map { normalised.contains($0) ? 1 : shape[$0] })
            let sums = ewReference(values, shape, axes: normalised) { $0.reduce(0, +) }
            let groupSize = Double(x.elementCount / sums.count)
            // A float16 sum of up to n = 260 terms of |v| ≤ 4 carries the output's half-ulp rounding.
            let tolerance = ewTolerance(type)
            let sumAbsolute = type == .float16 ? 4 * groupSize * 1e-3 : 1e-5 * groupSize
            let label = "\(shape) over \(axes), \(type)"
            #expect(ewWorstError(results[0], sums, absolute: sumAbsolute, relative: tolerance.relative) <= 1, "sum \(label)")
            #expect(ewWorstError(results[1], sums.map { $0 / groupSize }, absolute: tolerance.absolute, relative: tolerance.relative) <= 1, "mean \(label)")
            #expect(results[2] == ewReference(values, shape, axes: normalised) { $0.max()! }, "max \(label)")
        }
    }

    @Test func planRecordsBothStagesAndKeepsRowResultsLocal() throws {
        let graph = Graph(target: testTarget(tiles: 4))
        let ops = OpBuilder(graph)
        let x = graph.addVariable(.float32, [8, 64], name: "x")
        for row in 0..<8 { try graph.setTileMapping(x.index(row), tile: row / 2) }
        let rows = try ops.reduceSum(x, axes: [1], name: "rows")
        let columns = try ops.reduceMax(x, axes: [0], name: "columns")
        #expect(try graph.tileMapping(of: rows).map { $0.reduce(0) { $0 + $1.count } } == [2, 2, 2, 2])
        #expect(ops.plans.map(\.kind) == ["reduceSum", "reduceMax"])
        #expect(ops.plans[0].partition.contains("stage 1") && ops.plans[0].partition.contains("on its inputs' tiles"))
        #expect(ops.plans[1].partition.contains("mapped linearly") && ops.plans[1].tilesUsed == 4)
        #expect(ops.plans.allSatisfy { $0.modelledCycles > 0 })
        #expect(columns.shape == [64] && ops.steps.count == 4)
        // Each stage runs one vertex per tile (its worker shares split inside the vertex).
        let executable = try Compiler.compile(graph, program: ops.program)
        #expect(executable.steps.count == 4 && executable.steps.allSatisfy { $0.vertices <= 4 })
    }

    @Test func resultsAreBitwiseIdenticalWithOneAndTwoThreads() throws {
        func run(threads: Int) throws -> [[Double]] {
            let graph = Graph(target: testTarget(tiles: 8))
            let ops = OpBuilder(graph)
            let x = graph.addVariable(.float32, [37, 13], name: "x")
            try ewMapUnevenly(graph, x, tiles: 8)
            let sum = try ops.reduceSum(x, axes: [0], name: "sum")
            let softmax = try ops.softmax(x, name: "softmax")
            var random = EWRandom(seed: 77)
            return try ewRun(ops, inputs: [(x, random.values(481))], outputs: [sum, softmax], threads: threads)
        }
        let one = try run(threads: 1), two = try run(threads: 2)
        #expect(one.map { $0.map(\.bitPattern) } == two.map { $0.map(\.bitPattern) })
    }

    @Test func partialsBeyondTheMemoryBudgetAreATypedError() throws {
        let graph = Graph(target: testTarget(tiles: 16, bytes: 4_096))
        let ops = OpBuilder(graph)
        let x = graph.addVariable(.float32, [96, 64], name: "x")
        for row in 0..<96 { try graph.setTileMapping(x.index(row), tile: row / 6) }
        guard case let .doesNotFit(op, needed, available, plan)? = ewError({ () throws(OpError) in _ = try ops.reduceSum(x, axes: [0], name: "columns") }) else {
            Issue.record("expected doesNotFit")
            return
        }
        #expect(op == "columns" && needed > available && available == 2_457 && plan.contains("stage 2"))
        #expect(ops.steps.isEmpty && ops.plans.isEmpty)
        _ = try ops.reduceSum(x, axes: [1], name: "rows")
        #expect(ops.steps.count == 2)
    }

    @Test func maxIgnoresNaNs() throws {
        let graph = Graph(target: testTarget(tiles: 3))
        let ops = OpBuilder(graph)
        let x = graph.addVariable(.float32, [3, 37], name: "x")
        try ewMapUnevenly(graph, x, tiles: 3)
        let largest = try ops.reduceMax(x, axes: [1], name: "max")
        var values = (0..<111).map { Double($0 % 37) - 20 }
        for i in stride(from: 0, to: 74, by: 3) { values[i] = .nan }
        for i in 74..<111 { values[i] = .nan }
        let result = try ewRun(ops, inputs: [(x, values)], outputs: [largest])[0]
        #expect(result == [15, 16, -.infinity], "\(result)")
    }

    @Test func badAxesAreTypedErrors() {
        let graph = Graph(target: testTarget(tiles: 2))
        let ops = OpBuilder(graph)
        let x = graph.addVariable(.float32, [3, 4], name: "x"), i = graph.addVariable(.int32, [3, 4], name: "i")
        for axes in [[2], [0, 0], [-3], [1, -1]] {
            guard case let .badParameter(op, detail)? = ewError({ () throws(OpError) in _ = try ops.reduceSum(x, axes: axes, name: "bad") }) else {
                Issue.record("expected a bad parameter for axes \(axes)")
                continue
            }
            #expect(op == "bad" && detail.contains("[3, 4]"))
        }
        guard case .typeMismatch? = ewError({ () throws(OpError) in _ = try ops.reduceMax(i, axes: [0], name: "int") }) else {
            Issue.record("expected a type mismatch")
            return
        }
    }
}
