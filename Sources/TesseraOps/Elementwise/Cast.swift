import TesseraGraph

/// How a cast to a narrower floating-point type rounds.
public enum RoundingMode: Sendable, Hashable {
    /// IEEE round to nearest, ties to even.
    case nearestEven
    /// Unbiased stochastic rounding: a value between the neighbouring representable values `lo < x < hi`
    /// becomes `hi` with probability `(x − lo) / (hi − lo)` and `lo` otherwise, so the expected result is
    /// `x`. The random bits come from a counter-based generator keyed by `seed`, the tile and the first
    /// element of each worker's share, so results are reproducible and independent of host threads. Values beyond
    /// the largest finite float16 (65,504) round to nearest.
    case stochastic(seed: UInt64)
}

/// Converts between float32 and float16 over the `regions` contiguous regions its tile holds — one
/// MultiVertex per tile, fields `in<r>`, `out<r>` per region, split over the worker contexts
/// (``WorkerSplit``, in float32 vectors) when it computes.
struct CastCodelet: Codelet {
    var from: ElementType
    var to: ElementType
    var regions: Int
    var split: WorkerSplit
    /// Key of the tile's random streams when rounding stochastically (nil for round to nearest
    /// even); each worker share's stream is keyed by it and the share's first flat position.
    var stochasticKey: UInt64?
    /// First flat position of each region (keys the shares' random streams).
    var regionStarts: [Int]

    var name: String { "cast<\(from),\(to)>\(stochasticKey == nil ? "" : "SR")" }
    var fields: [Field] { (0..<regions).flatMap { [Field.input("in\($0)", from), .output("out\($0)", to)] } }
    var stateBytes: Int { (stochasticKey == nil ? 0 : 8) + 8 * regions }

    func sizeProblem(fieldSizes: [Int]) -> String? {
        for r in 0..<regions where fieldSizes[2 * r] != fieldSizes[2 * r + 1] {
            return "region \(r): in has \(fieldSizes[2 * r]) elements, out has \(fieldSizes[2 * r + 1])"
        }
        return nil
    }

    /// One conversion instruction per two elements (`f32v2tof16`, `f16v2tof32`) and one load/store
    /// slot, per worker share; the slowest worker's cycles. Stochastic rounding is a mode of the
    /// same instruction on the IPU (docs/ops-cost.md).
    func estimateCycles(fieldSizes: [Int], target: Target) -> Int {
        let shares = WorkerSplit(target, .float32).shares((0..<regions).map { fieldSizes[2 * $0] })
        return slowestWorkerCycles(shares.map {
            ElementwiseCost.cycles(elements: $0.offsets.count, type: .float32, instructions: 2, target: target)
        }, contexts: target.workerContexts)
    }

    func compute(_ fields: VertexFields) {
        for share in split.shares((0..<regions).map { fields.count(2 * $0) }) {
            let range = share.offsets, inField = 2 * share.region
            if from == .float16 {
                let input = fields.input(inField, as: Float16.self), output = fields.output(inField + 1, as: Float.self)
                for i in range { output[i] = Float(input[i]) }
                continue
            }
            let input = fields.input(inField, as: Float.self), output = fields.output(inField + 1, as: Float16.self)
            if let stochasticKey {
                let key = stochasticRoundingMix(stochasticKey ^ UInt64(regionStarts[share.region] + range.lowerBound))
                for i in range { output[i] = stochasticallyRounded(input[i], bits: stochasticRoundingMix(key &+ UInt64(i - range.lowerBound))) }
            } else {
                for i in range { output[i] = Float16(input[i]) }
            }
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
        let work = try tileWork(of: output)
        let computeSet = graph.addComputeSet(name)
        var model = ElementwiseStepModel(target: graph.target)
        let flatIn = x.flatten(), flatOut = output.flatten()
        for tile in work {
            var key: UInt64?
            if case let .stochastic(seed) = rounding, type == .float16 {
                key = stochasticRoundingMix(stochasticRoundingMix(seed) ^ UInt64(tile.tile))
            }
            let codelet = CastCodelet(from: x.elementType, to: type, regions: tile.regions.count, split: WorkerSplit(graph.target, .float32),
                                      stochasticKey: key, regionStarts: tile.regions.map { $0.lowerBound })
            _ = try building(name) { () throws(GraphError) in
                var connections: [String: Tensor] = [:]
                for (r, region) in tile.regions.enumerated() {
                    connections["in\(r)"] = try flatIn.slice(region)
                    connections["out\(r)"] = try flatOut.slice(region)
                }
                return try graph.addVertex(computeSet, codelet, tile: tile.tile, connections)
            }
            let sizes = tile.regions.flatMap { [$0.count, $0.count] }
            model.addVertex(tile: tile.tile, cycles: codelet.estimateCycles(fieldSizes: sizes, target: graph.target))
        }
        append(.execute(computeSet))
        let mode = if case .stochastic = rounding, type == .float16 { "stochastic rounding" } else { "round to nearest even" }
        record(OperationPlan(name: name, kind: "cast", partition: "\(x.elementType) → \(type), \(mode): \(work.count) vertices (one per tile) over \(model.tiles.count) tiles",
                             tilesUsed: model.tiles.count, modelledCycles: model.cycles, temporaryBytesPerTile: 0))
        return output
    }
}
