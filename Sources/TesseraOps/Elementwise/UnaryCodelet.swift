import Foundation
import TesseraGraph

/// The functions the unary element-wise codelet applies, each computed in float32.
enum UnaryFunction: Sendable, Hashable {
    case relu, sigmoid, silu, tanh, hardSwish, exp, log
    /// Multiplication by a constant.
    case scale(Float)

    /// Name used for codelets, compute sets and plans.
    var name: String {
        switch self {
        case .relu: "relu"
        case .sigmoid: "sigmoid"
        case .silu: "silu"
        case .tanh: "tanh"
        case .hardSwish: "hardSwish"
        case .exp: "exp"
        case .log: "log"
        case .scale: "scale"
        }
    }

    /// Worker instructions per 64-bit vector, counting one for the paired load/store (docs/ops-cost.md).
    var instructionsPerVector: Int {
        switch self {
        case .relu, .scale: 2
        case .sigmoid, .tanh, .exp, .log: 3
        case .silu: 4
        case .hardSwish: 6
        }
    }

    @inline(__always) func apply(_ x: SIMD16<Float>) -> SIMD16<Float> {
        switch self {
        case .relu: return pointwiseMax(x, .zero)
        case .scale(let factor): return x * factor
        case .sigmoid: return x.mapEachLane { 1 / (1 + Foundation.exp(-$0)) }
        case .silu: return x.mapEachLane { $0 / (1 + Foundation.exp(-$0)) }
        case .tanh: return x.mapEachLane { Foundation.tanh($0) }
        case .hardSwish: return x * pointwiseMin(pointwiseMax(x + 3, .zero), SIMD16(repeating: 6)) * (1 / 6 as Float)
        case .exp: return x.mapEachLane { Foundation.exp($0) }
        case .log: return x.mapEachLane { Foundation.log($0) }
        }
    }
}

/// `out[i] = f(in[i])` over one contiguous region (or `inOut[i] = f(inOut[i])` in place), float32 or float16.
struct UnaryCodelet: Codelet {
    var function: UnaryFunction
    var elementType: ElementType
    var inPlace: Bool

    var name: String { "\(function.name)<\(elementType)>\(inPlace ? "InPlace" : "")" }
    var fields: [Field] { inPlace ? [.inOut("inOut", elementType)] : [.input("in", elementType), .output("out", elementType)] }
    var stateBytes: Int { 4 }

    func sizeProblem(fieldSizes: [Int]) -> String? {
        inPlace || fieldSizes[0] == fieldSizes[1] ? nil : "in has \(fieldSizes[0]) elements, out has \(fieldSizes[1])"
    }

    func estimateCycles(fieldSizes: [Int], target: Target) -> Int {
        ElementwiseCost.cycles(elements: fieldSizes[0], type: elementType, instructions: function.instructionsPerVector, target: target)
    }

    func compute(_ fields: VertexFields) {
        if elementType == .float16 { run(fields, Float16.self) } else { run(fields, Float.self) }
    }

    private func run<T: ElementLane>(_ fields: VertexFields, _: T.Type) {
        let output = fields.output(inPlace ? 0 : 1, as: T.self)
        let input = inPlace ? UnsafeBufferPointer(output) : fields.input(0, as: T.self)
        guard let source = input.baseAddress, let destination = output.baseAddress else { return }
        let count = input.count
        var i = 0
        while i + 16 <= count {
            T.storeRounded16(function.apply(T.loadWidened16(source + i)), destination + i)
            i += 16
        }
        if i < count {
            var tail = SIMD16<Float>.zero
            for k in i..<count { tail[k - i] = source[k].widened }
            let result = function.apply(tail)
            for k in i..<count { destination[k] = T(rounding: result[k - i]) }
        }
    }
}
