import TesseraGraph

/// How a cast to a narrower floating-point type rounds.
public enum RoundingMode: Sendable, Hashable {
    /// IEEE round to nearest, ties to even.
    case nearestEven
    /// Unbiased stochastic rounding: a value between the neighbouring representable values `lo < x < hi`
    /// becomes `hi` with probability `(x − lo) / (hi − lo)` and `lo` otherwise, so the expected result is
    /// `x`. The random bits come from a counter-based generator keyed by `seed`, the vertex's tile and
    /// its first element, so results are reproducible and independent of host threads. Values beyond
    /// the largest finite float16 (65,504) round to nearest.
    case stochastic(seed: UInt64)
}

/// Converts one contiguous region between float32 and float16.
struct CastCodelet: Codelet {
    var from: ElementType
    var to: ElementType
    /// Key of this vertex's random stream when rounding stochastically; nil for round to nearest even.
    var stochasticKey: UInt64?

    var name: String { "cast<\(from),\(to)>\(stochasticKey == nil ? "" : "SR")" }
    var fields: [Field] { [.input("in", from), .output("out", to)] }
    var stateBytes: Int { stochasticKey == nil ? 0 : 8 }

    func sizeProblem(fieldSizes: [Int]) -> String? {
        fieldSizes[0] == fieldSizes[1] ? nil : "in has \(fieldSizes[0]) elements, out has \(fieldSizes[1])"
    }

    /// One conversion instruction per two elements (`f32v2tof16`, `f16v2tof32`) and one load/store
    /// slot; stochastic rounding is a mode of the same instruction on the IPU (docs/ops-cost.md).
    func estimateCycles(fieldSizes: [Int], target: Target) -> Int {
        ElementwiseCost.cycles(elements: fieldSizes[0], type: .float32, instructions: 2, target: target)
    }

    func compute(_ fields: VertexFields) {
        if from == .float16 {
            let input = fields.input(0, as: Float16.self), output = fields.output(1, as: Float.self)
            for i in input.indices { output[i] = Float(input[i]) }
            return
        }
        let input = fields.input(0, as: Float.self), output = fields.output(1, as: Float16.self)
        if let key = stochasticKey {
            for i in input.indices { output[i] = stochasticallyRounded(input[i], bits: stochasticRoundingMix(key &+ UInt64(i))) }
        } else {
            for i in input.indices { output[i] = Float16(input[i]) }
        }
    }
}

/// `x` rounded to one of its two neighbouring float16 values, up with probability equal to its
/// fractional position between them, using the 53 high bits of `bits` as the uniform variate.
func stochasticallyRounded(_ x: Float, bits: UInt64) -> Float16 {
    let nearest = Float16(x)
    guard x.isFinite, nearest.isFinite, Float(nearest) != x else { return nearest }
    let (low, high) = Float(nearest) < x ? (nearest, nearest.nextUp) : (nearest.nextDown, nearest)
    guard low.isFinite, high.isFinite else { return nearest }
    let fraction = (Double(x) - Double(low)) / (Double(high) - Double(low))
    return Double(bits >> 11) * 0x1p-53 < fraction ? high : low
}

/// SplitMix64's finaliser: a bijective mix of 64 bits, the counter-based generator of stochastic rounding.
func stochasticRoundingMix(_ value: UInt64) -> UInt64 {
    var z = value &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

extension OpBuilder {
    /// `x` converted between float32 and float16 into a new tensor of the same shape, mapped like
    /// `x` (no exchange). float16 → float32 is exact; float32 → float16 rounds by `rounding`.
    public func cast(_ x: Tensor, to type: ElementType, rounding: RoundingMode = .nearestEven, name: String) throws(OpError) -> Tensor {
        guard x.elementType.isFloatingPoint, type.isFloatingPoint, x.elementType != type else {
            throw .typeMismatch(op: name, detail: "cast converts float32 ↔ float16, got \(x.elementType) \(x.shape) to \(type)")
        }
        let output = try variable(like: x, type: type, name: name)
        let pieces = try elementwisePieces(of: output, grainType: .float32)
        let computeSet = graph.addComputeSet(name)
        var model = ElementwiseStepModel(target: graph.target)
        let flatIn = x.flatten(), flatOut = output.flatten()
        for piece in pieces {
            var key: UInt64?
            if case let .stochastic(seed) = rounding, type == .float16 {
                key = stochasticRoundingMix(stochasticRoundingMix(stochasticRoundingMix(seed) ^ UInt64(piece.tile)) ^ UInt64(piece.positions.lowerBound))
            }
            let codelet = CastCodelet(from: x.elementType, to: type, stochasticKey: key)
            _ = try building(name) { () throws(GraphError) in
                try graph.addVertex(computeSet, codelet, tile: piece.tile,
                                    ["in": flatIn.slice(piece.positions), "out": flatOut.slice(piece.positions)])
            }
            model.addVertex(tile: piece.tile, cycles: codelet.estimateCycles(fieldSizes: [piece.positions.count], target: graph.target))
        }
        append(.execute(computeSet))
        let mode = if case .stochastic = rounding, type == .float16 { "stochastic rounding" } else { "round to nearest even" }
        record(OperationPlan(name: name, kind: "cast", partition: "\(x.elementType) → \(type), \(mode): \(pieces.count) vertices over \(model.tiles.count) tiles",
                             tilesUsed: model.tiles.count, modelledCycles: model.cycles, temporaryBytesPerTile: 0))
        return output
    }
}
