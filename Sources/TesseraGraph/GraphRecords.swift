/// A half-open interval of flat element indices mapped to one tile.
public struct TileInterval: Sendable, Hashable, Codable {
    /// First element.
    public var begin: Int
    /// One past the last element.
    public var end: Int
    /// The tile holding the elements.
    public var tile: Int

    /// Elements `begin..<end` on `tile`.
    public init(begin: Int, end: Int, tile: Int) {
        self.begin = begin
        self.end = end
        self.tile = tile
    }

    /// Number of elements.
    public var count: Int { end - begin }
}

/// The storage behind tensors: one variable or constant, with its tile mapping as assigned.
package struct DataRecord: Sendable {
    package let name: String
    package let elementType: ElementType
    package let shape: [Int]
    /// Bytes of the initial value, for constants.
    package let constantBytes: [UInt8]?
    /// Mapping assignments in call order; a later one wins where two overlap.
    package var assignedMapping: [TileInterval] = []
    /// The host reads or writes this variable between runs, so it stays live.
    package var hostVisible = false
    /// Holds the replica index, written by the engine into each replica.
    package var isReplicaIndex = false
    /// For a replica-sharded variable: the element count of the whole tensor its shards make up.
    package var shardOfElements: Int?
    /// Why the shape asked for could not be made (a negative size, or more elements than a
    /// variable can address); the variable is then empty and compiling the graph fails.
    package var shapeProblem: String?

    package var elementCount: Int { shape.reduce(1, *) }
    package var isConstant: Bool { constantBytes != nil || isReplicaIndex }
}

/// One vertex: its codelet value, its tile and its connections in field order.
package struct VertexRecord: Sendable {
    package let codelet: any Codelet
    package let tile: Int
    package let computeSet: Int
    /// The elements of the tensor connected to each field (its element type is the field's, as
    /// checked when the vertex was added; its shape is not needed once connected).
    package let connections: [ElementRunList]
}

/// A handle to a vertex added to a graph.
public struct Vertex: Sendable, Hashable {
    package let graphID: Int
    /// Index of the vertex in its graph.
    public let index: Int
}
