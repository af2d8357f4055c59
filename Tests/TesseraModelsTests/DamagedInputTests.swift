import Foundation
import Testing
import Tessera
import TesseraTestSupport

/// Damaged copies of the image and NumPy fixtures: each decodes or fails with the decoder's typed
/// error, never traps; a file cut short always fails.
@Suite struct DamagedInputTests {
    /// A seeded stream of damage: which byte, and what it becomes.
    private struct Damage {
        var state: UInt64
        mutating func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: state >> 33)
        }
        /// `bytes` with one to four bytes changed, mostly among the first 64 (the headers).
        mutating func apply(to bytes: Data) -> Data {
            var damaged = bytes
            for _ in 0..<(1 + next() % 4) {
                let index = next() % 2 == 0 ? next() % min(64, bytes.count) : next() % bytes.count
                damaged[index] = UInt8(truncatingIfNeeded: next())
            }
            return damaged
        }
    }

    @Test(arguments: ["rgb.png", "rgba.png", "grey_alpha.png", "rgb.ppm"])
    func damagedImagesNeverCrash(file: String) throws {
        let bytes = try Data(contentsOf: ImageTests.image(file))
        var damage = Damage(state: 0x2545_F491_4F6C_DD1D)
        for _ in 0..<300 {
            do {
                let image = try RGBImage(data: damage.apply(to: bytes))
                #expect(image.pixels.count == 3 * image.width * image.height)
            } catch {
                #expect(!"\(error)".isEmpty)
            }
        }
        #expect(throws: RGBImage.Error.self) { try RGBImage(data: bytes.prefix(bytes.count / 2)) }
    }

    @Test(arguments: ["images/rgb.npy", "images/grey.npy", "convolutions.input.npy"])
    func damagedNumPyFilesNeverCrash(file: String) throws {
        let bytes = try Data(contentsOf: NumPyArrayTests.fixtures.appendingPathComponent(file))
        var damage = Damage(state: 0x9E37_79B9_7F4A_7C15)
        for _ in 0..<300 {
            do {
                let array = try NumPyArray(npy: damage.apply(to: bytes))
                #expect(array.values.count == array.shape.reduce(1, *))
            } catch {
                #expect(!"\(error)".isEmpty)
            }
        }
        #expect(throws: NumPyArray.Error.self) { try NumPyArray(npy: bytes.prefix(bytes.count / 2)) }
    }

    /// Headers that claim sizes no file holds (or no integer does) fail before anything is allocated.
    @Test func headersClaimingHugeSizesAreTypedErrors() throws {
        for header in ["P6 100000 100000 255 ", "P6 99999999999999999999 2 255 ", "P6 40000 40000 255 ", "P6 0 2 255 "] {
            #expect(thrownCase { try RGBImage(data: Data(header.utf8) + Data(count: 12)) } == "corrupt", "\(header)")
        }
        var png = try Data(contentsOf: ImageTests.image("rgb.png"))
        // IHDR's width and height, big-endian from byte 16: 30,000 × 30,000 (each side allowed, not their product).
        png.replaceSubrange(16..<24, with: [0, 0, 0x75, 0x30, 0, 0, 0x75, 0x30])
        #expect(thrownCase { try RGBImage(data: png) } == "corrupt")
        for shape in ["(1000000000, 1000000000, 1000000000)", "(9223372036854775807, 2)", "(4611686018427387904,)"] {
            var text = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }"
            text += String(repeating: " ", count: (64 - (10 + text.utf8.count + 1) % 64) % 64) + "\n"
            let npy = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(text.utf8.count), 0]) + Data(text.utf8) + Data(count: 16)
            #expect(thrownCase { try NumPyArray(npy: npy) } == "badHeader", "\(shape)")
        }
    }
}
