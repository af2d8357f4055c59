import Testing
import Tessera
import TesseraTestSupport

/// One matrix-product case.
struct LinearMatMulCase: CustomTestStringConvertible, Sendable {
    var batches: Int?
    var m: Int, k: Int, n: Int
    var transposeA = false, transposeB = false
    var type: ElementType = .float32
    var tiles = 8
    /// `b` is one `[K, N]` matrix shared by every batch of `a`.
    var sharedB = false
    var testDescription: String {
        "\(batches.map { "\($0)×" } ?? "")\(m)×\(k)·\(sharedB ? "shared " : "")\(k)×\(n)\(transposeA ? " Aᵀ" : "")\(transposeB ? " Bᵀ" : "") \(type) on \(tiles) tiles"
    }

    static let all: [LinearMatMulCase] = [
        LinearMatMulCase(m: 13, k: 29, n: 7),
        LinearMatMulCase(m: 5, k: 40, n: 33, transposeA: true, type: .float16, tiles: 4),
        LinearMatMulCase(m: 1, k: 17, n: 9, transposeB: true),
        LinearMatMulCase(m: 21, k: 3, n: 18, transposeA: true, transposeB: true, tiles: 16),
        LinearMatMulCase(batches: 3, m: 5, k: 17, n: 6, transposeB: true, type: .float16),
        LinearMatMulCase(batches: 2, m: 9, k: 11, n: 4, transposeA: true, tiles: 16),
        LinearMatMulCase(m: 2, k: 700, n: 3, tiles: 16),
        LinearMatMulCase(batches: 4, m: 3, k: 10, n: 7, transposeA: true, sharedB: true),
    ]
}

/// Matrix products and fully connected layers against the float64 reference, typed errors.
@Suite struct LinearMatMulTests {
    @Test(arguments: LinearMatMulCase.all)
    func matmulMatchesTheFloat64Reference(_ test: LinearMatMulCase) throws {
        let fixture = LinearFixture(tiles: test.tiles)
        let lead = test.batches.map { [$0] } ?? []
        let (a, aValues) = try fixture.input(lead + (test.transposeA ? [test.k, test.m] : [test.m, test.k]), test.type, name: "a", seed: 21)
        let (b, bValues) = try fixture.input((test.sharedB ? [] : lead) + (test.transposeB ? [test.n, test.k] : [test.k, test.n]), test.type, name: "b", seed: 22)
        let product = try fixture.ops.matmul(a, b, transposeA: test.transposeA, transposeB: test.transposeB, name: "mm")
        #expect(product.shape == lead + [test.m, test.n])
        let got = try fixture.run(product)
        let batches = test.batches ?? 1
        /// Row-major `[B, rows, columns]` values transposed per batch when `flag`.
        func oriented(_ values: [Double], rows: Int, columns: Int, _ flag: Bool, batches: Int) -> [Double] {
            guard flag else { return values }
            var result = [Double]()
            for batch in 0..<batches {
                for r in 0..<rows { for c in 0..<columns { result.append(values[(batch * columns + c) * rows + r]) } }
            }
            return result
        }
        let bBatches = test.sharedB ? Array(repeating: oriented(bValues, rows: test.k, columns: test.n, test.transposeB, batches: 1), count: batches)
            .flatMap { $0 } : oriented(bValues, rows: test.k, columns: test.n, test.transposeB, batches: batches)
        let reference = linearReferenceMatMul(oriented(aValues, rows: test.m, columns: test.k, test.transposeA, batches: batches), bBatches,
                                              batches: batches, m: test.m, k: test.k, n: test.n)
        let worst = linearWorstError(got, reference, type: test.type)
        #expect(worst <= 1, "worst error \(worst) × tolerance")
        let plan = try #require(fixture.ops.plans.last)
        #expect(plan.kind == "matmul")
        let executable = try #require(fixture.executable)
        let ratio = linearModelRatio(plan, executable)
        #expect(ratio > 0.75 && ratio < 1.33, "planner / compiler cycles = \(ratio)")
        // The compiled buffers stay within the temporary memory the plan was chosen for.
        #expect(linearBusiestBuffers(executable) <= plan.temporaryBytesPerTile)
    }

