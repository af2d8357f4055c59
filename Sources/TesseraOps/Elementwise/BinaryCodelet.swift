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

/// `out[p] = a[p] ∘ b[p]` over the `regions` contiguous regions of a broadcast shape's output its
/// tile holds — one MultiVertex per tile. Fields per region `r`: `a<r>`, `b<r>`, `out<r>` (in
/// place: `a<r>` is the output, `a[p] ← a[p] ∘ b[p]`, read without broadcasting). Region `r`
/// covers output positions `regionStarts[r] ..< regionStarts[r] + count`; its operand field `k`
/// holds operand `k`'s flat indices from `bases[2r + k]` on and is read through its broadcast
/// pattern, a run at a time (a run repeats one element or walks contiguously). The codelet splits
/// the regions over the worker contexts (``WorkerSplit``) when it computes.
struct BinaryCodelet: Codelet {
    var operation: BinaryOperation
    var elementType: ElementType
    var inPlace: Bool
    var patterns: [BroadcastPattern]
    var regionStarts: [Int]
    /// Per region, the first flat index of operand 0 and of operand 1 its fields hold (one array,
    /// as a broadcast step's vertices have a region per mapped interval).
    var bases: [Int]
    var split: WorkerSplit
    /// Runs each worker share (in ``WorkerSplit/shares(_:)`` order) splits into (for the cycle estimate).
    var shareRuns: [Int]
    /// Applied to each worker share's outputs once they are written, with the rounding of a separate step.
    var activation: UnaryFunction? = nil

    var name: String { "\(operation.rawValue)<\(elementType)>\(inPlace ? "InPlace" : "")" + activation.codeletSuffix }
    private var fieldsPerRegion: Int { inPlace ? 2 : 3 }
    var fields: [Field] {
        regionStarts.indices.flatMap { r in
            inPlace ? [Field.inOut("a\(r)", elementType), .input("b\(r)", elementType)]
                : [.input("a\(r)", elementType), .input("b\(r)", elementType), .output("out\(r)", elementType)]
        }
    }
    private func outputField(_ region: Int) -> Int { region * fieldsPerRegion + (inPlace ? 0 : 2) }
    var stateBytes: Int { 16 + 8 * patterns.reduce(0) { $0 + $1.dimensions.count } + 24 * regionStarts.count }

    /// The slowest worker's cycles over its shares' output vectors and runs.
    func estimateCycles(fieldSizes: [Int], target: Target) -> Int {
        let shares = WorkerSplit(target, elementType).shares(regionStarts.indices.map { fieldSizes[outputField($0)] })
        return slowestWorkerCycles(zip(shares, shareRuns).map { share, runs in
            ElementwiseCost.cycles(elements: share.offsets.count, type: elementType,
                                   instructions: operation.instructionsPerVector + activation.fusedInstructionsPerVector,
                                   runs: runs, target: target)
        }, contexts: target.workerContexts)
    }

    func compute(_ fields: VertexFields) {
        if elementType == .float16 { run(fields, Float16.self) } else { run(fields, Float.self) }
    }

    private func run<T: ElementLane>(_ fields: VertexFields, _: T.Type) {
        for share in split.shares(regionStarts.indices.map { fields.count(outputField($0)) }) {
            let r = share.region, first = r * fieldsPerRegion
            let out = fields.output(outputField(r), as: T.self), b = fields.input(first + 1, as: T.self)
            let a = inPlace ? UnsafeBufferPointer(out) : fields.input(first, as: T.self)
            guard let aBase = a.baseAddress, let bBase = b.baseAddress, let outBase = out.baseAddress else { continue }
            let start = regionStarts[r], end = start + share.offsets.upperBound
            var position = start + share.offsets.lowerBound
            while position < end {
                let length = min(patterns[0].runLength(at: position), patterns[1].runLength(at: position), end - position)
                kernel(aBase + (patterns[0].index(of: position) - bases[2 * r]), patterns[0].innerStride,
                       bBase + (patterns[1].index(of: position) - bases[2 * r + 1]), patterns[1].innerStride,
                       outBase + (position - start), length)
                position += length
            }
            activation?.apply(UnsafePointer(outBase + share.offsets.lowerBound), outBase + share.offsets.lowerBound, share.offsets.count)
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
