import TesseraGraph

/// The fields of an element-wise operation's codelets by how many they have of each kind: the
/// codelets one operation adds (a vertex per tile) differ only in those counts (regions, or
/// fields of each operand), and building a codelet's fields names every one of them.
struct RegionFieldCache {
    private var fieldsByCounts: [[Int]: [Field]] = [:]

    /// The fields of `codelet`, whose field counts are `counts`.
    mutating func fields(of codelet: any Codelet, counts: [Int]) -> [Field] {
        if let fields = fieldsByCounts[counts] { return fields }
        let fields = codelet.fields
        fieldsByCounts[counts] = fields
        return fields
    }
}
