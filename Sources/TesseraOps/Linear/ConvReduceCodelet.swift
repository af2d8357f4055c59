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
    /// An activation applied to the sums as they are written.
    var activation: UnaryFunction?

    /// A vertex summing `stages` partials per output, its elements divided among `workers` contexts.
    public init(stages: Int, workers: Int, outputType: ElementType, hasBias: Bool) {
        self.stages = stages
        self.workers = max(1, workers)
        self.outputType = outputType
        self.hasBias = hasBias
    }

    public var name: String { "ConvReduce" + activation.codeletSuffix }

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
        let count = convCeilDiv(fieldSizes.last!, workers)
        return ConvCycleModel.reduceCycles(stages: stages, count: count, target: target)
            + (activation.map { $0.fusedCycles(elements: count, type: outputType, target: target) } ?? 0)
    }

    public func compute(_ fields: VertexFields) {
        if outputType == .float16 { run(fields, Float16.self) } else { run(fields, Float.self) }
    }

    /// Sixteen outputs at a time: the stages summed in order in registers, then the bias, rounded once.
    private func run<T: ElementLane>(_ fields: VertexFields, _: T.Type) {
        let partials = fields.input(0, as: Float.self).baseAddress!
        let output = fields.output(hasBias ? 2 : 1, as: T.self)
        let count = output.count, out = output.baseAddress!
        let bias = hasBias ? fields.input(1, as: T.self).baseAddress : nil
        let stageCount = max(stages, 1)
        var i = 0
        while i + 16 <= count {
            var sum = Float.loadWidened16(partials + i)
            for stage in 1..<stageCount { sum += Float.loadWidened16(partials + stage * count + i) }
            if let bias { sum += T.loadWidened16(bias + i) }
            T.storeRounded16(sum, out + i)
            i += 16
        }
        while i < count {
            var sum = partials[i]
            for stage in 1..<stageCount { sum += partials[stage * count + i] }
            if let bias { sum += bias[i].widened }
            out[i] = T(rounding: sum)
            i += 1
        }
        activation?.apply(UnsafePointer(out), out, count)
    }
}
