/// The element types a tensor can hold on a simulated tile.
///
/// `float16` is stored as IEEE binary16; codelets widen it to `Float` to compute, as the IPU's
/// accumulating matrix product (AMP) unit does.
public enum ElementType: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case float32
    case float16
    case int32
    case uint32
    case uint8

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .float32, .int32, .uint32: 4
        case .float16: 2
        case .uint8: 1
        }
    }

    /// True for the floating-point types.
    public var isFloatingPoint: Bool { self == .float32 || self == .float16 }

    public var description: String { rawValue }
}

/// A host scalar type that has a device element type, for typed reads and writes of tensors.
public protocol DeviceScalar: Sendable {
    /// The device element type stored for this host type.
    static var elementType: ElementType { get }
}

extension Float: DeviceScalar { public static var elementType: ElementType { .float32 } }
extension Float16: DeviceScalar { public static var elementType: ElementType { .float16 } }
extension Int32: DeviceScalar { public static var elementType: ElementType { .int32 } }
extension UInt32: DeviceScalar { public static var elementType: ElementType { .uint32 } }
extension UInt8: DeviceScalar { public static var elementType: ElementType { .uint8 } }
