import TesseraGraph

/// The arithmetic of the binary element-wise codelet, computed in float32.
enum BinaryOperation: String, Sendable, Hashable {
    case add, subtract, multiply, divide

    /// Worker instructions per 64-bit vector of output: one arithmetic instruction and one slot for
    /// the paired loads and store; division has no vector instruction and costs a reciprocal
    /// estimate, a Newton step and a multiply (docs/ops-cost.md).
    var instructionsPerVector: Int { self == .divide ? 5 : 2 }

    @inline(__always) func apply(_ x: SIMD16<Float>, _ y: SIMD16<Float>) -> SIMD16<Float> {
        switch self {
        case .add: x + y
        case .subtract: x - y
        case .multiply: x * y
        case .divide: x / y
        }
    }

    @inline(__always) func apply(_ x: Float, _ y: Float) -> Float {
        switch self {
        case .add: x + y
        case .subtract: x - y
        case .multiply: x * y
        case .divide: x / y
        }
    }
}

/// `out[p] = a[p] ∘ b[p]` over output positions `start ..< start + n` of a broadcast shape. Each
/// operand field holds the operand's flat indices `base ..< base + count` and is read through its
/// broadcast pattern, a run at a time (a run repeats one element or walks contiguously). In place,
/// `a` is the output (`a[p] ← a[p] ∘ b[p]`, `a` read without broadcasting).
struct BinaryCodelet: Codelet {
    var operation: BinaryOperation
    var elementType: ElementType
    var inPlace: Bool
    var patterns: [BroadcastPattern]
    var bases: [Int]
    var start: Int
    /// Runs the output positions split into (for the cycle estimate).
    var runs: Int

    var name: String { "\(operation.rawValue)<\(elementType)>\(inPlace ? "InPlace" : "")" }
    var fields: [Field] {
        inPlace ? [.inOut("a", elementType), .input("b", elementType)]
            : [.input("a", elementType), .input("b", elementType), .output("out", elementType)]
    }
    private var outputField: Int { inPlace ? 0 : 2 }
    var stateBytes: Int { 16 + 8 * patterns.reduce(0) { $0 + $1.dimensions.count } }

    func estimateCycles(fieldSizes: [Int], target: Target) -> Int {
        ElementwiseCost.cycles(elements: fieldSizes[outputField], type: elementType, instructions: operation.instructionsPerVector,
                          runs: runs, target: target)
    }

    func compute(_ fields: VertexFields) {
        if elementType == .float16 { run(fields, Float16.self) } else { run(fields, Float.self) }
    }

    private func run<T: ElementLane>(_ fields: VertexFields, _: T.Type) {
        let out = fields.output(outputField, as: T.self), b = fields.input(1, as: T.self)
        let a = inPlace ? UnsafeBufferPointer(out) : fields.input(0, as: T.self)
        guard let aBase = a.baseAddress, let bBase = b.baseAddress, let outBase = out.baseAddress else { return }
        let end = start + out.count
        var position = start
        while position < end {
            let length = min(patterns[0].runLength(at: position), patterns[1].runLength(at: position), end - position)
            kernel(aBase + (patterns[0].index(of: position) - bases[0]), patterns[0].innerStride,
                   bBase + (patterns[1].index(of: position) - bases[1]), patterns[1].innerStride,
                   outBase + (position - start), length)
            position += length
        }
    }

    @inline(__always)
    private func kernel<T: ElementLane>(_ a: UnsafePointer<T>, _ aStride: Int, _ b: UnsafePointer<T>, _ bStride: Int,
                                        _ out: UnsafeMutablePointer<T>, _ count: Int) {
        let aSplat = SIMD16<Float>(repeating: a.pointee.widened), bSplat = SIMD16<Float>(repeating: b.pointee.widened)
        var i = 0
        while i + 16 <= count {
            let x = aStride == 0 ? aSplat : T.loadWidened16(a + i)
            let y = bStride == 0 ? bSplat : T.loadWidened16(b + i)
            T.storeRounded16(operation.apply(x, y), out + i)
            i += 16
        }
        while i < count {
            out[i] = T(rounding: operation.apply(a[i * aStride].widened, b[i * bStride].widened))
            i += 1
        }
    }
}
