import TesseraGraph

/// Errors of building operations: each names the operation and the offending sizes.
public enum OpError: Error, CustomStringConvertible {
    /// Operand shapes do not agree.
    case shapeMismatch(op: String, detail: String)
    /// Operand element types do not agree or are not supported.
    case typeMismatch(op: String, detail: String)
    /// A parameter (stride, padding, groups, axis, …) is invalid.
    case badParameter(op: String, detail: String)
    /// No plan fits the operation's temporary-memory budget; names the best plan found and its needs.
    case doesNotFit(op: String, neededBytes: Int, availableBytes: Int, bestPlan: String)
    /// Building the graph failed.
    case graph(op: String, GraphError)

    public var description: String {
        switch self {
        case let .shapeMismatch(op, detail): "\(op): shape mismatch: \(detail)"
        case let .typeMismatch(op, detail): "\(op): type mismatch: \(detail)"
        case let .badParameter(op, detail): "\(op): bad parameter: \(detail)"
        case let .doesNotFit(op, needed, available, plan):
            "\(op): no plan fits: the best plan (\(plan)) needs \(needed) bytes of temporary memory per tile, the budget is \(available)"
        case let .graph(op, error): "\(op): \(error)"
        }
    }
}
