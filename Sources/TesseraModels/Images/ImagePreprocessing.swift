/// torchvision's ImageNet evaluation transform: resize the shorter side to 256, crop the centre
/// 224 × 224, scale to [0, 1], normalise with the ImageNet mean and standard deviation.
///
/// The resize is bilinear with half-pixel centres and, when shrinking, averages over the source
/// pixels each output pixel covers (as torchvision's antialiased resize does), so results agree with
/// torchvision to within a few units in the last place of 8-bit values, not bit for bit.
public enum ImagePreprocessing {
    /// ImageNet channel means.
    public static let mean: [Float] = [0.485, 0.456, 0.406]
    /// ImageNet channel standard deviations.
    public static let standardDeviation: [Float] = [0.229, 0.224, 0.225]

    /// `[3, size, size]` floats of `image`, resized so its shorter side is `resize`, centre-cropped.
    public static func tensor(_ image: RGBImage, resize: Int = 256, crop size: Int = 224) -> [Float] {
        let scale = Double(resize) / Double(min(image.width, image.height))
        let width = max(size, Int((Double(image.width) * scale).rounded())), height = max(size, Int((Double(image.height) * scale).rounded()))
        let left = (width - size) / 2, top = (height - size) / 2
        var result = [Float](repeating: 0, count: 3 * size * size)
        let xs = weights(source: image.width, target: width), ys = weights(source: image.height, target: height)
        for y in 0..<size {
            for x in 0..<size {
                var sum: [Double] = [0, 0, 0]
                for (sy, wy) in ys[top + y] {
                    for (sx, wx) in xs[left + x] {
                        let p = (sy * image.width + sx) * 3
                        for c in 0..<3 { sum[c] += wy * wx * Double(image.pixels[p + c]) }
                    }
                }
                for c in 0..<3 {
                    result[(c * size + y) * size + x] = (Float(sum[c] / 255) - mean[c]) / standardDeviation[c]
                }
            }
        }
        return result
    }

    /// For each target pixel, the source pixels and weights of a triangle filter stretched by the
    /// shrink factor (plain bilinear when enlarging).
    private static func weights(source: Int, target: Int) -> [[(Int, Double)]] {
        let ratio = Double(source) / Double(target)
        let support = max(ratio, 1)
        return (0..<target).map { index in
            let centre = (Double(index) + 0.5) * ratio
            let low = max(Int((centre - support).rounded(.down)), 0), high = min(Int((centre + support).rounded(.up)), source)
            var taps: [(Int, Double)] = []
            for s in low..<high {
                let w = max(0, 1 - abs((Double(s) + 0.5 - centre) / support))
                if w > 0 { taps.append((s, w)) }
            }
            let total = taps.reduce(0) { $0 + $1.1 }
            return taps.map { ($0.0, $0.1 / total) }
        }
    }
}
