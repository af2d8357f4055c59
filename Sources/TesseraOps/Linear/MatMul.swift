import TesseraGraph

extension OpBuilder {
    /// Matrix product `a · b`: `a [M, K]` (`[K, M]` with `transposeA`) times `b [K, N]` (`[N, K]` with
    /// `transposeB`) → new `[M, N]`; batched, `a [B, M, K]` × `b [B, K, N]` → `[B, M, N]`; or a batch
    /// against one matrix, `a [B, M, K]` × `b [K, N]` → `[B, M, N]` (the batch folded into the rows).
    ///
    /// Planned as poplin does, as a 1-D convolution with batch `M`, `B` conv groups of `K` input and
    /// `N` output channels, field and kernel 1 — by the same ``ConvPlanner`` as ``conv2d(_:weights:bias:parameters:activation:options:name:)``.
    /// Throws `shapeMismatch` for ranks or inner sizes that disagree, `typeMismatch` for non-float or mixed types.
    public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false,
                       options: OpOptions? = nil, name: String) throws(OpError) -> Tensor {
        guard (a.rank == 2 && b.rank == 2) || (a.rank == 3 && (b.rank == 2 || b.rank == 3)) else {
            throw .shapeMismatch(op: name, detail: "a \(a.shape) and b \(b.shape) must be matrices [M, K] · [K, N], batches [B, M, K] · [B, K, N] or [B, M, K] · [K, N]")
        }
        guard a.elementType == b.elementType, a.elementType == .float32 || a.elementType == .float16 else {
            throw .typeMismatch(op: name, detail: "a is \(a.elementType) and b is \(b.elementType); both must be float32 or both float16")
        }
        let oriented = try building(name) { () throws(GraphError) in
            (transposeA ? try a.transpose() : a, transposeB ? try b.transpose() : b)
        }
        let (k, n) = (oriented.0.shape[a.rank - 1], oriented.1.shape[b.rank - 1])
        guard oriented.1.shape[b.rank - 2] == k, a.rank == 2 || b.rank == 2 || a.shape[0] == b.shape[0] else {
            throw .shapeMismatch(op: name, detail: "a\(transposeA ? "ᵀ" : "") is \(oriented.0.shape), b\(transposeB ? "ᵀ" : "") is \(oriented.1.shape): "
                + "inner sizes or batches differ")
        }
        let resultShape = Array(oriented.0.shape.dropLast()) + [n]
        // As [batches, m, k] · [batches, k, n]: one batch when b is a single matrix (checked before anything divides by it).
        let batches = b.rank == 3 ? b.shape[0] : 1
        let m = batches > 0 ? oriented.0.shape.dropLast().reduce(1, *) / batches : 0
        guard batches > 0, m > 0, k > 0, n > 0 else {
            throw .shapeMismatch(op: name, detail: "empty matrix product of \(batches) batches of \(m)×\(k) · \(k)×\(n)")
        }
        let (left, right) = try building(name) { () throws(GraphError) in
            (try oriented.0.reshape([batches, m, k]), try oriented.1.reshape([batches, k, n]))
        }
        let parameters = ConvParameters.matrixProduct(m: m, k: k, n: n, groups: batches, elementType: a.elementType)
        let plan = try ConvPlanner.shared.plan(parameters, target: graph.target, options: options ?? self.options, op: name)
        let result = try building(name) { () throws(GraphError) in
            try buildConvolution(
                plan, input: left.dimShuffle([1, 0, 2]).reshape([m, batches, k, 1, 1]),
                weights: right.dimShuffle([0, 2, 1]).reshape([batches, n, k, 1, 1]), bias: nil, name: name)
                .reshape([m, batches, n]).dimShuffle([1, 0, 2]).reshape(resultShape)
        }
        record(OperationPlan(name: name, kind: "matmul", partition: plan.summary, tilesUsed: plan.tilesUsed,
                             modelledCycles: plan.totalCycles, temporaryBytesPerTile: plan.temporaryBytesPerTile))
        return result
    }

    /// A fully connected layer: `x [N, in]` · `weightsᵀ` with `weights [out, in]`, plus `bias [out]` if given → new `[N, out]`.
    ///
    /// A 1 × 1 convolution of `N` images with `in` input and `out` output channels, planned by ``ConvPlanner``.
    public func fullyConnected(_ x: Tensor, weights: Tensor, bias: Tensor? = nil, options: OpOptions? = nil,
                               name: String) throws(OpError) -> Tensor {
        guard x.rank == 2, weights.rank == 2, x.shape[1] == weights.shape[1] else {
            throw .shapeMismatch(op: name, detail: "x \(x.shape) must be [N, in] and weights \(weights.shape) [out, in] with the same in")
        }
        let (batch, inputs, outputs) = (x.shape[0], x.shape[1], weights.shape[0])
        let parameters = ConvParameters(batch: batch, inputChannels: inputs, outputChannels: outputs, inputField: [1, 1], kernel: [1, 1],
                                        elementType: x.elementType, hasBias: bias != nil)
        let (input, kernel) = try building(name) { () throws(GraphError) in
            (try x.reshape([batch, inputs, 1, 1]), try weights.reshape([outputs, inputs, 1, 1]))
        }
        let output = try convolution(input, weights: kernel, bias: bias, parameters: parameters, options: options,
                                     kind: "fullyConnected", name: name)
        return try building(name) { () throws(GraphError) in try output.reshape([batch, outputs]) }
    }
}
