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

    /// Worker instructions per vector of the function fused into the loop of the operation that
    /// writes its input: one fewer than on its own (the operation's loads and stores carry the values).
    var fusedInstructionsPerVector: Int { instructionsPerVector - 1 }

    /// Worker cycles of the function fused into the loop of the operation that writes its `elements`:
    /// ``fusedInstructionsPerVector`` a vector and no set-up of its own.
    func fusedCycles(elements: Int, type: ElementType, target: Target) -> Int {
        let lanes = target.vectorWidth(type)
        return (elements + lanes - 1) / lanes * fusedInstructionsPerVector
    }

    /// Applies the function to `count` elements from `source` into `destination` (which may be
    /// `source`).
    @inline(__always)
    func apply<T: ElementLane>(_ source: UnsafePointer<T>, _ destination: UnsafeMutablePointer<T>, _ count: Int) {
        switch self {
        case .relu: mapVectors(source, destination, count, Lanes.ReLU())
        case .scale(let factor): mapVectors(source, destination, count, Lanes.Scale(factor: factor))
        case .sigmoid: mapVectors(source, destination, count, Lanes.Sigmoid())
        case .silu: mapVectors(source, destination, count, Lanes.SiLU())
        case .tanh: mapVectors(source, destination, count, Lanes.Tanh())
        case .hardSwish: mapVectors(source, destination, count, Lanes.HardSwish())
        case .exp: mapVectors(source, destination, count, Lanes.Exp())
        case .log: mapVectors(source, destination, count, Lanes.Log())
        }
    }
}

/// A function of 16 float32 lanes. Each unary function is a type of its own, so that
/// ``mapVectors(_:_:_:_:)`` is specialised into one loop per function: inlined together into
/// one codelet (or passed as closures), the optimiser splits the vectors into 4-lane pieces.
private protocol LaneFunction {
    func callAsFunction(_ x: SIMD16<Float>) -> SIMD16<Float>
}

/// The unary functions as ``LaneFunction`` types.
private enum Lanes {
    struct ReLU: LaneFunction {
        @inline(__always) func callAsFunction(_ x: SIMD16<Float>) -> SIMD16<Float> { x.lanewiseMaximum(.zero) }
    }
    struct Scale: LaneFunction {
        var factor: Float
        @inline(__always) func callAsFunction(_ x: SIMD16<Float>) -> SIMD16<Float> { x * factor }
    }
    struct Sigmoid: LaneFunction {
        @inline(__always) func callAsFunction(_ x: SIMD16<Float>) -> SIMD16<Float> { 1 / (1 + (-x).exponential()) }
    }
    struct SiLU: LaneFunction {
        @inline(__always) func callAsFunction(_ x: SIMD16<Float>) -> SIMD16<Float> { x / (1 + (-x).exponential()) }
    }
    struct Tanh: LaneFunction {
        @inline(__always) func callAsFunction(_ x: SIMD16<Float>) -> SIMD16<Float> { x.mapEachLane { Foundation.tanh($0) } }
    }
    struct HardSwish: LaneFunction {
        @inline(__always) func callAsFunction(_ x: SIMD16<Float>) -> SIMD16<Float> {
            x * (x + 3).lanewiseMaximum(.zero).lanewiseMinimum(SIMD16(repeating: 6)) * (1 / 6 as Float)
        }
    }
    struct Exp: LaneFunction {
        @inline(__always) func callAsFunction(_ x: SIMD16<Float>) -> SIMD16<Float> { x.exponential() }
    }
    struct Log: LaneFunction {
        @inline(__always) func callAsFunction(_ x: SIMD16<Float>) -> SIMD16<Float> { x.mapEachLane { Foundation.log($0) } }
    }
}

/// `destination[i] = f(source[i])` for `count` elements, sixteen at a time in float32.
@inline(never)
private func mapVectors<T: ElementLane, F: LaneFunction>(_ source: UnsafePointer<T>, _ destination: UnsafeMutablePointer<T>, _ count: Int,
                                                         _ f: F) {
    var i = 0
    while i + 16 <= count {
        T.storeRounded16(f(T.loadWidened16(source + i)), destination + i)
        i += 16
    }
    guard i < count else { return }
    // The last partial vector goes through memory: inserting lanes at a variable index one by
    // one compiles to masked shuffles that cost more than the function itself.
    let rest = count - i
    var tail = SIMD16<Float>.zero
    withUnsafeMutableBytes(of: &tail) { lanes in
        for k in 0..<rest { lanes.storeBytes(of: source[i + k].widened, toByteOffset: 4 * k, as: Float.self) }
    }
    withUnsafeBytes(of: f(tail)) { lanes in
        for k in 0..<rest { destination[i + k] = T(rounding: lanes.load(fromByteOffset: 4 * k, as: Float.self)) }
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
            function.apply(source + share.offsets.lowerBound, destination + share.offsets.lowerBound, share.offsets.count)
        }
    }
}

extension Optional where Wrapped == UnaryFunction {
    /// A fused activation's mark on the name of the codelet that applies it ("+relu"), or "".
    var codeletSuffix: String { map { "+\($0.name)" } ?? "" }
    /// The instructions per vector a fused activation adds to its operation's loop (0 without one).
    var fusedInstructionsPerVector: Int { map { $0.fusedInstructionsPerVector } ?? 0 }
}
