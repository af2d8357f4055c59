/// Weight values for a network, by parameter name, with the batch-norm statistics beside them.
public enum NetworkWeights {
    /// Deterministic random weights for `network` from `seed`: convolution and linear weights drawn
    /// uniformly with He scaling (variance 2 / fan-in), biases small, batch-norm scale near 1, shift
    /// and mean near 0, variance near 1 — values that keep activations in range through deep networks.
    public static func random(for network: Network, seed: UInt64 = 0) -> [String: NumPyArray] {
        var generator = SplitMix64(seed: seed)
        var weights: [String: NumPyArray] = [:]
        func uniform(_ count: Int, _ low: Float, _ high: Float) -> [Float] {
            (0..<count).map { _ in low + (high - low) * generator.nextUnitFloat() }
        }
        for node in network.nodes {
            let name = node.name
            switch node.operation {
            case .convolution, .linear:
                for parameter in network.parameters where parameter.name.hasPrefix(name + ".") {
                    if parameter.name.hasSuffix(".weight") {
                        let fanIn = parameter.shape.dropFirst().reduce(1, *)
                        let bound = (6 / Float(fanIn)).squareRoot()
                        weights[parameter.name] = NumPyArray(shape: parameter.shape, values: uniform(parameter.count, -bound, bound))
                    } else {
                        weights[parameter.name] = NumPyArray(shape: parameter.shape, values: uniform(parameter.count, -0.05, 0.05))
                    }
                }
            case .batchNorm, .groupNorm:
                let channels = network.nodes[node.inputs[0]].outputShape[1]
                weights["\(name).weight"] = NumPyArray(shape: [channels], values: uniform(channels, 0.8, 1.2))
                weights["\(name).bias"] = NumPyArray(shape: [channels], values: uniform(channels, -0.1, 0.1))
                if case .batchNorm = node.operation {
                    weights["\(name).running_mean"] = NumPyArray(shape: [channels], values: uniform(channels, -0.1, 0.1))
                    weights["\(name).running_var"] = NumPyArray(shape: [channels], values: uniform(channels, 0.8, 1.2))
                }
            default:
                break
            }
        }
        return weights
    }
}

/// Steele, Lea and Flood's SplitMix64: a small, fast, seedable generator for reproducible weights.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A float in [0, 1) from the top 24 bits.
    mutating func nextUnitFloat() -> Float { Float(next() >> 40) / Float(1 << 24) }
}
