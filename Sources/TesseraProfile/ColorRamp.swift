/// Matplotlib's viridis colour map: perceptually uniform, readable in greyscale and by most
/// colour-blind readers. Eleven samples at fractions 0, 0.1, …, 1, interpolated linearly.
enum Viridis {
    static let samples: [(red: Double, green: Double, blue: Double)] = [
        (68, 1, 84), (72, 36, 117), (65, 68, 135), (53, 95, 141), (42, 120, 142), (33, 145, 140),
        (34, 168, 132), (68, 191, 112), (122, 209, 81), (189, 223, 38), (253, 231, 37),
    ]

    /// The colour at `fraction` (clamped to 0…1) as "#rrggbb".
    static func hex(_ fraction: Double) -> String {
        let position = min(1, max(0, fraction.isFinite ? fraction : 0)) * Double(samples.count - 1)
        let low = min(samples.count - 2, Int(position)), weight = position - Double(low)
        let a = samples[low], b = samples[low + 1]
        return hex(red: a.red + (b.red - a.red) * weight, green: a.green + (b.green - a.green) * weight,
                   blue: a.blue + (b.blue - a.blue) * weight)
    }

    /// Sample `index` as "#rrggbb".
    static func hex(sample index: Int) -> String {
        hex(red: samples[index].red, green: samples[index].green, blue: samples[index].blue)
    }

    private static func hex(red: Double, green: Double, blue: Double) -> String {
        "#" + [red, green, blue].map { channel in
            let digits = String(Int(channel.rounded()), radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
    }
}
