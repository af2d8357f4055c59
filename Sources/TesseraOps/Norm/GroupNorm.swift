import TesseraGraph

extension OpBuilder {
    /// Group normalisation: the channels of each sample are split into `groups` consecutive groups
    /// of C/groups channels, and `y = scale[c]·(x − μ)/√(σ² + ε) + shift[c]` with μ and the biased
    /// variance σ² of each (sample, group) over its channels, H and W (PyTorch's `GroupNorm`).
    ///
    /// - `x`: activations `[N, C, H, W]`, float32 or float16, every element mapped.
    /// - `groups`: divides C; 1 is layer normalisation over (C, H, W), C is instance normalisation.
    /// - `scale`, `shift`: `[C]`, both float32 or both float16.
    /// - `activation`: when given, applied to `y` in the same step, as in
    ///   ``batchNormInference(_:scale:shift:mean:variance:epsilon:activation:name:)``.
    /// - Returns `y`, of the type, shape and tile mapping of `x`.
    ///
    /// Four steps: partial Σx, Σx² of every piece of `x` on its own tile, their reduction per
    /// (sample, group), the `[N, C]` float32 coefficients `a = scale/√(σ² + ε)`, `b = shift − μ·a`
    /// spread in blocks, and `y = a·x + b` where `x` lives.
    public func groupNorm(_ x: Tensor, groups: Int, scale: Tensor, shift: Tensor, epsilon: Float = 1e-5, activation: Activation? = nil,
                          name: String) throws(OpError) -> Tensor {
        let op = "groupNorm '\(name)'"
        let s = try checkNormActivations(x, op: op)
        guard groups >= 1, s.c % groups == 0 else {
            throw .badParameter(op: op, detail: "\(groups) groups do not divide the \(s.c) channels of x \(x.shape)")
        }
        let parameterType = try checkNormParameters(["scale": scale, "shift": shift], channels: s.c, op: op)
        try checkNormEpsilon(epsilon, op: op)
        let perGroup = s.c / groups
        var steps = NormSteps()
        let sums = try segmentReduction(x, rowLength: perGroup * s.plane, statistics: s.n * groups, statisticOfRow: { $0 },
                                        output: .sums, name: "\(name)/sums", op: op, steps: &steps)
        let (sumRows, scaleRows, shiftRows) = try building(op) { () throws(GraphError) in
            (try sums.reshape([s.n, groups, 1, 2]).broadcast(to: [s.n, groups, perGroup, 2]).flatten(),
             try scale.broadcast(to: [s.n, s.c]).flatten(), try shift.broadcast(to: [s.n, s.c]).flatten())
        }
        let channels = s.c
        let inputs = [
            CoefficientInput(field: "sums", view: sumRows, base: sums.flatten(),
                             positions: { [2 * ($0.lowerBound / perGroup)..<2 * (($0.upperBound - 1) / perGroup + 1)] }),
            CoefficientInput(field: "scale", view: scaleRows, base: scale, positions: { CoefficientInput.wrapped($0, modulo: channels) }),
            CoefficientInput(field: "shift", view: shiftRows, base: shift, positions: { CoefficientInput.wrapped($0, modulo: channels) }),
        ]
        let (a, b, _, _) = try normCoefficients(
            rows: s.n * s.c, over: x, source: .sums(count: perGroup * s.plane), parameterType: parameterType, epsilon: epsilon,
            writesMoments: false, inputs: inputs, name: name, op: op, steps: &steps)
        let y = try normApply(x, rowLength: s.plane, a: a, b: b, activation: activation, name: name, op: op, steps: &steps)
        try finishNorm(name, op: op, kind: "groupNorm",
                       partition: "\(s.n)×\(s.c)×\(s.h)×\(s.w) where x lives, \(s.n)×\(groups) groups reduced in blocks\(activationNote(activation))", steps)
        return y
    }
}
