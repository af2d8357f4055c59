import Foundation

/// Errors of building and writing reports: each names the file or object and says why.
public enum ProfileError: Error, CustomStringConvertible, Equatable {
    /// The report directory could not be created (for example, a regular file is in its path).
    case cannotCreateDirectory(path: String, reason: String)
    /// A report file could not be written.
    case cannotWriteFile(path: String, reason: String)
    /// A report could not be encoded as JSON (for example, a non-finite number).
    case cannotEncode(file: String, reason: String)
    /// The execution record was not produced by running the executable it is reported with.
    case recordMismatch(detail: String)
    /// A report was asked for fewer than one replica.
    case badReplicaCount(Int)

    /// What failed, naming the file or object, and why.
    public var description: String {
        switch self {
        case let .cannotCreateDirectory(path, reason): "cannot create report directory '\(path)': \(reason)"
        case let .cannotWriteFile(path, reason): "cannot write report file '\(path)': \(reason)"
        case let .cannotEncode(file, reason): "cannot encode \(file) as JSON: \(reason)"
        case let .recordMismatch(detail): "the execution record does not belong to the executable: \(detail)"
        case let .badReplicaCount(count): "a memory report needs at least one replica, got \(count)"
        }
    }

    /// The operating system's words for a Foundation file error: the POSIX message when there is one.
    static func reason(_ error: any Error) -> String {
        if let posix = error as? POSIXError { return String(cString: strerror(posix.code.rawValue)) }
        let nsError = error as NSError
        if nsError.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(nsError.code))) }
        // Foundation wraps the system's error as the underlying error of a Cocoa one.
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? any Error { return reason(underlying) }
        return nsError.localizedDescription
    }
}
