import Foundation
import Tessera
import TesseraTestSupport

/// Float64 `activation(x)`.
func ewReferenceActivation(_ activation: Activation, _ x: Double) -> Double {
    switch activation {
    case .relu: max(x, 0)
    case .sigmoid: 1 / (1 + Foundation.exp(-x))
    case .silu: x / (1 + Foundation.exp(-x))
    case .tanh: Foundation.tanh(x)
    case .hardSwish: x * min(max(x + 3, 0), 6) / 6
    }
}

/// SplitMix64: a tiny deterministic generator for the element-wise and reduction tests.
struct EWRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in `range`.
    mutating func uniform(_ range: ClosedRange<Double>) -> Double {
        range.lowerBound + Double(next() >> 11) / Double(1 << 53) * (range.upperBound - range.lowerBound)
    }
    /// `count` values uniform in `range`, as Double (rounded to `type` when it is float16).
    mutating func values(_ count: Int, _ range: ClosedRange<Double> = -4...4, type: ElementType = .float32) -> [Double] {
        (0..<count).map { _ in
            let value = uniform(range)
            return type == .float16 ? Double(Float16(Float(value))) : Double(Float(value))
        }
    }
}

/// Maps the flat positions of variable `tensor` over `tiles` tiles in pieces of uneven,
/// seeded-random lengths that ignore row boundaries (each tile gets one or two pieces).
func ewMapUnevenly(_ graph: Graph, _ tensor: Tensor, tiles: Int, seed: UInt64 = 7) throws {
    var random = EWRandom(seed: seed)
    let flat = tensor.flatten()
    let count = tensor.elementCount
    var cuts = Set<Int>()
    for _ in 0..<(2 * tiles - 1) where count > 1 { cuts.insert(1 + Int(random.next() % UInt64(count - 1))) }
    let bounds = [0] + cuts.sorted() + [count]
    for (index, (begin, end)) in zip(bounds, bounds.dropFirst()).enumerated() where end > begin {
        try graph.setTileMapping(flat.slice(begin..<end), tile: (index * 5 + 3) % tiles)
    }
}

/// Compiles the operations, writes `inputs` (values converted to each tensor's type), runs with
/// `threads` host threads and reads `outputs` as Double.
func ewRun(_ ops: OpBuilder, inputs: [(Tensor, [Double])], outputs: [Tensor], threads: Int = 1) throws -> [[Double]] {
    for (tensor, _) in inputs { try ops.graph.makeHostVisible(tensor) }
    for tensor in outputs { try ops.graph.makeHostVisible(tensor) }
    let executable = try Compiler.compile(ops.graph, program: ops.program)
    let engine = try Engine(executable, options: EngineOptions(threads: threads))
    for (tensor, values) in inputs {
        switch tensor.elementType {
        case .float16: try engine.write(tensor, values.map { Float16(Float($0)) })
        case .int32: try engine.write(tensor, values.map { Int32($0) })
        default: try engine.write(tensor, values.map { Float($0) })
        }
    }
    try engine.run()
    var results: [[Double]] = []
    for tensor in outputs {
        switch tensor.elementType {
        case .float16: results.append(try engine.read(tensor, as: Float16.self).map { Double($0) })
        default: results.append(try engine.read(tensor, as: Float.self).map { Double($0) })
        }
    }
    return results
}

/// Largest |actual − expected| / (absolute + relative·|expected|) over all elements; ≤ 1 passes.
func ewWorstError(_ actual: [Double], _ expected: [Double], absolute: Double, relative: Double) -> Double {
    guard actual.count == expected.count else { return .infinity }
    var worst = 0.0
    for (x, y) in zip(actual, expected) {
        let error = x.isNaN || y.isNaN ? (x.isNaN && y.isNaN ? 0 : .infinity) : abs(x - y) / (absolute + relative * abs(y))
        worst = max(worst, error)
    }
    return worst
}

/// Tolerances for results computed in float32 and stored as `type`: float16 storage adds half an
/// fp16 ulp (relative 2⁻¹¹) plus the rounding of its inputs.
func ewTolerance(_ type: ElementType) -> (absolute: Double, relative: Double) {
    type == .float16 ? (2e-3, 2e-3) : (1e-5, 1e-5)
}

/// The NumPy broadcast of `values` of shape `shape` to `target`, row-major.
func ewBroadcast(_ values: [Double], _ shape: [Int], to target: [Int]) -> [Double] {
    let count = target.reduce(1, *)
    let lead = target.count - shape.count
    return (0..<count).map { position in
        var rest = position, index = 0, stride = 1
        for dim in (0..<target.count).reversed() {
            let coordinate = rest % target[dim]
            rest /= target[dim]
            if dim >= lead {
                let size = shape[dim - lead]
                if size != 1 { index += coordinate * stride }
                stride *= size
            }
        }
        return values[index]
    }
}

/// The error `body` throws, or nil.
func ewError(_ body: () throws(OpError) -> Void) -> OpError? {
    do { try body() } catch { return error }
    return nil
}
