import TesseraGraph

/// The fields of an element-wise operation's codelets by region count: the codelets one
/// operation adds (a vertex per tile) differ only in how many regions they cover, and building
/// a codelet's fields names every one of them.
struct RegionFieldCache {
    private var fieldsByRegions: [Int: [Field]] = [:]

    /// The fields of `codelet`, which covers `regions` regions.
    mutating func fields(of codelet: any Codelet, regions: Int) -> [Field] {
        if let fields = fieldsByRegions[regions] { return fields }
        let fields = codelet.fields
        fieldsByRegions[regions] = fields
        return fields
    }
}
