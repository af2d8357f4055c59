import Testing
import Tessera
import TesseraTestSupport

/// SplitMix64: a tiny deterministic generator for the linear-algebra tests.
struct LinearRandom {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 52) - 1 }
}

/// `count` random values in [-1, 1), each exactly representable in `type`.
func linearValues(_ count: Int, seed: UInt64, type: ElementType) -> [Double] {
    var random = LinearRandom(seed: seed)
    return (0..<count).map { _ in
        let value = random.uniform()
        return type == .float16 ? Double(Float16(value)) : Double(Float(value))
    }
}

/// A graph on a small target whose host-written inputs and host-read outputs a test declares.
final class LinearFixture {
    let graph: Graph
    let ops: OpBuilder
    private var writes: [(Tensor, [Double])] = []
    /// The executable of the last run.
    private(set) var executable: Executable?

    init(tiles: Int, bytes: Int = 65_536) {
        graph = Graph(target: testTarget(tiles: tiles, bytes: bytes))
        ops = OpBuilder(graph)
    }

    /// A new host-written variable of `shape`, spread linearly over the tiles, with random values.
    func input(_ shape: [Int], _ type: ElementType, name: String, seed: UInt64) throws -> (Tensor, [Double]) {
        let tensor = graph.addVariable(type, shape, name: name)
        try graph.mapLinearly(tensor)
        try graph.makeHostVisible(tensor)
        let values = linearValues(shape.reduce(1, *), seed: seed, type: type)
        writes.append((tensor, values))
        return (tensor, values)
    }

    /// `tensor` (already mapped) made host-written with random values.
    func written(_ tensor: Tensor, seed: UInt64) throws -> [Double] {
        try graph.makeHostVisible(tensor)
        let values = linearValues(tensor.elementCount, seed: seed, type: tensor.elementType)
        writes.append((tensor, values))
        return values
    }

    /// Compiles, writes the inputs, runs with `threads` host threads and reads `output` as Doubles.
    func run(_ output: Tensor, threads: Int = 1) throws -> [Double] {
        try graph.makeHostVisible(output)
        let executable = try Compiler.compile(graph, program: ops.program)
        self.executable = executable
        let engine = try Engine(executable, options: EngineOptions(threads: threads))
        for (tensor, values) in writes {
            if tensor.elementType == .float16 {
                try engine.write(tensor, values.map { Float16($0) })
            } else {
                try engine.write(tensor, values.map { Float($0) })
            }
        }
        try engine.run()
        if output.elementType == .float16 { return try engine.read(output, as: Float16.self).map { Double($0) } }
        return try engine.read(output, as: Float.self).map { Double($0) }
    }
}

/// Straightforward float64 convolution: values and, per output, the sum of the magnitudes of its terms.
func linearReferenceConv(_ p: ConvParameters, input x: [Double], weights w: [Double], bias: [Double]?) -> (values: [Double], magnitudes: [Double]) {
    let (oh, ow) = (p.outputField[0], p.outputField[1])
    let (h, wd) = (p.inputField[0], p.inputField[1])
    let (cg, og) = (p.inputChannelsPerGroup, p.outputChannelsPerGroup)
    var values = [Double](), magnitudes = [Double]()
    for n in 0..<p.batch {
        for o in 0..<p.outputChannels {
            let g = o / og
            for r in 0..<oh {
                for c in 0..<ow {
                    var sum = bias?[o] ?? 0, magnitude = abs(bias?[o] ?? 0)
                    for ci in 0..<cg {
                        for kh in 0..<p.kernel[0] {
                            for kw in 0..<p.kernel[1] {
                                let ih = r * p.stride[0] + kh * p.dilation[0] - p.padding.top
                                let iw = c * p.stride[1] + kw * p.dilation[1] - p.padding.left
                                guard (0..<h).contains(ih), (0..<wd).contains(iw) else { continue }
                                let term = x[((n * p.inputChannels + g * cg + ci) * h + ih) * wd + iw]
                                    * w[((o * cg + ci) * p.kernel[0] + kh) * p.kernel[1] + kw]
                                sum += term
                                magnitude += abs(term)
                            }
                        }
                    }
                    values.append(sum)
                    magnitudes.append(magnitude)
                }
            }
        }
    }
    return (values, magnitudes)
}

/// Float64 `[B, M, K] · [B, K, N]` with term magnitudes.
func linearReferenceMatMul(_ a: [Double], _ b: [Double], batches: Int, m: Int, k: Int, n: Int) -> (values: [Double], magnitudes: [Double]) {
    var values = [Double](), magnitudes = [Double]()
    for batch in 0..<batches {
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0, magnitude = 0.0
                for l in 0..<k {
                    let term = a[(batch * m + i) * k + l] * b[(batch * k + l) * n + j]
                    sum += term
                    magnitude += abs(term)
                }
                values.append(sum)
                magnitudes.append(magnitude)
            }
        }
    }
    return (values, magnitudes)
}

/// The largest error of `got` against `reference` relative to its tolerance: float32 accumulation error
/// (`2⁻¹⁹` of the terms' magnitude) plus, for float16 results, one rounding (`2⁻¹⁰` of the value, at least `2⁻²⁴`).
/// At most 1 means every element is within tolerance; a NaN result (or reference) gives infinity.
func linearWorstError(_ got: [Double], _ reference: (values: [Double], magnitudes: [Double]), type: ElementType) -> Double {
    precondition(got.count == reference.values.count)
    var worst = 0.0
    for i in got.indices {
        let expected = reference.values[i]
        var tolerance = reference.magnitudes[i] * 0x1p-19 + 0x1p-30
        if type == .float16 { tolerance += max(abs(expected), 0x1p-14) * 0x1p-10 }
        let error = abs(got[i] - expected) / tolerance
        // `max` keeps its first argument against a NaN, which would pass a NaN result.
        worst = error.isNaN ? .infinity : max(worst, error)
    }
    return worst
}

/// Ratio of an operation plan's modelled cycles to the compiler's cycles of all steps of `executable`.
func linearModelRatio(_ plan: OperationPlan, _ executable: Executable) -> Double {
    Double(plan.modelledCycles) / Double(executable.steps.map(\.totalCycles).reduce(0, +))
}

/// Exchange-buffer bytes on the tile with the most of them in `executable` (the receive and gather
/// buffers the planner counts as temporary memory).
func linearBusiestBuffers(_ executable: Executable) -> Int {
    executable.memory.tiles.map { $0.bytes(.exchangeBuffers) }.max() ?? 0
}
