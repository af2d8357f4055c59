import Testing
import Tessera
import TesseraTestSupport

@Suite struct ElementwiseCastTests {
    @Test func roundToNearestEvenMatchesIEEEBothWays() throws {
        let graph = Graph(target: testTarget(tiles: 5))
        let ops = OpBuilder(graph)
        let x = graph.addVariable(.float32, [37, 13], name: "x")
        try ewMapUnevenly(graph, x, tiles: 5)
        let half = try ops.cast(x, to: .float16, name: "toHalf")
        let back = try ops.cast(half, to: .float32, name: "toFloat")
        var random = EWRandom(seed: 5)
        var values = random.values(37 * 13, -70_000...70_000)
        values[0...5] = [0, -0, 65_519, 65_520, 1e-8, Double(Float(1) + 0x1p-11)]
        let results = try ewRun(ops, inputs: [(x, values)], outputs: [half, back])
        let expected = values.map { Double(Float16(Float($0))) }
        #expect(results[0].elementsEqual(expected) { $0 == $1 || $0.isNaN && $1.isNaN })
        #expect(results[1].elementsEqual(expected))
        #expect(results[0][5] == 1, "a tie rounds to the even neighbour")
        #expect(try graph.tileMapping(of: half) == graph.tileMapping(of: x))
    }

    /// Each of n = 4,096 copies of values between two float16 neighbours `lo < x < hi` is rounded
    /// stochastically. Every result must be `lo` or `hi`, and the mean must be within 4σ/√n of x,
    /// where σ = (hi − lo)·√(p(1 − p)) is the standard deviation of one rounding (p the fractional
    /// position of x), while round-to-nearest is off by min(p, 1 − p)·(hi − lo) ≥ 0.25 ulp here —
    /// more than 30 times that bound.
    @Test func stochasticRoundingIsUnbiasedAndPicksANeighbour() throws {
        let copies = 4_096
        let targets: [Float] = [1 + 0x1p-12, 3.14159, -0.1, 1000.3, 6.0e-6, -20_006]
        let graph = Graph(target: testTarget(tiles: 6))
        let ops = OpBuilder(graph)
        let x = graph.addVariable(.float32, [targets.count, copies], name: "x")
        try ewMapUnevenly(graph, x, tiles: 6)
        let rounded = try ops.cast(x, to: .float16, rounding: .stochastic(seed: 42), name: "sr")
        let values = targets.flatMap { Array(repeating: Double($0), count: copies) }
        let result = try ewRun(ops, inputs: [(x, values)], outputs: [rounded])[0]
        for (row, target) in targets.enumerated() {
            let nearest = Float16(target)
            let (low, high) = Float(nearest) < target ? (nearest, nearest.nextUp) : (nearest.nextDown, nearest)
            let ulp = Double(high) - Double(low)
            let p = (Double(target) - Double(low)) / ulp
            let samples = result[(row * copies)..<((row + 1) * copies)]
            #expect(samples.allSatisfy { $0 == Double(low) || $0 == Double(high) }, "\(target)")
            let mean = samples.reduce(0, +) / Double(copies)
            let bound = 4 * ulp * (p * (1 - p)).squareRoot() / Double(copies).squareRoot()
            #expect(abs(mean - Double(target)) < bound, "\(target): mean \(mean), bound \(bound)")
            #expect(abs(Double(nearest) - Double(target)) > 8 * bound, "\(target) must be far from a neighbour for the test to mean something")
        }
    }

    @Test func stochasticRoundingIsReproducibleAndThreadIndependent() throws {
        func run(seed: UInt64, threads: Int) throws -> [Double] {
            let graph = Graph(target: testTarget(tiles: 4))
            let ops = OpBuilder(graph)
            let x = graph.addVariable(.float32, [301], name: "x")
            try ewMapUnevenly(graph, x, tiles: 4)
            let y = try ops.cast(x, to: .float16, rounding: .stochastic(seed: seed), name: "sr")
            var random = EWRandom(seed: 9)
            return try ewRun(ops, inputs: [(x, random.values(301))], outputs: [y], threads: threads)[0]
        }
        let one = try run(seed: 1, threads: 1)
        #expect(try run(seed: 1, threads: 2) == one)
        #expect(try run(seed: 2, threads: 1) != one)
    }

    @Test func castsRejectIntegerAndSameTypeConversions() {
        let graph = Graph(target: testTarget(tiles: 2))
        let ops = OpBuilder(graph)
        let i = graph.addVariable(.int32, [4], name: "i"), f = graph.addVariable(.float32, [4], name: "f")
        guard case .typeMismatch? = ewError({ () throws(OpError) in _ = try ops.cast(i, to: .float16, name: "c") }),
              case .typeMismatch? = ewError({ () throws(OpError) in _ = try ops.cast(f, to: .float32, name: "c") }) else {
            Issue.record("expected type mismatches")
            return
        }
    }

    @Test(arguments: [ElementType.float32, .float16])
    func scaledAddToFollowsA(type: ElementType) throws {
        let graph = Graph(target: testTarget(tiles: 6))
        let ops = OpBuilder(graph)
        let a = graph.addVariable(type, [37, 13], name: "a"), b = graph.addVariable(type, [37, 13], name: "b")
        try ewMapUnevenly(graph, a, tiles: 6, seed: 1)
        try ewMapUnevenly(graph, b, tiles: 6, seed: 2)
        try ops.scaledAddTo(a, b, scale: -0.75, name: "axpy")
        var random = EWRandom(seed: 17)
        let valuesA = random.values(481, type: type), valuesB = random.values(481, type: type)
        let result = try ewRun(ops, inputs: [(a, valuesA), (b, valuesB)], outputs: [a])[0]
        let tolerance = ewTolerance(type)
        #expect(ewWorstError(result, zip(valuesA, valuesB).map { $0 - 0.75 * $1 }, absolute: tolerance.absolute, relative: tolerance.relative) <= 1)
        let c = graph.addVariable(type, [13, 37], name: "c")
        guard case .shapeMismatch? = ewError({ () throws(OpError) in try ops.scaledAddTo(a, c, scale: 1, name: "bad") }) else {
            Issue.record("expected a shape mismatch")
            return
        }
    }
}
