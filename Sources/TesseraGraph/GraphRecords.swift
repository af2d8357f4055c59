/// A half-open interval of flat element indices mapped to one tile. Held in 32 bits a field
/// (element indices stay below ``Graph/maximumElementsPerVariable``): a large model's graph and
/// executable hold millions of them.
public struct TileInterval: Sendable, Hashable, Codable {
    private var storedBegin: Int32, storedEnd: Int32, storedTile: Int32

    /// First element.
    public var begin: Int {
        get { Int(storedBegin) }
        set { storedBegin = Int32(newValue) }
    }
    /// One past the last element.
    public var end: Int {
        get { Int(storedEnd) }
        set { storedEnd = Int32(newValue) }
    }
    /// The tile holding the elements.
    public var tile: Int {
        get { Int(storedTile) }
        set { storedTile = Int32(newValue) }
    }

    /// Elements `begin..<end` on `tile`.
    public init(begin: Int, end: Int, tile: Int) {
        (storedBegin, storedEnd, storedTile) = (Int32(begin), Int32(end), Int32(tile))
    }

    /// Number of elements.
    public var count: Int { end - begin }

    private enum CodingKeys: String, CodingKey { case begin, end, tile }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(begin: try container.decode(Int.self, forKey: .begin), end: try container.decode(Int.self, forKey: .end),
                  tile: try container.decode(Int.self, forKey: .tile))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(begin, forKey: .begin)
        try container.encode(end, forKey: .end)
        try container.encode(tile, forKey: .tile)
    }
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

/// One vertex: its codelet value, its tile and where its connections are stored.
///
/// A large graph has millions of vertices, so a record holds no per-vertex arrays: its
/// connections are a range of the graph's ``Graph/connections`` table, whose element runs sit
/// in one array shared by every vertex (``Graph/connectionRuns``).
package struct VertexRecord: Sendable {
    package let codelet: any Codelet
    private let storedTile: Int32
    private let storedComputeSet: Int32
    private let storedFirstConnection: Int32
    private let storedConnectionCount: Int32
    private let storedEstimate: Int32

    /// A vertex whose codelet's estimate for its field sizes is `estimatedCycles` (nil when not
    /// computed yet, or beyond 32 bits).
    package init(codelet: any Codelet, tile: Int, computeSet: Int, connections: Range<Int>, estimatedCycles: Int?) {
        self.codelet = codelet
        storedTile = Int32(tile)
        storedComputeSet = Int32(computeSet)
        storedFirstConnection = Int32(connections.lowerBound)
        storedConnectionCount = Int32(connections.count)
        storedEstimate = estimatedCycles.flatMap { Int32(exactly: $0) } ?? -1
    }

    /// The tile running the vertex.
    package var tile: Int { Int(storedTile) }
    /// Index of the vertex's compute set in its graph.
    package var computeSet: Int { Int(storedComputeSet) }
    /// Indices in ``Graph/connections`` of the connection of each field, in field order.
    package var connections: Range<Int> {
        Int(storedFirstConnection)..<(Int(storedFirstConnection) + Int(storedConnectionCount))
    }
    /// The codelet's modelled cycles for the vertex's field sizes, when computed as it was added.
    package var estimatedCycles: Int? { storedEstimate < 0 ? nil : Int(storedEstimate) }
}

