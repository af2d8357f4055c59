import TesseraGraph

extension OpBuilder {
    /// Softmax of `x` over its last axis, `e^(x − max) / Σ e^(x − max)` (the row maximum is
    /// subtracted first, so large logits do not overflow). Any shape `[…, C]`, float32 or float16
    /// (intermediates have `x`'s type; sums accumulate in float32). The result is mapped like `x`.
    /// Built from ``reduceMax(_:axes:keepDims:name:)``, ``subtract(_:_:name:)``, ``exp(_:name:)``,
    /// ``reduceSum(_:axes:keepDims:name:)`` and ``divide(_:_:name:)``: seven steps (the reductions take two each), each with its own plan,
    /// plus one plan of kind "softmax" summing their cycles.
    public func softmax(_ x: Tensor, name: String) throws(OpError) -> Tensor {
        try requireLastAxis(x, op: name)
        let first = plans.count
        let shifted = try shiftedByRowMax(x, name: name)
        let exponentials = try exp(shifted, name: "\(name)/exp")
        let sums = try reduceSum(exponentials, axes: [-1], keepDims: true, name: "\(name)/sum")
        let result = try divide(exponentials, sums, name: name)
        recordComposite(kind: "softmax", name: name, shape: x.shape, since: first)
        return result
    }

    /// Log-softmax of `x` over its last axis, `(x − max) − log Σ e^(x − max)`; shapes, types and
    /// mapping as ``softmax(_:name:)``.
    public func logSoftmax(_ x: Tensor, name: String) throws(OpError) -> Tensor {
        try requireLastAxis(x, op: name)
        let first = plans.count
        let shifted = try shiftedByRowMax(x, name: name)
        let exponentials = try exp(shifted, name: "\(name)/exp")
        let sums = try reduceSum(exponentials, axes: [-1], keepDims: true, name: "\(name)/sum")
        let logSums = try log(sums, name: "\(name)/logSum")
        let result = try subtract(shifted, logSums, name: name)
        recordComposite(kind: "logSoftmax", name: name, shape: x.shape, since: first)
        return result
    }

    private func shiftedByRowMax(_ x: Tensor, name: String) throws(OpError) -> Tensor {
        let maxima = try reduceMax(x, axes: [-1], keepDims: true, name: "\(name)/max")
        return try subtract(x, maxima, name: "\(name)/shifted")
    }

    func requireLastAxis(_ x: Tensor, op: String) throws(OpError) {
        try requireFloatingPoint(x, op: op)
        guard x.rank >= 1, x.elementCount > 0 else {
            throw .badParameter(op: op, detail: "needs a non-empty tensor with a last axis, got shape \(x.shape)")
        }
    }

    /// Records one plan summing the plans recorded since index `first` (the steps of a composite operation).
    func recordComposite(kind: String, name: String, shape: [Int], since first: Int) {
        let parts = plans[first...]
        record(OperationPlan(name: name, kind: kind,
                             partition: "\(shape) over the last axis in \(parts.count) operations: \(parts.map { $0.kind }.joined(separator: ", "))",
                             tilesUsed: parts.map { $0.tilesUsed }.max() ?? 0, modelledCycles: parts.reduce(0) { $0 + $1.modelledCycles },
                             temporaryBytesPerTile: parts.map { $0.temporaryBytesPerTile }.max() ?? 0))
    }
}
