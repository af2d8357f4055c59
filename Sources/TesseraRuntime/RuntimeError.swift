import TesseraGraph
import TesseraHost

/// Errors of loading and running an executable, and of moving data between it and the host.
public enum RuntimeError: Error, CustomStringConvertible {
    /// The host platform refused threads, pinning or memory.
    case host(HostError)
    /// A tensor or stream of another graph was passed to the engine.
    case foreignObject(kind: String, name: String)
    /// The tensor's memory is reused by the program, so the host cannot read or write it between runs.
    case notHostVisible(tensor: String)
    /// The tensor has no memory: it is not used by any program and not mapped.
    case notPlaced(tensor: String)
    /// Host data does not match the tensor or stream in type or size.
    case sizeMismatch(object: String, detail: String)
    /// A stream the program uses has no host buffer connected.
    case streamNotConnected(stream: String)
    /// There is no program with this index.
    case noSuchProgram(index: Int, count: Int)

    public var description: String {
        switch self {
        case let .host(error): error.description
        case let .foreignObject(kind, name): "\(kind) '\(name)' belongs to another graph than the executable's"
        case let .notHostVisible(tensor):
            "tensor '\(tensor)' is not always live (its memory is reused between steps); call graph.makeHostVisible on it before compiling"
        case let .notPlaced(tensor): "tensor '\(tensor)' has no memory: no program uses it and it is not mapped"
        case let .sizeMismatch(object, detail): "\(object): \(detail)"
        case let .streamNotConnected(stream): "stream '\(stream)' is used by the program but not connected"
        case let .noSuchProgram(index, count): "no program \(index): the executable has \(count)"
        }
    }
}
