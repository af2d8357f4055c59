/// How a vertex field uses the tensor region connected to it.
public enum FieldDirection: String, Sendable, Codable {
    /// Read only.
    case input
    /// Written only; its previous contents are not read.
    case output
    /// Read and written.
    case inOut

    /// True when the vertex reads the region.
    public var reads: Bool { self != .output }
    /// True when the vertex writes the region.
    public var writes: Bool { self != .input }
}

/// One field of a codelet: a named connection to a tensor region of a given element type.
public struct Field: Sendable, Hashable {
    /// Name used in `addVertex` connections and in error messages.
    public var name: String
    /// Whether the vertex reads, writes or updates the region.
    public var direction: FieldDirection
    /// Element type the region must have.
    public var elementType: ElementType
    /// A scalar field must be connected to exactly one element.
    public var isScalar: Bool

    /// A field with every property given.
    public init(_ name: String, _ direction: FieldDirection, _ elementType: ElementType, isScalar: Bool = false) {
        self.name = name
        self.direction = direction
        self.elementType = elementType
        self.isScalar = isScalar
    }

    /// A vector field the vertex reads.
    public static func input(_ name: String, _ type: ElementType) -> Field { Field(name, .input, type) }
    /// A vector field the vertex writes.
    public static func output(_ name: String, _ type: ElementType) -> Field { Field(name, .output, type) }
    /// A vector field the vertex reads and writes.
    public static func inOut(_ name: String, _ type: ElementType) -> Field { Field(name, .inOut, type) }
    /// A one-element field.
    public static func scalar(_ name: String, _ direction: FieldDirection, _ type: ElementType) -> Field {
        Field(name, direction, type, isScalar: true)
    }
}

/// A kind of vertex: the code one worker context runs on one tile, with its fields, its cycle
/// estimate and its memory cost.
///
/// A codelet value is the vertex's state: `Scale(factor: 2)` carries its factor. `compute` may
/// read and write only its fields; each field is a contiguous buffer in the vertex's tile memory.
public protocol Codelet: Sendable {
    /// Name shown in reports; codelets with one name share code on a tile.
    var name: String { get }
    /// The fields, in the order `compute` addresses them by index.
    var fields: [Field] { get }
    /// Bytes of machine code this codelet needs once on every tile that runs it.
    var codeBytes: Int { get }
    /// Bytes of vertex state beyond the field descriptors (constant parameters).
    var stateBytes: Int { get }
    /// A description of what is wrong with these field sizes (elements per field), or nil if they are valid.
    func sizeProblem(fieldSizes: [Int]) -> String?
    /// Modelled cycles of one worker context running this vertex with these field sizes.
    func estimateCycles(fieldSizes: [Int], target: Target) -> Int
    /// Runs the vertex.
    func compute(_ fields: VertexFields)
}

extension Codelet {
    public var name: String { String(describing: Self.self) }
    public var codeBytes: Int { 256 }
    public var stateBytes: Int { 0 }
    public func sizeProblem(fieldSizes: [Int]) -> String? { nil }
}

/// Where a field's region sits in its tile's memory: byte offset and element count, held in
/// 32 bits each (a tile's memory is addressed in 32 bits; a model has millions of slots).
public struct FieldSlot: Sendable, Hashable {
    @usableFromInline let storedOffset: Int32
    @usableFromInline let storedCount: Int32

    /// Byte offset in the tile's memory.
    @inlinable public var offset: Int { Int(storedOffset) }
    /// Elements in the region.
    @inlinable public var count: Int { Int(storedCount) }

    /// A slot at `offset` holding `count` elements (both below 2³¹).
    public init(offset: Int, count: Int) {
        storedOffset = Int32(offset)
        storedCount = Int32(count)
    }
}

/// The fields of one running vertex, as buffers in its tile's memory.
public struct VertexFields {
    @usableFromInline let memory: UnsafeMutableRawPointer
    @usableFromInline let slots: UnsafePointer<FieldSlot>

    /// Fields of a vertex whose tile memory starts at `memory`, with one slot per field.
    package init(memory: UnsafeMutableRawPointer, slots: UnsafePointer<FieldSlot>) {
        self.memory = memory
        self.slots = slots
    }

    /// Elements connected to field `field`.
    @inlinable public func count(_ field: Int) -> Int { slots[field].count }

    /// Field `field` for reading.
    @inlinable public func input<T: DeviceScalar>(_ field: Int, as type: T.Type = T.self) -> UnsafeBufferPointer<T> {
        UnsafeBufferPointer(output(field, as: type))
    }

    /// Field `field` for writing (outputs and in-outs).
    @inlinable public func output<T: DeviceScalar>(_ field: Int, as type: T.Type = T.self) -> UnsafeMutableBufferPointer<T> {
        let slot = slots[field]
        return UnsafeMutableBufferPointer(
            start: (memory + slot.offset).bindMemory(to: T.self, capacity: slot.count), count: slot.count)
    }

    /// The value of a one-element field.
    @inlinable public func scalar<T: DeviceScalar>(_ field: Int, as type: T.Type = T.self) -> T {
        (memory + slots[field].offset).load(as: T.self)
    }

    /// Stores the value of a one-element field.
    @inlinable public func setScalar<T: DeviceScalar>(_ field: Int, _ value: T) {
        (memory + slots[field].offset).storeBytes(of: value, as: T.self)
    }
}
