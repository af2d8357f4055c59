import TesseraGraph

extension OpBuilder {
    /// The mean of every channel plane: `[N, C, H, W]` → `[N, C]` (not `[N, C, 1, 1]`; reshape
    /// the result for that), of `x`'s type, float32 or float16, accumulated in float32.
    ///
    /// Two steps: every piece of `x` sums its plane runs on its own tile, then each plane's partial
    /// sums are gathered onto one tile (planes spread in blocks over the tiles holding `x`), added
    /// and divided by H·W.
    public func globalAveragePool(_ x: Tensor, name: String) throws(OpError) -> Tensor {
        let op = "globalAveragePool '\(name)'"
        let s = try checkNormActivations(x, op: op)
        var steps = NormSteps()
        let means = try segmentReduction(x, rowLength: s.plane, statistics: s.n * s.c, statisticOfRow: { $0 },
                                         output: .mean(scale: 1 / Float(s.plane), type: x.elementType), name: name, op: op, steps: &steps)
        try finishNorm(name, op: op, kind: "globalAveragePool", partition: "\(s.n)×\(s.c) planes of \(s.h)×\(s.w) summed where x lives, reduced in blocks", steps)
        return try building(op) { () throws(GraphError) in try means.reshape([s.n, s.c]) }
    }
}
