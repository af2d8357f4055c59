import Tessera
import TesseraTestSupport

/// SplitMix64: the deterministic generator of the normalisation and pooling tests.
struct NormRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in `range`.
    mutating func uniform(_ range: ClosedRange<Double>) -> Double {
        range.lowerBound + Double(next() >> 11) / Double(1 << 53) * (range.upperBound - range.lowerBound)
    }
    /// `count` values uniform in `range`, exactly representable in `type`.
    mutating func values(_ count: Int, _ range: ClosedRange<Double>, type: ElementType) -> [Double] {
        (0..<count).map { _ in
            let value = uniform(range)
            return type == .float16 ? Double(Float16(Float(value))) : Double(Float(value))
        }
    }
}

/// How a test lays an `[N, C, H, W]` activation over the tiles.
enum NormMapping: String, CaseIterable, Sendable {
    /// Poplar's linear mapping of the flat tensor (channel planes cut wherever the tiles end).
    case linear
    /// Seeded random cuts of the flat tensor, tiles visited out of order, each tile holding
    /// several unconnected pieces that split channels and spatial rows unevenly.
    case randomCuts
    /// Channel-major: the `[C, N, H, W]` view mapped linearly, so every tile holds parts of
    /// several samples of a few channels.
    case channelMajor
}

/// Maps `x` (`[N, C, H, W]`) by `mapping` over the graph's tiles.
func normMap(_ graph: Graph, _ x: Tensor, _ mapping: NormMapping, seed: UInt64 = 11) throws {
    let tiles = graph.target.tiles
    switch mapping {
    case .linear:
        try graph.mapLinearly(x, grainSize: 1, minElementsPerTile: 1)
    case .channelMajor:
        try graph.mapLinearly(x.dimShuffle([1, 0, 2, 3]), grainSize: 1, minElementsPerTile: 1)
    case .randomCuts:
        var random = NormRandom(seed: seed)
        let flat = x.flatten(), count = x.elementCount
        var cuts = Set<Int>()
        for _ in 0..<(3 * tiles) where count > 1 { cuts.insert(1 + Int(random.next() % UInt64(count - 1))) }
        let bounds = [0] + cuts.sorted() + [count]
        for (index, (begin, end)) in zip(bounds, bounds.dropFirst()).enumerated() {
            try graph.setTileMapping(flat.slice(begin..<end), tile: (index * 5 + 3) % tiles)
        }
    }
}

/// Compiles the operations, writes `inputs` (converted to each tensor's type) to every replica and
/// `replicaInputs[r]` to replica `r`, runs on `threads` host threads, and reads `outputs` of
/// replica `replica` as Double.
func normRun(_ ops: OpBuilder, inputs: [(Tensor, [Double])], outputs: [Tensor],
             replicaInputs: [[(Tensor, [Double])]] = [], replica: Int = 0, threads: Int = 1) throws -> [[Double]] {
    for (tensor, _) in inputs + replicaInputs.flatMap({ $0 }) { try ops.graph.makeHostVisible(tensor) }
    for tensor in outputs { try ops.graph.makeHostVisible(tensor) }
    let engine = try Engine(try Compiler.compile(ops.graph, program: ops.program), options: EngineOptions(threads: threads))
    func write(_ tensor: Tensor, _ values: [Double], _ replica: Int?) throws {
        if tensor.elementType == .float16 {
            try engine.write(tensor, values.map { Float16(Float($0)) }, replica: replica)
        } else {
            try engine.write(tensor, values.map { Float($0) }, replica: replica)
        }
    }
    for (tensor, values) in inputs { try write(tensor, values, nil) }
    for (index, list) in replicaInputs.enumerated() {
        for (tensor, values) in list { try write(tensor, values, index) }
    }
    try engine.run()
    return try outputs.map { tensor in
        tensor.elementType == .float16
            ? try engine.read(tensor, as: Float16.self, replica: replica).map { Double($0) }
            : try engine.read(tensor, as: Float.self, replica: replica).map { Double($0) }
    }
}

/// Largest `|actual − expected| / (1 + |expected|)`; infinity where either is NaN.
func normWorstError(_ actual: [Double], _ expected: [Double]) -> Double {
    precondition(actual.count == expected.count, "\(actual.count) results for \(expected.count) references")
    return zip(actual, expected).reduce(0) { worst, pair in
        let error = abs(pair.0 - pair.1) / (1 + abs(pair.1))
        return error.isNaN ? .infinity : max(worst, error)
    }
}

/// Tolerance of a result of `type` computed in float32 from inputs exact in `type`: a few
/// float32 ulps, or one float16 rounding of the result (2⁻¹¹) with margin.
func normTolerance(_ type: ElementType) -> Double { type == .float16 ? 1.5e-3 : 2e-5 }

/// The typed error `body` throws, or nil.
func normError(_ body: () throws(OpError) -> Void) -> OpError? {
    do { try body() } catch { return error }
    return nil
}
