import TesseraGraph

/// Where a reduction chunk finds its bias: the output box's channels, one bias element each, with
/// `plane` output positions per channel; the chunk starts at box position `first`, so its element
/// `i` takes channel `((first + i) / plane) % channels`.
struct ConvReduceBias: Sendable, Hashable {
    /// Output positions per channel plane of the box (its rows × columns).
    var plane: Int
    /// Channels of the box (its groups × output channels per group), in the bias field's order.
    var channels: Int
    /// The box position of the chunk's first element.
    var first: Int
}

/// The second stage of a convolution split over input channels:
/// `out[i] = Σ_s partials_s[i]` (+ the bias of element `i`'s channel), summed in float32 in stage order and rounded once.
///
/// Fields: `partials` `[stages − 1, count]` float32, the other stages' partials in stage order
/// (they arrive by exchange, into one buffer); `own` `[count]` float32, stage ``ownStage``'s, read
/// where that stage wrote them on this tile; `bias` (with ``bias``) `[channels]` of `outputType`,
/// the output box's channels (``ConvReduceBias``); `out` `[count]` of `outputType`.
/// One vertex sums a tile's whole chunk, its elements divided among `workers` worker contexts in
/// consecutive slices of `⌈count / workers⌉`. Cycles: the slowest worker's
/// ``ConvCycleModel/reduceCycles(stages:count:target:)`` (worker-context cycles).
public struct ConvReduceCodelet: Codelet {
    /// Partial sums per output element (at least 2: a convolution without an input-channel split has no reduction).
    public var stages: Int
    /// The stage whose partials the vertex's tile made.
    public var ownStage: Int
    /// Worker contexts the elements are divided among (at least 1).
    public var workers: Int
    /// Element type of bias and output.
    public var outputType: ElementType
    /// Where the chunk's bias comes from, when the vertex adds one.
    var bias: ConvReduceBias?
    /// An activation applied to the sums as they are written.
    var activation: UnaryFunction?

    /// A vertex summing `stages` partials per output (its tile's own of stage `ownStage`), its
    /// elements divided among `workers` contexts.
    init(stages: Int, ownStage: Int, workers: Int, outputType: ElementType, bias: ConvReduceBias?) {
        self.stages = stages
        self.ownStage = ownStage
        self.workers = max(1, workers)
        self.outputType = outputType
        self.bias = bias
    }

    public var name: String { "ConvReduce" + activation.codeletSuffix }

    public var fields: [Field] {
        [.input("partials", .float32), .input("own", .float32)] + (bias != nil ? [.input("bias", outputType)] : []) + [.output("out", outputType)]
    }

    /// The stage, own-stage and worker counts (16 bits each, padded to 8 bytes), and the bias's plane, channels and
    /// first position (32 bits each).
    public var stateBytes: Int { bias == nil ? 8 : 20 }

    public func sizeProblem(fieldSizes: [Int]) -> String? {
        let count = fieldSizes.last!
        let expected = [(stages - 1) * count, count] + (bias.map { [$0.channels] } ?? []) + [count]
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

    /// Sixteen outputs at a time, a channel plane's run at a time: the stages summed in order in
    /// registers, then the run's bias, rounded once.
    private func run<T: ElementLane>(_ fields: VertexFields, _: T.Type) {
        let output = fields.output(bias != nil ? 3 : 2, as: T.self)
        let count = output.count, out = output.baseAddress!
        let others = fields.input(0, as: Float.self).baseAddress!, own = fields.input(1, as: Float.self).baseAddress!
        let biasValues = bias != nil ? fields.input(2, as: T.self).baseAddress : nil
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: stages) { partials in
            // Each stage's partials, in stage order.
            for stage in 0..<stages {
                partials[stage] = stage == ownStage ? own : others + (stage < ownStage ? stage : stage - 1) * count
            }
            var i = 0
            while i < count {
                // The run of elements sharing one channel (the whole chunk without a bias).
                var end = count, value: Float = 0
                if let bias, let biasValues {
                    let plane = (bias.first + i) / bias.plane
                    end = min(count, (plane + 1) * bias.plane - bias.first)
                    value = biasValues[plane % bias.channels].widened
                }
                let splat = SIMD16<Float>(repeating: value)
                while i + 16 <= end {
                    var sum = Float.loadWidened16(partials[0] + i)
                    for stage in 1..<stages { sum += Float.loadWidened16(partials[stage] + i) }
                    if biasValues != nil { sum += splat }
                    T.storeRounded16(sum, out + i)
                    i += 16
                }
                while i < end {
                    var sum = partials[0][i]
                    for stage in 1..<stages { sum += partials[stage][i] }
                    if biasValues != nil { sum += value }
                    out[i] = T(rounding: sum)
                    i += 1
                }
            }
        }
        activation?.apply(UnsafePointer(out), out, count)
    }
}
