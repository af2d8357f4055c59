import TesseraGraph

/// Several worker shares of one tile, each described by its own codelet, run as ONE vertex (as
/// poplibs' MultiVertex codelets): the fields are every part's fields in turn (part `k`'s field
/// `f` is named `f.<k>`), and the parts are the work of the tile's worker contexts. The estimate is
/// the slowest worker's: the parts' estimates list-scheduled longest first onto the least-loaded
/// of `workerContexts` workers.
struct MultiVertexCodelet<Part: Codelet>: Codelet {
    /// The shares, in field order; all of one kind (they share a name and code).
    var parts: [Part]

    var name: String { parts.first?.name ?? "multiVertex" }
    var fields: [Field] {
        parts.enumerated().flatMap { k, part in
            part.fields.map { Field("\($0.name).\(k)", $0.direction, $0.elementType, isScalar: $0.isScalar) }
        }
    }
    var codeBytes: Int { parts.first?.codeBytes ?? 256 }
    var stateBytes: Int { parts.reduce(0) { $0 + $1.stateBytes } }

    func sizeProblem(fieldSizes: [Int]) -> String? {
        var first = 0
        for (k, part) in parts.enumerated() {
            let count = part.fields.count
            if let problem = part.sizeProblem(fieldSizes: Array(fieldSizes[first..<(first + count)])) { return "part \(k): \(problem)" }
            first += count
        }
        return nil
    }

    func estimateCycles(fieldSizes: [Int], target: Target) -> Int {
        var first = 0, cycles: [Int] = []
        for part in parts {
            let count = part.fields.count
            cycles.append(part.estimateCycles(fieldSizes: Array(fieldSizes[first..<(first + count)]), target: target))
            first += count
        }
        return slowestWorkerCycles(cycles, contexts: target.workerContexts)
    }

    func compute(_ fields: VertexFields) {
        var first = 0
        for part in parts {
            let count = part.fields.count
            let starts = (0..<count).map { UnsafeMutableRawPointer(fields.output(first + $0, as: UInt8.self).baseAddress!) }
            let memory = starts.min() ?? UnsafeMutableRawPointer(fields.output(first, as: UInt8.self).baseAddress!)
            let slots = (0..<count).map { FieldSlot(offset: starts[$0] - memory, count: fields.count(first + $0)) }
            slots.withUnsafeBufferPointer { part.compute(VertexFields(memory: memory, slots: $0.baseAddress!)) }
            first += count
        }
    }
}

extension OpBuilder {
    /// Adds one ``MultiVertexCodelet`` per tile to `computeSet`, from per-share `parts` with their
    /// connections (field name → tensor) on their tiles, in order; returns each tile's vertex
    /// estimate (worker-context cycles).
    func addMultiVertices<Part: Codelet>(_ computeSet: ComputeSet, _ parts: [(tile: Int, codelet: Part, connections: [String: Tensor])],
                                         name: String) throws(OpError) -> [(tile: Int, cycles: Int)] {
        var order: [Int] = [], byTile: [Int: [Int]] = [:]
        for (index, part) in parts.enumerated() {
            if byTile[part.tile] == nil { order.append(part.tile) }
            byTile[part.tile, default: []].append(index)
        }
        var estimates: [(tile: Int, cycles: Int)] = []
        for tile in order {
            let members = byTile[tile]!
            let codelet = MultiVertexCodelet(parts: members.map { parts[$0].codelet })
            var connections: [String: Tensor] = [:], sizes: [Int] = []
            for (k, index) in members.enumerated() {
                for field in parts[index].codelet.fields {
                    let tensor = parts[index].connections[field.name]!
                    connections["\(field.name).\(k)"] = tensor
                    sizes.append(tensor.elementCount)
                }
            }
            _ = try building(name) { () throws(GraphError) in try graph.addVertex(computeSet, codelet, tile: tile, connections) }
            estimates.append((tile, codelet.estimateCycles(fieldSizes: sizes, target: graph.target)))
        }
        return estimates
    }
}
