import Foundation

/// An array in NumPy's `.npy` format (version 1–3, little-endian, C order): the format users
/// exchange inputs and outputs in. Values are held as float32.
public struct NumPyArray: Sendable, Equatable {
    /// Dimensions, outermost first.
    public var shape: [Int]
    /// Values in row-major order.
    public var values: [Float]

    /// An array of `values` with `shape`.
    public init(shape: [Int], values: [Float]) {
        self.shape = shape
        self.values = values
    }

    /// Errors reading a `.npy` file; each says what is wrong and where.
    public enum Error: Swift.Error, Equatable, CustomStringConvertible {
        /// The bytes do not start with the `.npy` magic string.
        case notNumPy
        /// The header is cut short or does not parse.
        case badHeader(String)
        /// The element type is not one Tessera reads.
        case unsupportedType(String)
        /// The data is shorter than the header says.
        case truncated(expectedBytes: Int, actualBytes: Int)

        public var description: String {
            switch self {
            case .notNumPy: "not a NumPy .npy file (missing the \\x93NUMPY magic)"
            case let .badHeader(detail): ".npy header: \(detail)"
            case let .unsupportedType(descr): ".npy element type '\(descr)' is not supported (float32, float16, float64, int32, int64, uint8)"
            case let .truncated(expected, actual): ".npy data is truncated: \(actual) of \(expected) bytes"
            }
        }
    }

    /// Parses the bytes of a `.npy` file.
    public init(npy data: Data) throws(NumPyArray.Error) {
        let bytes = [UInt8](data)
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { throw .notNumPy }
        let major = bytes[6]
        let lengthBytes = major == 1 ? 2 : 4
        guard bytes.count >= 8 + lengthBytes else { throw .badHeader("cut short") }
        let headerLength = (0..<lengthBytes).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
        let start = 8 + lengthBytes
        guard bytes.count >= start + headerLength,
              let header = String(bytes: bytes[start..<(start + headerLength)], encoding: .utf8) else {
            throw .badHeader("header of \(headerLength) bytes is cut short or not text")
        }
        let descr = try Self.field("descr", in: header)
        guard try Self.field("fortran_order", in: header) == "False" else { throw .badHeader("Fortran order is not supported") }
        let shapeText = try Self.field("shape", in: header).trimmingCharacters(in: CharacterSet(charactersIn: "()"))
        var shape: [Int] = []
        for part in shapeText.split(separator: ",") {
            let text = part.trimmingCharacters(in: .whitespaces)
            guard let size = Int(text), size >= 0 else { throw .badHeader("shape entry '\(text)' is not a size") }
            shape.append(size)
        }
        let body = Array(bytes[(start + headerLength)...])
        let width: Int
        switch descr {
        case "<f4", "<i4": width = 4
        case "<f2": width = 2
        case "<f8", "<i8": width = 8
        case "|u1", "<u1": width = 1
        default: throw .unsupportedType(descr)
        }
        // In checked arithmetic: a damaged header may claim any shape.
        guard let count = Self.product(shape), let byteCount = Self.product([count, width]) else {
            throw .badHeader("shape \(shape) has more elements than an array can hold")
        }
        guard body.count >= byteCount else { throw .truncated(expectedBytes: byteCount, actualBytes: body.count) }
        let values: [Float] = body.withUnsafeBytes { raw in
            (0..<count).map { i -> Float in
                let p = raw.baseAddress! + i * width
                switch descr {
                case "<f4": return p.loadUnaligned(as: Float.self)
                case "<f2": return Float(p.loadUnaligned(as: Float16.self))
                case "<f8": return Float(p.loadUnaligned(as: Double.self))
                case "<i4": return Float(p.loadUnaligned(as: Int32.self))
                case "<i8": return Float(p.loadUnaligned(as: Int64.self))
                default: return Float(p.load(as: UInt8.self))
                }
            }
        }
        self.init(shape: shape, values: values)
    }

    /// Reads a `.npy` file.
    public init(contentsOf url: URL) throws {
        try self.init(npy: try Data(contentsOf: url))
    }

    /// The array as `.npy` version 1.0 bytes of little-endian float32.
    public var npyData: Data {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
        let total = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
        var data = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
        data.append(contentsOf: Array(header.utf8))
        values.withUnsafeBytes { data.append(contentsOf: $0) }
        return data
    }

    /// `sizes` multiplied together, or nil when the product overflows.
    private static func product(_ sizes: [Int]) -> Int? {
        var product = 1
        for size in sizes {
            let (next, overflow) = product.multipliedReportingOverflow(by: size)
            if overflow { return nil }
            product = next
        }
        return product
    }

    private static func field(_ name: String, in header: String) throws(NumPyArray.Error) -> String {
        guard let key = header.range(of: "'\(name)':") else { throw .badHeader("no '\(name)' field") }
        let rest = header[key.upperBound...].trimmingCharacters(in: .whitespaces)
        if rest.hasPrefix("'") {
            guard let end = rest.dropFirst().firstIndex(of: "'") else { throw .badHeader("unterminated '\(name)'") }
            return String(rest[rest.index(after: rest.startIndex)..<end])
        }
        if rest.hasPrefix("(") {
            guard let end = rest.firstIndex(of: ")") else { throw .badHeader("unterminated '\(name)'") }
            return String(rest[...end])
        }
        return String(rest.prefix { $0 != "," && $0 != "}" }).trimmingCharacters(in: .whitespaces)
    }
}
