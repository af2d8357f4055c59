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

/// `out[i] = f(in[i])` (or `inOut[i] = f(inOut[i])` in place), float32 or float16, over the
/// `regions` contiguous regions its tile holds — one MultiVertex per tile. Fields per region `r`:
/// `in<r>`, `out<r>` (in place: `inOut<r>`). The codelet splits the regions over the tile's worker
/// contexts (``workerShares(regionSizes:grain:contexts:)``) and its estimate is the slowest worker's.
struct UnaryCodelet: Codelet {
    var function: UnaryFunction
    var elementType: ElementType
    var inPlace: Bool
    var regions: Int
    var split: WorkerSplit

    var name: String { "\(function.name)<\(elementType)>\(inPlace ? "InPlace" : "")" }
    private var fieldsPerRegion: Int { inPlace ? 1 : 2 }
    var fields: [Field] {
        (0..<regions).flatMap { r in
            inPlace ? [Field.inOut("inOut\(r)", elementType)] : [.input("in\(r)", elementType), .output("out\(r)", elementType)]
        }
    }
    var stateBytes: Int { 4 + 8 * regions }

    func sizeProblem(fieldSizes: [Int]) -> String? {
        guard !inPlace else { return nil }
        for r in 0..<regions where fieldSizes[2 * r] != fieldSizes[2 * r + 1] {
            return "region \(r): in has \(fieldSizes[2 * r]) elements, out has \(fieldSizes[2 * r + 1])"
        }
        return nil
    }

    func estimateCycles(fieldSizes: [Int], target: Target) -> Int {
        let sizes = (0..<regions).map { fieldSizes[$0 * fieldsPerRegion] }
        let shares = WorkerSplit(target, elementType).shares(sizes)
        return slowestWorkerCycles(shares.map {
            ElementwiseCost.cycles(elements: $0.offsets.count, type: elementType, instructions: function.instructionsPerVector, target: target)
        }, contexts: target.workerContexts)
    }

    func compute(_ fields: VertexFields) {
        if elementType == .float16 { run(fields, Float16.self) } else { run(fields, Float.self) }
    }

    private func run<T: ElementLane>(_ fields: VertexFields, _: T.Type) {
        let sizes = (0..<regions).map { fields.count($0 * fieldsPerRegion) }
        for share in split.shares(sizes) {
            let first = share.region * fieldsPerRegion
            let output = fields.output(first + fieldsPerRegion - 1, as: T.self)
            let input = inPlace ? UnsafeBufferPointer(output) : fields.input(first, as: T.self)
            guard let source = input.baseAddress, let destination = output.baseAddress else { continue }
            apply(source + share.offsets.lowerBound, destination + share.offsets.lowerBound, share.offsets.count)
        }
    }

    @inline(__always)
    private func apply<T: ElementLane>(_ source: UnsafePointer<T>, _ destination: UnsafeMutablePointer<T>, _ count: Int) {
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
