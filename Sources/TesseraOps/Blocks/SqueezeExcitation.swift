import TesseraGraph

extension OpBuilder {
    /// Squeeze-and-excitation (Hu et al., as in EfficientNet's MBConv blocks): `x [N, C, H, W]` scaled per
    /// channel by `sigmoid(W2 · silu(W1 · mean_HW(x) + b1) + b2)`, with `reduceWeights [S, C]`,
    /// `reduceBias [S]`, `expandWeights [C, S]`, `expandBias [C]`. Composed from global average
    /// pooling, two fully connected layers, SiLU, sigmoid and a broadcast multiply.
    public func squeezeExcitation(_ x: Tensor, reduceWeights: Tensor, reduceBias: Tensor, expandWeights: Tensor,
                                  expandBias: Tensor, name: String) throws(OpError) -> Tensor {
        guard x.rank == 4, reduceWeights.rank == 2, expandWeights.rank == 2,
              reduceWeights.shape[1] == x.shape[1], expandWeights.shape == [x.shape[1], reduceWeights.shape[0]],
              reduceBias.shape == [reduceWeights.shape[0]], expandBias.shape == [x.shape[1]] else {
            throw .shapeMismatch(op: name, detail: "x \(x.shape), reduce \(reduceWeights.shape) + \(reduceBias.shape), "
                                 + "expand \(expandWeights.shape) + \(expandBias.shape); expected [N, C, H, W], [S, C] + [S], [C, S] + [C]")
        }
        let pooled = try globalAveragePool(x, name: "\(name)/squeeze")
        let reduced = try silu(try fullyConnected(pooled, weights: reduceWeights, bias: reduceBias, name: "\(name)/reduce"), name: "\(name)/silu")
        let gate = try sigmoid(try fullyConnected(reduced, weights: expandWeights, bias: expandBias, name: "\(name)/expand"), name: "\(name)/gate")
        let scale = try building(name) { () throws(GraphError) in try gate.reshape([x.shape[0], x.shape[1], 1, 1]) }
        return try multiply(x, scale, name: "\(name)/scale")
    }
}
