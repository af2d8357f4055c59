import TesseraGraph

/// Where the coefficient step takes each channel's mean and variance from.
enum MomentSource: Sendable, Hashable {
    /// Float32 pairs (Σx, Σx²) over `count` elements: mean = Σx / count, biased variance = Σx² / count − mean².
    case sums(count: Int)
    /// Given mean and variance vectors of `type`.
    case moments(type: ElementType)
}

/// The per-channel coefficients of a normalisation, `a = scale / √(variance + ε)` and
/// `b = shift − mean · a` (float32), so that the activation step is `y = a·x + b`. With
/// `writesMoments` it also writes the mean and variance it used (float32).
struct NormCoefficientsCodelet: Codelet {
    var source: MomentSource
    var parameterType: ElementType
    var epsilon: Float
    var writesMoments: Bool

    var name: String {
        switch source {
        case .sums: "normCoefficients<sums,\(parameterType)>\(writesMoments ? "WithMoments" : "")"
        case .moments(let type): "normCoefficients<\(type),\(parameterType)>"
        }
    }

    var fields: [Field] {
        var fields: [Field]
        switch source {
        case .sums: fields = [.input("sums", .float32)]
        case .moments(let type): fields = [.input("mean", type), .input("variance", type)]
        }
        fields += [.input("scale", parameterType), .input("shift", parameterType), .output("a", .float32), .output("b", .float32)]
        if writesMoments { fields += [.output("meanOut", .float32), .output("varianceOut", .float32)] }
        return fields
    }
    var stateBytes: Int { 8 }

    /// Channels handled by a vertex with these field sizes (the size of `a`).
    private func channels(_ sizes: [Int]) -> Int {
        if case .sums = source { sizes[3] } else { sizes[4] }
    }

    func sizeProblem(fieldSizes: [Int]) -> String? {
        let k = channels(fieldSizes)
        let expected: [Int]
        if case .sums = source { expected = [2 * k] + [Int](repeating: k, count: fieldSizes.count - 1) } else { expected = [Int](repeating: k, count: fieldSizes.count) }
        return fieldSizes == expected ? nil : "field sizes \(fieldSizes) do not describe \(k) channels (expected \(expected))"
    }

    func estimateCycles(fieldSizes: [Int], target: Target) -> Int {
        let slowest = NormCost.itemShares(channels(fieldSizes), workers: target.workerContexts).map { $0.count }.max() ?? 0
        return NormCost.setUpCycles + slowest * NormCost.coefficientCyclesPerChannel
    }

    func compute(_ fields: VertexFields) {
        let means: [Float], variances: [Float], first: Int
        switch source {
        case .sums(let count):
            let sums = fields.input(0, as: Float.self)
            let k = sums.count / 2, scale = 1 / Float(count)
            means = (0..<k).map { sums[2 * $0] * scale }
            variances = (0..<k).map { Swift.max(0, sums[2 * $0 + 1] * scale - means[$0] * means[$0]) }
            first = 1
        case .moments(let type):
            means = fields.floats(0, type)
            variances = fields.floats(1, type)
            first = 2
        }
        let scales = fields.floats(first, parameterType), shifts = fields.floats(first + 1, parameterType)
        let a = fields.output(first + 2, as: Float.self), b = fields.output(first + 3, as: Float.self)
        for k in 0..<a.count {
            a[k] = scales[k] / (variances[k] + epsilon).squareRoot()
            b[k] = shifts[k] - means[k] * a[k]
        }
        if writesMoments {
            let meanOut = fields.output(first + 4, as: Float.self), varianceOut = fields.output(first + 5, as: Float.self)
            for k in 0..<a.count {
                meanOut[k] = means[k]
                varianceOut[k] = variances[k]
            }
        }
    }
}
