import Foundation
import Testing
import Tessera
import TesseraTestSupport

@Suite struct BlocksTests {
    @Test(arguments: [ElementType.float32, .float16])
    func squeezeExcitationMatchesReference(type: ElementType) throws {
        let (n, c, h, w, s) = (2, 24, 5, 3, 6)
        let graph = Graph(target: testTarget(tiles: 8, bytes: 131_072))
        let ops = OpBuilder(graph)
        func variable(_ shape: [Int], _ name: String) throws -> Tensor {
            let t = graph.addVariable(type, shape, name: name)
            try graph.mapLinearly(t, grainSize: 4, minElementsPerTile: 4)
            try graph.makeHostVisible(t)
            return t
        }
        let x = try variable([n, c, h, w], "x"), w1 = try variable([s, c], "w1"), b1 = try variable([s], "b1")
        let w2 = try variable([c, s], "w2"), b2 = try variable([c], "b2")
        let y = try ops.squeezeExcitation(x, reduceWeights: w1, reduceBias: b1, expandWeights: w2, expandBias: b2, name: "se")
        try graph.makeHostVisible(y)
        let engine = try Engine(try Compiler.compile(graph, program: ops.program), options: EngineOptions(threads: 2))
        var seed: UInt64 = 42
        func values(_ count: Int) -> [Float] {
            (0..<count).map { _ in
                seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return Float(Int(seed >> 40) % 2001 - 1000) / 1000
            }
        }
        let (xv, w1v, b1v, w2v, b2v) = (values(n * c * h * w), values(s * c), values(s), values(c * s), values(c))
        func write(_ t: Tensor, _ v: [Float]) throws {
            if type == .float16 { try engine.write(t, v.map { Float16($0) }) } else { try engine.write(t, v) }
        }
        func stored(_ v: [Float]) -> [Double] { v.map { type == .float16 ? Double(Float(Float16($0))) : Double($0) } }
        for (t, v) in [(x, xv), (w1, w1v), (b1, b1v), (w2, w2v), (b2, b2v)] { try write(t, v) }
        try engine.run()
        let result = type == .float16 ? try engine.read(y, as: Float16.self).map(Float.init) : try engine.read(y, as: Float.self)
        let (X, W1, B1, W2, B2) = (stored(xv), stored(w1v), stored(b1v), stored(w2v), stored(b2v))
        for image in 0..<n {
            let pooled = (0..<c).map { ch in (0..<(h * w)).reduce(0.0) { $0 + X[(image * c + ch) * h * w + $1] } / Double(h * w) }
            let hidden = (0..<s).map { j -> Double in
                let z = (0..<c).reduce(B1[j]) { $0 + W1[j * c + $1] * pooled[$1] }
                return z / (1 + exp(-z))
            }
            for ch in 0..<c {
                let gate = 1 / (1 + exp(-(0..<s).reduce(B2[ch]) { $0 + W2[ch * s + $1] * hidden[$1] }))
                for p in 0..<(h * w) {
                    let index = (image * c + ch) * h * w + p
                    let expected = X[index] * gate
                    let tolerance = type == .float16 ? 4e-3 * max(1, abs(expected)) : 1e-5 * max(1, abs(expected))
                    #expect(abs(Double(result[index]) - expected) <= tolerance, "image \(image) channel \(ch) position \(p)")
                }
            }
        }
    }

    @Test func squeezeExcitationShapeErrorsNameTheBlock() throws {
        let graph = Graph(target: testTarget(tiles: 4))
        let ops = OpBuilder(graph)
        let x = graph.addVariable(.float32, [1, 8, 2, 2], name: "x")
        let w = graph.addVariable(.float32, [2, 7], name: "w"), b = graph.addVariable(.float32, [2], name: "b")
        let w2 = graph.addVariable(.float32, [8, 2], name: "w2"), b2 = graph.addVariable(.float32, [8], name: "b2")
        #expect {
            try ops.squeezeExcitation(x, reduceWeights: w, reduceBias: b, expandWeights: w2, expandBias: b2, name: "se1")
        } throws: { error in
            guard case let OpError.shapeMismatch(op, detail) = error else { return false }
            return op == "se1" && detail.contains("reduce [2, 7]") && detail.contains("x [1, 8, 2, 2]")
        }
    }
}
