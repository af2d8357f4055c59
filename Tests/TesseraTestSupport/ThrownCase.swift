/// The case name of the enum error `body` throws (`"shapeMismatch"` for `GraphError.shapeMismatch(…)`),
/// `"no error"` when it returns, so that a test can say which error it expects and a wrong case or a
/// silent success shows in the failure.
public func thrownCase(_ body: () throws -> Any) -> String {
    do {
        _ = try body()
        return "no error"
    } catch {
        return Mirror(reflecting: error).children.first?.label ?? "\(error)"
    }
}
