/// Errors found while building a graph: every message names the operation or object and the sizes involved.
public enum GraphError: Error, Equatable, CustomStringConvertible {
    /// A tensor view operation was given shapes that do not agree.
    case shapeMismatch(operation: String, detail: String)
    /// An index, range or dimension lies outside the tensor.
    case indexOutOfRange(operation: String, detail: String)
    /// An element type differs from the one required.
    case elementTypeMismatch(context: String, expected: ElementType, actual: ElementType)
    /// A tile index is outside the target's tiles.
    case tileOutOfRange(object: String, tile: Int, tiles: Int)
    /// A vertex field was left unconnected, connected twice, or does not exist on the codelet.
    case badConnection(vertex: String, field: String, detail: String)
    /// A tensor, compute set or stream of another graph was used.
    case foreignObject(kind: String, name: String)
    /// A constant's values do not match its shape.
    case badConstant(name: String, detail: String)
    /// A name is used twice where names must be unique.
    case duplicateName(kind: String, name: String)

    public var description: String {
        switch self {
        case let .shapeMismatch(operation, detail): "\(operation): shape mismatch: \(detail)"
        case let .indexOutOfRange(operation, detail): "\(operation): out of range: \(detail)"
        case let .elementTypeMismatch(context, expected, actual): "\(context): expected \(expected) elements, got \(actual)"
        case let .tileOutOfRange(object, tile, tiles): "\(object): tile \(tile) is out of range (the target has tiles 0..<\(tiles))"
        case let .badConnection(vertex, field, detail): "vertex \(vertex), field '\(field)': \(detail)"
        case let .foreignObject(kind, name): "\(kind) '\(name)' belongs to another graph"
        case let .badConstant(name, detail): "constant '\(name)': \(detail)"
        case let .duplicateName(kind, name): "\(kind) name '\(name)' is already used in this graph"
        }
    }
}