    @Test func fullyConnectedAddsTheBias() throws {
        let fixture = LinearFixture(tiles: 8)
        let (x, xValues) = try fixture.input([3, 23], .float32, name: "x", seed: 31)
        let (w, wValues) = try fixture.input([10, 23], .float32, name: "w", seed: 32)
        let (bias, biasValues) = try fixture.input([10], .float32, name: "bias", seed: 33)
        let y = try fixture.ops.fullyConnected(x, weights: w, bias: bias, name: "fc")
        #expect(y.shape == [3, 10])
        let p = ConvParameters(batch: 3, inputChannels: 23, outputChannels: 10, inputField: [1, 1], kernel: [1, 1], hasBias: true)
        let reference = linearReferenceConv(p, input: xValues, weights: wValues, bias: biasValues)
        #expect(linearWorstError(try fixture.run(y), reference, type: .float32) <= 1)
        #expect(fixture.ops.plans.last?.kind == "fullyConnected")
    }

    /// A fully connected layer whose plan leaves its output a few channels per tile returns it
    /// regrouped into blocks of at least 32 elements, with the same values.
    @Test func scatteredFullyConnectedOutputsComeBackInBlocks() throws {
        let fixture = LinearFixture(tiles: 64)
        let (x, xValues) = try fixture.input([8, 48], .float32, name: "x", seed: 41)
        let (w, wValues) = try fixture.input([96, 48], .float32, name: "w", seed: 42)
        let y = try fixture.ops.fullyConnected(x, weights: w, name: "fc")
        let pieces = try fixture.graph.tileMapping(of: y).flatMap { $0 }
        #expect(pieces.count == 24 && pieces.allSatisfy { $0.count == 32 }, "\(pieces)")
        #expect(fixture.ops.plans.last!.tilesUsed > 24, "\(fixture.ops.plans.last!.partition)")
        let p = ConvParameters(batch: 8, inputChannels: 48, outputChannels: 96, inputField: [1, 1], kernel: [1, 1])
        let reference = linearReferenceConv(p, input: xValues, weights: wValues, bias: nil)
        #expect(linearWorstError(try fixture.run(y), reference, type: .float32) <= 1)
    }

    @Test func invalidMatrixProductsAreTypedErrors() throws {
        let graph = Graph(target: testTarget(tiles: 4))
        let ops = OpBuilder(graph)
        let a = graph.addVariable(.float32, [4, 5], name: "a")
        let b = graph.addVariable(.float32, [6, 3], name: "b")
        #expect {
            _ = try ops.matmul(a, b, name: "inner")
        } throws: { error in
            guard case .shapeMismatch(let op, let detail) = error as? OpError else { return false }
            return op == "inner" && detail.contains("[4, 5]") && detail.contains("[6, 3]")
        }
        let good = graph.addVariable(.float32, [3, 5], name: "good")
        #expect(throws: Never.self) { _ = try ops.matmul(a, good, transposeB: true, name: "transposed") }
        let batched = graph.addVariable(.float32, [2, 5, 6], name: "batched")
        #expect {
            _ = try ops.matmul(a, batched, name: "ranks")
        } throws: { error in
            guard case .shapeMismatch(let op, _) = error as? OpError else { return false }
            return op == "ranks"
        }
        let half = graph.addVariable(.float16, [5, 3], name: "half")
        #expect {
            _ = try ops.matmul(a, half, name: "types")
        } throws: { error in
            guard case .typeMismatch(let op, let detail) = error as? OpError else { return false }
            return op == "types" && detail.contains("float16")
        }
        // Empty products, batches included, are refused before any size is divided by.
        for (left, right) in [([4, 3], [3, 0]), ([0, 4, 3], [0, 3, 5]), ([0, 3], [3, 2])] {
            let l = graph.addVariable(.float32, left, name: "l"), r = graph.addVariable(.float32, right, name: "r")
            #expect {
                _ = try ops.matmul(l, r, name: "empty")
            } throws: { error in
                guard case .shapeMismatch("empty", let detail) = error as? OpError else { return false }
                return detail.contains("empty matrix product")
            }
        }
        let x = graph.addVariable(.float32, [3, 7], name: "x")
        #expect {
            _ = try ops.fullyConnected(x, weights: a, name: "fc")
        } throws: { error in
            guard case .shapeMismatch(let op, _) = error as? OpError else { return false }
            return op == "fc"
        }
    }
}
