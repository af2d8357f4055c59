import TesseraGraph

/// Sizes of an activation tensor laid out `[N, C, H, W]`.
struct NormShape {
    var n: Int, c: Int, h: Int, w: Int
    /// Elements of one channel plane, H·W.
    var plane: Int { h * w }
}

extension OpBuilder {
    /// Checks that `x` is a non-empty floating-point `[N, C, H, W]` tensor.
    func checkNormActivations(_ x: Tensor, op: String) throws(OpError) -> NormShape {
        guard x.rank == 4 else { throw .shapeMismatch(op: op, detail: "x must be [N, C, H, W], got shape \(x.shape)") }
        guard x.shape.allSatisfy({ $0 > 0 }) else { throw .shapeMismatch(op: op, detail: "x has an empty dimension: shape \(x.shape)") }
        guard x.elementType.isFloatingPoint else { throw .typeMismatch(op: op, detail: "x is \(x.elementType), expected float32 or float16") }
        return NormShape(n: x.shape[0], c: x.shape[1], h: x.shape[2], w: x.shape[3])
    }

    /// Checks that every named parameter is a `[channels]` vector, all of one floating-point
    /// type, and returns that type.
    func checkNormParameters(_ parameters: KeyValuePairs<String, Tensor>, channels: Int, op: String) throws(OpError) -> ElementType {
        let type = parameters.first!.value.elementType
        for (name, tensor) in parameters {
            guard tensor.shape == [channels] else {
                throw .shapeMismatch(op: op, detail: "\(name) has shape \(tensor.shape), expected [\(channels)] for x with \(channels) channels")
            }
            guard tensor.elementType.isFloatingPoint else { throw .typeMismatch(op: op, detail: "\(name) is \(tensor.elementType), expected float32 or float16") }
            guard tensor.elementType == type else {
                throw .typeMismatch(op: op, detail: "\(name) is \(tensor.elementType) but \(parameters.first!.key) is \(type); per-channel parameters must share one type")
            }
        }
        return type
    }

    /// Checks that `epsilon` is finite and not negative.
    func checkNormEpsilon(_ epsilon: Float, op: String) throws(OpError) {
        guard epsilon.isFinite, epsilon >= 0 else { throw .badParameter(op: op, detail: "epsilon \(epsilon) must be finite and ≥ 0") }
    }
}
