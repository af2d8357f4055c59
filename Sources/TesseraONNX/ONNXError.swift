/// Errors of importing an ONNX model: each says what is wrong and where.
public enum ONNXError: Error, Equatable, CustomStringConvertible {
    /// The bytes are not a protobuf-encoded ONNX model (truncated, corrupt, or another format).
    case notONNX(detail: String)
    /// The model uses operators Tessera does not map; every one is listed with its node.
    case unsupportedOperators([(opType: String, node: String)])
    /// An operator is supported but not with these attributes or inputs.
    case unsupportedAttribute(node: String, detail: String)
    /// The model is well-formed protobuf but not a model Tessera can run.
    case badModel(detail: String)

    public static func == (a: ONNXError, b: ONNXError) -> Bool { a.description == b.description }

    public var description: String {
        switch self {
        case let .notONNX(detail): "not an ONNX model: \(detail)"
        case let .unsupportedOperators(list):
            "unsupported ONNX operators: " + list.map { "\($0.opType) (node '\($0.node)')" }.joined(separator: ", ")
        case let .unsupportedAttribute(node, detail): "ONNX node '\(node)': \(detail)"
        case let .badModel(detail): "ONNX model: \(detail)"
        }
    }
}
