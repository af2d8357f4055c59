import CZlib
import Foundation

/// An 8-bit RGB image, row-major, 3 bytes per pixel.
public struct RGBImage: Sendable, Equatable {
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int
    /// `height × width × 3` bytes, red, green, blue.
    public var pixels: [UInt8]

    /// An image of `width × height` pixels.
    public init(width: Int, height: Int, pixels: [UInt8]) {
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// Errors reading an image file; each says what is wrong.
    public enum Error: Swift.Error, Equatable, CustomStringConvertible {
        /// Neither a PNG nor a binary PPM.
        case unknownFormat
        /// The file is cut short or inconsistent.
        case corrupt(String)
        /// A valid image of a kind Tessera does not read.
        case unsupported(String)

        public var description: String {
            switch self {
            case .unknownFormat: "not a PNG or binary PPM (P6) image"
            case let .corrupt(detail): "corrupt image: \(detail)"
            case let .unsupported(detail): "unsupported image: \(detail)"
            }
        }
    }

    /// Decodes a PNG (8-bit grey, grey+alpha, RGB or RGBA, not interlaced) or a binary PPM (P6, maxval 255), of at
    /// most 32,768 pixels a side and 2²⁶ pixels.
    public init(data: Data) throws(RGBImage.Error) {
        let bytes = [UInt8](data)
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            self = try Self.png(bytes)
        } else if bytes.starts(with: Array("P6".utf8)) {
            self = try Self.ppm(bytes)
        } else {
            throw .unknownFormat
        }
    }

    /// Reads an image file.
    public init(contentsOf url: URL) throws {
        try self.init(data: try Data(contentsOf: url))
    }

    /// The longest side and the most pixels a decoded image may have (a header is not trusted with
    /// more: a damaged one would ask for gigabytes before its data is found missing).
    private static let largestSide = 1 << 15, mostPixels = 1 << 26

    private static func ppm(_ bytes: [UInt8]) throws(RGBImage.Error) -> RGBImage {
        var index = 2
        func token() throws(RGBImage.Error) -> Int {
            while index < bytes.count {
                if bytes[index] == UInt8(ascii: "#") {
                    while index < bytes.count && bytes[index] != 10 { index += 1 }
                } else if bytes[index] == 32 || (9...13).contains(bytes[index]) {
                    index += 1
                } else {
                    break
                }
            }
            var value = 0, digits = 0
            while index < bytes.count, (48...57).contains(bytes[index]) {
                // Nine digits at most: a size beyond any image, without overflow.
                guard digits < 9 else { throw .corrupt("PPM header number of more than nine digits") }
                value = value * 10 + Int(bytes[index] - 48)
                index += 1
                digits += 1
            }
            guard digits > 0 else { throw .corrupt("PPM header") }
            return value
        }
        let width = try token(), height = try token(), maxValue = try token()
        guard maxValue == 255 else { throw .unsupported("PPM maxval \(maxValue) (255 only)") }
        index += 1
        guard width > 0, height > 0, width <= Self.largestSide, height <= Self.largestSide, width * height <= Self.mostPixels else {
            throw .corrupt("PPM size \(width)×\(height)")
        }
        let count = width * height * 3
        guard bytes.count >= index + count else { throw .corrupt("PPM data shorter than \(width)×\(height)") }
        return RGBImage(width: width, height: height, pixels: Array(bytes[index..<(index + count)]))
    }

    private static func png(_ bytes: [UInt8]) throws(RGBImage.Error) -> RGBImage {
        func bigEndian(_ at: Int) -> Int { (0..<4).reduce(0) { $0 << 8 | Int(bytes[at + $1]) } }
        var index = 8, width = 0, height = 0, colorType = 0
        var compressed: [UInt8] = []
        while index + 8 <= bytes.count {
            let length = bigEndian(index), type = String(decoding: bytes[(index + 4)..<(index + 8)], as: UTF8.self)
            let body = index + 8
            guard length >= 0, body + length + 4 <= bytes.count else { throw .corrupt("PNG chunk \(type) runs past the end") }
            switch type {
            case "IHDR":
                guard length >= 13 else { throw .corrupt("PNG header") }
                width = bigEndian(body)
                height = bigEndian(body + 4)
                colorType = Int(bytes[body + 9])
                guard bytes[body + 8] == 8 else { throw .unsupported("PNG bit depth \(bytes[body + 8]) (8 only)") }
                guard bytes[body + 12] == 0 else { throw .unsupported("interlaced PNG") }
            case "IDAT":
                compressed += bytes[body..<(body + length)]
            default:
                break
            }
            index = body + length + 4
            if type == "IEND" { break }
        }
        let channels: Int
        switch colorType {
        case 0: channels = 1
        case 2: channels = 3
        case 4: channels = 2
        case 6: channels = 4
        default: throw .unsupported("PNG colour type \(colorType) (grey, grey+alpha, RGB, RGBA)")
        }
        guard width > 0, height > 0, width <= Self.largestSide, height <= Self.largestSide, width * height <= Self.mostPixels else {
            throw .corrupt("PNG size \(width)×\(height)")
        }
        let stride = width * channels
        var raw = [UInt8](repeating: 0, count: height * (stride + 1))
        var rawLength = uLongf(raw.count)
        let status = raw.withUnsafeMutableBufferPointer { output in
            compressed.withUnsafeBufferPointer { input in
                uncompress(output.baseAddress, &rawLength, input.baseAddress, uLong(input.count))
            }
        }
        guard status == Z_OK, Int(rawLength) == raw.count else { throw .corrupt("PNG image data does not inflate to \(width)×\(height)") }
        var rows = [UInt8](repeating: 0, count: height * stride)
        for y in 0..<height {
            let filter = raw[y * (stride + 1)]
            for x in 0..<stride {
                let value = Int(raw[y * (stride + 1) + 1 + x])
                let left = x >= channels ? Int(rows[y * stride + x - channels]) : 0
                let up = y > 0 ? Int(rows[(y - 1) * stride + x]) : 0
                let upLeft = x >= channels && y > 0 ? Int(rows[(y - 1) * stride + x - channels]) : 0
                let predicted: Int
                switch filter {
                case 0: predicted = 0
                case 1: predicted = left
                case 2: predicted = up
                case 3: predicted = (left + up) / 2
                case 4:
                    let p = left + up - upLeft
                    let (pa, pb, pc) = (abs(p - left), abs(p - up), abs(p - upLeft))
                    predicted = pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft
                default: throw .corrupt("PNG row filter \(filter)")
                }
                rows[y * stride + x] = UInt8(truncatingIfNeeded: value + predicted)
            }
        }
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for pixel in 0..<(width * height) {
            for c in 0..<3 { pixels[pixel * 3 + c] = rows[pixel * channels + (channels >= 3 ? c : 0)] }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }
}