/// The elements connected to one vertex field: a range of ``Graph/connectionRuns``, the
/// number of view positions they cover and what the compiler needs of the field (the tensor's
/// element type is the field's, as checked when the vertex was added; its shape is not needed
/// once connected). Held in 32 bits a field, so that compiling never asks the codelet for its
/// fields again (their names are built on every call).
package struct Connection: Sendable {
    private let storedFirstRun: Int32
    /// The run count in the low 24 bits; above it the field's direction (2 bits), scalar flag,
    /// element bytes (3 bits) and whether `storedFirstRun` is a view's index.
    private let storedRunsAndField: UInt32
    private let storedCount: Int32

    /// Most runs one connection can hold: a field's runs never outnumber the elements its tile
    /// holds or buffers.
    package static let maximumRuns = 1 << 24

    /// The connection of `field` to `runs`, covering `count` view positions (`runs.count` at most ``maximumRuns``).
    package init(runs: Range<Int>, count: Int, field: Field) {
        storedFirstRun = Int32(runs.lowerBound)
        storedRunsAndField = UInt32(runs.count) | Self.fieldBits(field)
        storedCount = Int32(count)
    }

    /// The connection of `field` to view `view` of ``Graph/connectionViews``, covering `count` positions.
    package init(view: Int, count: Int, field: Field) {
        storedFirstRun = Int32(view)
        storedRunsAndField = 1 << 30 | Self.fieldBits(field)
        storedCount = Int32(count)
    }

    /// Direction, scalar flag and element bytes, above the run count.
    private static func fieldBits(_ field: Field) -> UInt32 {
        let direction: UInt32 = switch field.direction {
        case .input: 0
        case .output: 1
        case .inOut: 2
        }
        return direction << 24 | (field.isScalar ? 1 : 0) << 26 | UInt32(field.elementType.byteSize) << 27
    }

    /// Indices of the connection's runs in ``Graph/connectionRuns`` (empty for a view).
    package var runs: Range<Int> {
        Int(storedFirstRun)..<(Int(storedFirstRun) + Int(storedRunsAndField & 0xFF_FFFF))
    }
    /// The index of the connection's view in ``Graph/connectionViews``, or nil when it holds runs.
    package var view: Int? { storedRunsAndField >> 30 & 1 == 1 ? Int(storedFirstRun) : nil }
    /// How the field uses its elements.
    package var direction: FieldDirection {
        switch storedRunsAndField >> 24 & 3 {
        case 0: .input
        case 1: .output
        default: .inOut
        }
    }
    /// True for a one-element field.
    package var isScalar: Bool { storedRunsAndField >> 26 & 1 == 1 }
    /// Bytes per element of the field.
    package var elementBytes: Int { Int(storedRunsAndField >> 27 & 7) }
    /// Number of view positions (elements, counting a repeated one each time).
    package var count: Int { Int(storedCount) }
}

/// The elements of a field connected to a box of a tensor, kept as the box rather than as its
/// runs (a convolution's input window is hundreds of runs a vertex): the positions
/// `offset + Σ i[d] · strides[d]` of `elements` for `i` over `shape`.
package struct ConnectionView: Sendable {
    /// The most dimensions a box has (a convolution's boxes have five).
    package static let maximumRank = 6
    package let elements: ElementRunList
    package let offset: Int
    /// Sizes and then strides, `rank` of each, inline: a model has hundreds of thousands of boxes,
    /// and two arrays apiece would take more memory than the boxes themselves.
    private let dimensions: InlineArray<12, Int32>
    private let rank: Int

    /// The ``Key`` of the box `box` (a range per dimension, at most ``maximumRank``; sizes and
    /// strides below 2³¹, as element indices are) of a row-major tensor of `shape` over
    /// `elements`: what a graph looks up before it makes a view, as most boxes of a convolution
    /// repeat one already connected.
    package static func key(of box: [Range<Int>], shape: [Int], elements: ElementRunList) -> Key {
        precondition(box.count == shape.count && box.count <= maximumRank, "box of rank \(box.count)")
        var dimensions = InlineArray<12, Int32>(repeating: 0)
        var offset = 0, stride = 1
        for d in box.indices.reversed() {
            dimensions[d] = Int32(box[d].count)
            dimensions[maximumRank + d] = Int32(stride)
            offset += box[d].lowerBound * stride
            stride *= shape[d]
        }
        return Key(elements: ObjectIdentifier(elements), offset: offset, dimensions: dimensions)
    }

    /// The view a ``key(of:shape:elements:)`` of rank `rank` over `elements` describes.
    package init(elements: ElementRunList, rank: Int, key: Key) {
        self.elements = elements
        offset = key.offset
        dimensions = key.dimensions
        self.rank = rank
    }

    /// What tells two boxes apart: the run list (by identity, which the view keeps alive), the
    /// offset, and the sizes and strides.
    package struct Key: Hashable {
        let elements: ObjectIdentifier
        let offset: Int
        let dimensions: InlineArray<12, Int32>

        package static func == (a: Key, b: Key) -> Bool {
            guard a.elements == b.elements, a.offset == b.offset else { return false }
            for d in a.dimensions.indices where a.dimensions[d] != b.dimensions[d] { return false }
            return true
        }

        package func hash(into hasher: inout Hasher) {
            hasher.combine(elements)
            hasher.combine(offset)
            // The sizes and strides in one call (unused dimensions are zero).
            withUnsafeBytes(of: dimensions) { hasher.combine(bytes: $0) }
        }
    }

    /// The box's ``Key`` (unused dimensions are zero in every box).
    package var key: Key { Key(elements: ObjectIdentifier(elements), offset: offset, dimensions: dimensions) }

    /// The box's size along each dimension.
    package var shape: [Int] { (0..<rank).map { Int(dimensions[$0]) } }
    /// The element stride of each dimension.
    package var strides: [Int] { (0..<rank).map { Int(dimensions[Self.maximumRank + $0]) } }
}

/// A handle to a vertex added to a graph.
public struct Vertex: Sendable, Hashable {
    package let graphID: Int
    /// Index of the vertex in its graph.
    public let index: Int
}
