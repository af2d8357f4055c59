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
/// tile holds — one MultiVertex per tile. Region `r` covers output positions `regionStarts[r]
/// ..< regionStarts[r] + regionCounts[r]`. Its operand `k` (0: `a`, 1: `b`) is read from field
/// `regionFields[3r + k]` through the operand's broadcast pattern, a run at a time (a run repeats
/// one element or walks contiguously): the element of flat index `i` is at offset
/// `i − regionDeltas[3r + k]` of that field; its output goes to field `regionFields[3r + 2]` at
/// offset `p − regionDeltas[3r + 2]`. Fields are `a0…`, then `b0…`, then `out0…` (``fieldCounts``);
/// regions share them where their elements lie one after another (``RegionFieldGroups``). In
/// place, `a<j>` are in-out fields holding the output, and there are no `out` fields. The codelet
/// splits the regions over the worker contexts (``WorkerSplit``) when it computes.
struct BinaryCodelet: Codelet {
    var operation: BinaryOperation
    var elementType: ElementType
    var inPlace: Bool
    var patterns: [BroadcastPattern]
    var regionStarts: [Int]
    var regionCounts: [Int]
    /// Per region, the fields of `a`, `b` and the output (one array for all regions: a broadcast
    /// step's vertices have a region per mapped interval).
    var regionFields: [Int32]
    /// Per region, what to subtract from `a`'s and `b`'s flat indices and from the output position
    /// to find the element in its field.
    var regionDeltas: [Int]
    /// How many `a`, `b` and `out` fields there are.
    var fieldCounts: (a: Int, b: Int, out: Int)
    var split: WorkerSplit
    /// Runs each worker share (in ``WorkerSplit/shares(_:)`` order) splits into (for the cycle estimate).
    var shareRuns: [Int]
    /// Applied to each worker share's outputs once they are written, with the rounding of a separate step.
    var activation: UnaryFunction? = nil

    var name: String { "\(operation.rawValue)<\(elementType)>\(inPlace ? "InPlace" : "")" + activation.codeletSuffix }
    var fields: [Field] {
        (0..<fieldCounts.a).map { inPlace ? Field.inOut("a\($0)", elementType) : .input("a\($0)", elementType) }
            + (0..<fieldCounts.b).map { .input("b\($0)", elementType) } + (0..<fieldCounts.out).map { .output("out\($0)", elementType) }
    }
    /// The header, the patterns, and per region its start, count and three offsets (32-bit) and
    /// three field indices (16-bit), padded to 32 bytes.
    var stateBytes: Int { 16 + 8 * patterns.reduce(0) { $0 + $1.dimensions.count } + 32 * regionStarts.count }

    /// The slowest worker's cycles over its shares' output vectors and runs.
    func estimateCycles(fieldSizes: [Int], target: Target) -> Int {
        let shares = WorkerSplit(target, elementType).shares(regionCounts)
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
        for share in split.shares(regionCounts) {
            let r = share.region
            let out = fields.output(Int(regionFields[3 * r + 2]), as: T.self), b = fields.input(Int(regionFields[3 * r + 1]), as: T.self)
            let a = inPlace ? UnsafeBufferPointer(out) : fields.input(Int(regionFields[3 * r]), as: T.self)
            guard let aBase = a.baseAddress, let bBase = b.baseAddress, let outBase = out.baseAddress else { continue }
            let aDelta = regionDeltas[3 * r], bDelta = regionDeltas[3 * r + 1], outDelta = regionDeltas[3 * r + 2]
            let first = regionStarts[r] + share.offsets.lowerBound, end = regionStarts[r] + share.offsets.upperBound
            var position = first
            while position < end {
                let length = min(patterns[0].runLength(at: position), patterns[1].runLength(at: position), end - position)
                kernel(aBase + (patterns[0].index(of: position) - aDelta), patterns[0].innerStride,
                       bBase + (patterns[1].index(of: position) - bDelta), patterns[1].innerStride,
                       outBase + (position - outDelta), length)
                position += length
            }
            activation?.apply(UnsafePointer(outBase + (first - outDelta)), outBase + (first - outDelta), share.offsets.count)
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
