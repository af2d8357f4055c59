import TesseraGraph

extension OpBuilder {
    /// Batch normalisation with given statistics: `y = scale·(x − mean)/√(variance + ε) + shift`
    /// per channel.
    ///
    /// - `x`: activations `[N, C, H, W]`, float32 or float16, every element mapped.
    /// - `scale`, `shift`, `mean`, `variance`: `[C]`, all float32 or all float16 (any mapping).
    /// - `activation`: when given, applied to `y` in the same step (the result, roundings included,
    ///   is that of ``activation(_:_:name:)`` on `y`, without a pass of its own over the memory).
    /// - Returns `y`, of the type, shape and tile mapping of `x`.
    ///
    /// Two steps: `<name>/coefficients` computes `a = scale/√(variance + ε)` and `b = shift − mean·a`
    /// in float32 for blocks of channels, then `<name>/normalise` computes `y = a·x + b` where `x`
    /// lives, each tile receiving the coefficients of the channels it holds once.
    public func batchNormInference(_ x: Tensor, scale: Tensor, shift: Tensor, mean: Tensor, variance: Tensor,
                                   epsilon: Float = 1e-5, activation: Activation? = nil, name: String) throws(OpError) -> Tensor {
        let op = "batchNormInference '\(name)'"
        let s = try checkNormActivations(x, op: op)
        let parameterType = try checkNormParameters(["scale": scale, "shift": shift, "mean": mean, "variance": variance], channels: s.c, op: op)
        try checkNormEpsilon(epsilon, op: op)
        var steps = NormSteps()
        let inputs = [("mean", mean), ("variance", variance), ("scale", scale), ("shift", shift)].map { field, tensor in
            CoefficientInput(field: field, view: tensor, base: tensor, positions: { [$0] })
        }
        let (a, b, _, _) = try normCoefficients(
            rows: s.c, over: x, source: .moments(type: parameterType), parameterType: parameterType, epsilon: epsilon,
            writesMoments: false, inputs: inputs, name: name, op: op, steps: &steps)
        let y = try normApply(x, rowLength: s.plane, a: a, b: b, activation: activation, name: name, op: op, steps: &steps)
        try finishNorm(name, op: op, kind: "batchNormInference",
                       partition: "\(s.n)×\(s.c)×\(s.h)×\(s.w) where x lives, \(s.c) channel coefficients in blocks\(activationNote(activation))", steps)
        return y
    }

    /// The per-channel sums of a batch: `[C, 2]` float32 holding Σx and Σx² of each channel over
    /// N, H and W of `x` (`[N, C, H, W]`, float32 or float16), accumulated in float32.
    ///
    /// These are the partial statistics of distributed batch normalisation: sums of several
    /// replicas' batches add (`Program.allReduce([sums], .sum, group:)`) to the sums of their
    /// concatenated batch. Two steps: every piece of `x` sums its channel runs on its own tile
    /// (`<name>/partialSums`), then each channel's partial sums are gathered onto one tile and
    /// added (`<name>/reduce`).
    public func batchNormSums(_ x: Tensor, name: String) throws(OpError) -> Tensor {
        let op = "batchNormSums '\(name)'"
        let s = try checkNormActivations(x, op: op)
        var steps = NormSteps()
        let sums = try channelSums(x, s, name: name, op: op, steps: &steps)
        try finishNorm(name, op: op, kind: "batchNormSums", partition: "\(s.n)×\(s.c)×\(s.h)×\(s.w) summed where x lives, \(s.c) channels reduced in blocks", steps)
        return sums
    }

    /// Batch normalisation with the batch's own statistics, as in training:
    /// `y = scale·(x − μ)/√(σ² + ε) + shift` with μ and the biased variance σ² of each channel over
    /// N, H and W (PyTorch's normalisation).
    ///
    /// - `x`: activations `[N, C, H, W]`, float32 or float16, every element mapped.
    /// - `scale`, `shift`: `[C]`, both float32 or both float16.
    /// - `replicaGroup`: when given, the per-replica sums (``batchNormSums(_:name:)``) are
    ///   all-reduced over the group before use, so every replica normalises with the statistics
    ///   of the group's whole batch (distributed batch normalisation).
    /// - Returns `y` (type, shape and mapping of `x`) and the batch's `mean` and biased `variance`,
    ///   `[C]` float32.
    ///
    /// Statistics are one pass of Σx and Σx² (see docs/ops-cost.md for why), then
    /// `<name>/coefficients` and `<name>/normalise` as in ``batchNormInference(_:scale:shift:mean:variance:epsilon:name:)``.
    public func batchNormTraining(_ x: Tensor, scale: Tensor, shift: Tensor, epsilon: Float = 1e-5,
                                  replicaGroup: ReplicaGroup? = nil, name: String) throws(OpError) -> (y: Tensor, mean: Tensor, variance: Tensor) {
        let op = "batchNormTraining '\(name)'"
        let s = try checkNormActivations(x, op: op)
        let parameterType = try checkNormParameters(["scale": scale, "shift": shift], channels: s.c, op: op)
        try checkNormEpsilon(epsilon, op: op)
        var replicas = 1
        if let replicaGroup {
            replicas = replicaGroup.size ?? graph.replicas
            guard replicas >= 1, graph.replicas % replicas == 0 else {
                throw .badParameter(op: op, detail: "replica group of \(replicas) does not divide the graph's \(graph.replicas) replicas")
            }
        }
        var steps = NormSteps()
        let sums = try channelSums(x, s, name: "\(name)/sums", op: op, steps: &steps)
        if let replicaGroup { steps.programs.append(.allReduce([sums], .sum, group: replicaGroup)) }
        let inputs = [
            CoefficientInput(field: "sums", view: sums.flatten(), base: sums.flatten(), positions: { [2 * $0.lowerBound..<2 * $0.upperBound] }),
            CoefficientInput(field: "scale", view: scale, base: scale, positions: { [$0] }),
            CoefficientInput(field: "shift", view: shift, base: shift, positions: { [$0] }),
        ]
        let (a, b, mean, variance) = try normCoefficients(
            rows: s.c, over: x, source: .sums(count: s.n * s.plane * replicas), parameterType: parameterType, epsilon: epsilon,
            writesMoments: true, inputs: inputs, name: name, op: op, steps: &steps)
        let y = try normApply(x, rowLength: s.plane, a: a, b: b, name: name, op: op, steps: &steps)
        let distributed = replicaGroup == nil ? "" : ", sums all-reduced over \(replicas) replicas"
        try finishNorm(name, op: op, kind: "batchNormTraining", partition: "\(s.n)×\(s.c)×\(s.h)×\(s.w) where x lives, \(s.c) channels reduced in blocks\(distributed)", steps)
        return (y, mean!, variance!)
    }

    /// Σx and Σx² per channel of `x`, `[C, 2]` float32.
    private func channelSums(_ x: Tensor, _ s: NormShape, name: String, op: String, steps: inout NormSteps) throws(OpError) -> Tensor {
        let channels = s.c
        return try segmentReduction(x, rowLength: s.plane, statistics: channels, statisticOfRow: { $0 % channels },
                                    output: .sums, name: name, op: op, steps: &steps)
    }
}
