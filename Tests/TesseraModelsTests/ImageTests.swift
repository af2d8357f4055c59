import Foundation
import Testing
import Tessera

@Suite struct ImageTests {
    static func image(_ name: String) -> URL { NumPyArrayTests.fixtures.appendingPathComponent("images/\(name)") }

    @Test(arguments: ["rgb.png", "rgba.png", "rgb.ppm"])
    func decodesEveryRowFilterAndColourType(file: String) throws {
        let image = try RGBImage(contentsOf: Self.image(file))
        let expected = try NumPyArray(contentsOf: Self.image("rgb.npy"))
        #expect(image.width == 9 && image.height == 7)
        #expect(image.pixels.map(Float.init) == expected.values)
    }

    @Test func greyImagesBecomeThreeEqualChannels() throws {
        let image = try RGBImage(contentsOf: Self.image("grey_alpha.png"))
        #expect(image.pixels.map(Float.init) == (try NumPyArray(contentsOf: Self.image("grey.npy"))).values)
    }

    @Test func badImagesAreTypedErrors() throws {
        let png = try Data(contentsOf: Self.image("rgb.png"))
        #expect(throws: RGBImage.Error.unknownFormat) { try RGBImage(data: Data("GIF89a".utf8)) }
        #expect(throws: RGBImage.Error.self) { try RGBImage(data: png.prefix(40)) }
        #expect(throws: RGBImage.Error.self) { try RGBImage(data: Data("P6\n9 7\n255\n".utf8) + Data(count: 10)) }
        #expect(throws: RGBImage.Error.unsupported("PPM maxval 65535 (255 only)")) { try RGBImage(data: Data("P6 1 1 65535 ".utf8) + Data(count: 6)) }
    }

    @Test func preprocessingNormalisesAndCrops() throws {
        // A uniform image stays uniform through resizing; each channel becomes (v/255 − mean) / std.
        let image = RGBImage(width: 300, height: 250, pixels: Array(repeating: [200, 100, 50], count: 300 * 250).flatMap { $0 })
        let tensor = ImagePreprocessing.tensor(image)
        #expect(tensor.count == 3 * 224 * 224)
        for channel in 0..<3 {
            let value = Float([200, 100, 50][channel]) / 255
            let expected = (value - ImagePreprocessing.mean[channel]) / ImagePreprocessing.standardDeviation[channel]
            let plane = tensor[(channel * 224 * 224)..<((channel + 1) * 224 * 224)]
            #expect(plane.allSatisfy { abs($0 - expected) < 1e-5 })
        }
        // A horizontal ramp keeps increasing left to right after resizing and cropping.
        let ramp = RGBImage(width: 512, height: 256, pixels: (0..<(512 * 256)).flatMap { p in Array(repeating: UInt8(p % 512 / 2), count: 3) })
        let row = ImagePreprocessing.tensor(ramp)[0..<224]
        #expect(zip(row, row.dropFirst()).allSatisfy { $0 <= $1 })
    }
}
