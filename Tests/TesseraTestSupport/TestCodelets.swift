import Tessera

/// Sums a float32 vector into one element: the smallest useful codelet, for tests.
public struct SumCodelet: Codelet {
    public init() {}
    public var fields: [Field] { [.input("in", .float32), .scalar("out", .output, .float32)] }
    public func estimateCycles(fieldSizes: [Int], target: Target) -> Int { 10 + fieldSizes[0] }
    public func compute(_ fields: VertexFields) {
        var sum: Float = 0
        for value in fields.input(0, as: Float.self) { sum += value }
        fields.setScalar(1, sum)
    }
}

/// `out[i] = in[i] * factor + offset`, elementwise over float32 vectors of equal length.
public struct ScaleCodelet: Codelet {
    public var factor: Float
    public var offset: Float
    public init(factor: Float, offset: Float = 0) {
        self.factor = factor
        self.offset = offset
    }
    public var fields: [Field] { [.input("in", .float32), .output("out", .float32)] }
    public var stateBytes: Int { 8 }
    public func sizeProblem(fieldSizes: [Int]) -> String? {
        fieldSizes[0] == fieldSizes[1] ? nil : "in has \(fieldSizes[0]) elements, out has \(fieldSizes[1])"
    }
    public func estimateCycles(fieldSizes: [Int], target: Target) -> Int { 6 + fieldSizes[0] / 2 }
    public func compute(_ fields: VertexFields) {
        let input = fields.input(0, as: Float.self), output = fields.output(1, as: Float.self)
        for i in input.indices { output[i] = input[i] * factor + offset }
    }
}

/// A small target for tests: `tiles` tiles of `bytes` bytes, Mk2 parameters otherwise.
public func testTarget(tiles: Int = 4, bytes: Int = 65_536) -> Target {
    Target(name: "test\(tiles)", tiles: tiles, bytesPerTile: bytes)
}
