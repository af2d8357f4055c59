import TesseraGraph

/// The second stage of a convolution split over input channels:
/// `out[i] = Σ_s partials[s · count + i]` (+ `bias[i]`), summed in float32 in stage order and rounded once.
///
/// Fields: `partials` `[stages, count]` float32; `bias` (with `hasBias`) `[count]` of `outputType`
/// (a broadcast view of the bias over the output positions); `out` `[count]` of `outputType`.
/// One vertex sums a tile's whole chunk, its elements divided among `workers` worker contexts in
/// consecutive slices of `⌈count / workers⌉`. Cycles: the slowest worker's
/// ``ConvCycleModel/reduceCycles(stages:count:target:)`` (worker-context cycles).
public struct ConvReduceCodelet: Codelet {
    /// Partial sums per output element.
    public var stages: Int
    /// Worker contexts the elements are divided among (at least 1).
    public var workers: Int
    /// Element type of bias and output.
    public var outputType: ElementType
    /// Whether the vertex adds a bias.
    public var hasBias: Bool

    /// A vertex summing `stages` partials per output, its elements divided among `workers` contexts.
    public init(stages: Int, workers: Int, outputType: ElementType, hasBias: Bool) {
        self.stages = stages
        self.workers = max(1, workers)
        self.outputType = outputType
        self.hasBias = hasBias
    }

    public var name: String { "ConvReduce" }

    public var fields: [Field] {
        [.input("partials", .float32)] + (hasBias ? [.input("bias", outputType)] : []) + [.output("out", outputType)]
    }

    /// The stage and worker counts.
    public var stateBytes: Int { 4 }

    public func sizeProblem(fieldSizes: [Int]) -> String? {
        let count = fieldSizes.last!
        let expected = [stages * count] + (hasBias ? [count] : []) + [count]
        return fieldSizes == expected ? nil : "field sizes \(fieldSizes), expected \(expected) for \(stages) stages"
    }

    public func estimateCycles(fieldSizes: [Int], target: Target) -> Int {
        ConvCycleModel.reduceCycles(stages: stages, count: convCeilDiv(fieldSizes.last!, workers), target: target)
    }

    public func compute(_ fields: VertexFields) {
        let partials = fields.input(0, as: Float.self)
        let count = fields.count(hasBias ? 2 : 1)
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { sums.deallocate() }
        sums.update(from: partials.baseAddress!, count: count)
        for stage in 1..<max(stages, 1) {
            let part = partials.baseAddress! + stage * count
            for i in 0..<count { sums[i] += part[i] }
        }
        if hasBias {
            if outputType == .float16 {
                let bias = fields.input(1, as: Float16.self)
                for i in 0..<count { sums[i] += Float(bias[i]) }
            } else {
                let bias = fields.input(1, as: Float.self)
                for i in 0..<count { sums[i] += bias[i] }
            }
        }
        convStore(sums, count: count, to: fields, field: hasBias ? 2 : 1, type: outputType)
    }
}
