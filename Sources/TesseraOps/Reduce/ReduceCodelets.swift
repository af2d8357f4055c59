import TesseraGraph

/// How a reduction combines values.
enum ReductionKind: String, Sendable, Hashable {
    case sum, mean, max

    /// The value a partial starts from.
    var identity: Float { self == .max ? -.infinity : 0 }

    @inline(__always) func combine(_ x: Float, _ y: Float) -> Float { self == .max ? Swift.max(x, y) : x + y }

    @inline(__always) func combine(_ x: SIMD16<Float>, _ y: SIMD16<Float>) -> SIMD16<Float> {
        self == .max ? x.lanewiseMaximum(y) : x + y
    }

    @inline(__always) func total(_ x: SIMD16<Float>) -> Float { self == .max ? x.max() : x.sum() }
}

/// Worker instructions per 64-bit vector of a reduction codelet: the load and the add (or max)
/// of a vector, plus the store when accumulating into a vector of partials (docs/ops-cost.md).
enum ReduceCost {
    static let instructionsPerVector = 2
}

/// First stage of a reduction: input positions `start ..< start + n` (one contiguous region on the
/// vertex's tile) reduced into float32 partials for output indices `base ..< base + m`, following
/// the pattern from input positions to output indices. Partials no position reaches keep the identity.
struct ReducePartialCodelet: Codelet {
    var kind: ReductionKind
    var elementType: ElementType
    var pattern: BroadcastPattern
    var start: Int
    var base: Int
    /// Runs the input positions split into (for the cycle estimate).
    var runs: Int

    var name: String { "reducePartial\(kind == .max ? "Max" : "Sum")<\(elementType)>" }
    var fields: [Field] { [.input("in", elementType), .output("partials", .float32)] }
    var stateBytes: Int { 16 + 8 * pattern.dimensions.count }

    func estimateCycles(fieldSizes: [Int], target: Target) -> Int {
        ElementwiseCost.cycles(elements: fieldSizes[0], type: elementType, instructions: ReduceCost.instructionsPerVector,
                               runs: runs, target: target)
            + (fieldSizes[1] + target.vectorWidth(.float32) - 1) / target.vectorWidth(.float32)
    }

    func compute(_ fields: VertexFields) {
        if elementType == .float16 { run(fields, Float16.self) } else { run(fields, Float.self) }
    }

    private func run<T: ElementLane>(_ fields: VertexFields, _: T.Type) {
        let input = fields.input(0, as: T.self), partials = fields.output(1, as: Float.self)
        partials.initialize(repeating: kind.identity)
        guard let source = input.baseAddress, let destination = partials.baseAddress else { return }
        let end = start + input.count
        var position = start
        while position < end {
            let length = min(pattern.runLength(at: position), end - position)
            let values = source + (position - start), target = destination + (pattern.index(of: position) - base)
            if pattern.innerStride == 0 {
                target.pointee = kind.combine(target.pointee, reduce(values, length))
            } else {
                accumulate(values, into: target, length)
            }
            position += length
        }
    }

    @inline(__always) private func reduce<T: ElementLane>(_ values: UnsafePointer<T>, _ count: Int) -> Float {
        var vector = SIMD16<Float>(repeating: kind.identity)
        var i = 0
        while i + 16 <= count {
            vector = kind.combine(vector, T.loadWidened16(values + i))
            i += 16
        }
        var result = kind.total(vector)
        while i < count {
            result = kind.combine(result, values[i].widened)
            i += 1
        }
        return result
    }

    @inline(__always) private func accumulate<T: ElementLane>(_ values: UnsafePointer<T>, into target: UnsafeMutablePointer<Float>, _ count: Int) {
        var i = 0
        while i + 16 <= count {
            Float.storeRounded16(kind.combine(Float.loadWidened16(target + i), T.loadWidened16(values + i)), target + i)
            i += 16
        }
        while i < count {
            target[i] = kind.combine(target[i], values[i].widened)
            i += 1
        }
    }
}

/// Second stage of a reduction: output elements `o₀ ..< o₀ + m` combined from slices of partials,
/// concatenated in the `partials` field; slice `k` covers outputs `offsets[k] ..< offsets[k] + counts[k]`
/// (relative to `o₀`). A mean is the sum times `scale`.
struct ReduceCombineCodelet: Codelet {
    var kind: ReductionKind
    var elementType: ElementType
    var offsets: [Int]
    var counts: [Int]
    var scale: Float

    var name: String { "reduceCombine\(kind == .max ? "Max" : "Sum")<\(elementType)>" }
    var fields: [Field] { [.input("partials", .float32), .output("out", elementType)] }
    var stateBytes: Int { 8 + 8 * offsets.count }

    func sizeProblem(fieldSizes: [Int]) -> String? {
        fieldSizes[0] == counts.reduce(0, +) ? nil : "partials has \(fieldSizes[0]) elements, the slices \(counts.reduce(0, +))"
    }

    func estimateCycles(fieldSizes: [Int], target: Target) -> Int {
        ElementwiseCost.cycles(elements: fieldSizes[0], type: .float32, instructions: ReduceCost.instructionsPerVector,
                               runs: offsets.count, target: target)
            + (fieldSizes[1] + target.vectorWidth(elementType) - 1) / target.vectorWidth(elementType) * 2
    }

    func compute(_ fields: VertexFields) {
        if elementType == .float16 { run(fields, Float16.self) } else { run(fields, Float.self) }
    }

    private func run<T: ElementLane>(_ fields: VertexFields, _: T.Type) {
        let partials = fields.input(0, as: Float.self), out = fields.output(1, as: T.self)
        var accumulator = [Float](repeating: kind.identity, count: out.count)
        var next = 0
        for (offset, count) in zip(offsets, counts) {
            for i in 0..<count { accumulator[offset + i] = kind.combine(accumulator[offset + i], partials[next + i]) }
            next += count
        }
        let factor = kind == .mean ? scale : 1
        for i in out.indices { out[i] = T(rounding: accumulator[i] * factor) }
    }
}
