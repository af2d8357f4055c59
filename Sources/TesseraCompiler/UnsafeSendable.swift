/// A value handed to concurrent work that only touches disjoint parts of it.
struct UnsafeSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
