import Foundation
import TesseraCompiler
import TesseraGraph
import TesseraHost
import TesseraOps
import TesseraRuntime

/// The bundled model builders, by the names the command line uses.
public enum ModelCatalog {
    /// Names `network(named:batch:resolution:)` knows.
    public static let names = ["resnet50", "efficientnet-b0", "efficientnet-b0-g16"]

    /// The named network for a batch of `batch` images of `resolution` × `resolution`, or nil.
    public static func network(named name: String, batch: Int, resolution: Int = 224) -> Network? {
        switch name {
        case "resnet50": ResNet.resnet50(batch: batch, resolution: resolution)
        case "efficientnet-b0": EfficientNet.b0(batch: batch, resolution: resolution)
        case "efficientnet-b0-g16": EfficientNet.b0G16(batch: batch, resolution: resolution)
        default: nil
        }
    }
}

/// A network compiled onto a simulated IPU and loaded into an engine, ready to run batches.
public final class ModelSession {
    /// The network.
    public let network: Network
    /// The compiled network's tensors and plans (its graph is released once compiled).
    public let compiled: CompiledNetwork
    /// The compiled program: memory profile and step cycles.
    public let executable: Executable
    /// The engine holding the weights.
    public let engine: Engine
    /// Seconds spent building the graph (lowering the network onto the kernel library and planning it).
    public let buildSeconds: Double
    /// Seconds spent building the graph and compiling it.
    public let compileSeconds: Double

    /// What a long compile is doing, for a progress line.
    public enum Progress {
        /// `done` of `total` layers built into the graph.
        case building(done: Int, total: Int)
        /// The graph is built; the compiler is placing it onto the tiles.
        case compiling
        /// The executable is being loaded into an engine.
        case loading
    }

    /// Lowers, compiles and loads `network` with `weights` (by parameter name), telling `progress`
    /// what it is doing; with `foldsBatchNorm`, batch norms go into the convolutions before them
    /// (``FoldedBatchNorm``). Throws the compiler's out-of-memory error, with its profile, when the
    /// model does not fit.
    ///
    /// Building and compiling a model allocate and free hundreds of megabytes of tables, so the
    /// session has the process's allocator map large blocks on their own pages
    /// (``HostMemory/mapLargeBlocks(threshold:)``) and returns what the compile freed before loading.
    public init(network: Network, weights: [String: NumPyArray], target: Target, elementType: ElementType = .float32,
                options: OpOptions = OpOptions(), foldsBatchNorm: Bool = false, engineOptions: EngineOptions = EngineOptions(),
                progress: ((Progress) -> Void)? = nil) throws {
        let start = ContinuousClock.now
        self.network = network
        HostMemory.mapLargeBlocks()
        (compiled, executable, buildSeconds) = try {
            let lowered = try NetworkLowering.lower(network, target: target, elementType: elementType, options: options,
                                                    foldsBatchNorm: foldsBatchNorm) { done, total in
                progress?(.building(done: done, total: total))
            }
            let buildSeconds = Self.seconds(since: start)
            progress?(.compiling)
            // Compiled once and let go: its connection tables can go before placement.
            var compileOptions = CompileOptions()
            compileOptions.releasesConnections = true
            return (lowered.compiled, try Compiler.compile(lowered.graph, program: lowered.program, options: compileOptions), buildSeconds)
        }()
        compileSeconds = Self.seconds(since: start)
        HostMemory.returnFreedMemory()
        progress?(.loading)
        engine = try Engine(executable, options: engineOptions)
        try compiled.write(weights: weights, to: engine)
    }

    private static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }

    /// Runs one batch (`[N, C, H, W]` float32 values) and returns the output, row-major.
    public func run(input: [Float]) throws -> [Float] {
        try compiled.write(input: input, to: engine)
        try engine.run()
        return try compiled.readOutput(from: engine)
    }

    /// What the last run did.
    public var record: ExecutionRecord? { engine.lastRun }

    /// The `k` most probable classes of every row of `logits` (`[rows, classes]`), with softmax probabilities.
    public static func top(_ k: Int, of logits: [Float], classes: Int) -> [[(index: Int, probability: Float)]] {
        stride(from: 0, to: logits.count, by: classes).map { start in
            let row = logits[start..<(start + classes)]
            let largest = row.max() ?? 0
            let exps = row.map { Foundation.exp(Double($0 - largest)) }
            let total = exps.reduce(0, +)
            return exps.enumerated().sorted { $0.element > $1.element }.prefix(k).map { ($0.offset, Float($0.element / total)) }
        }
    }

    /// A reproducible synthetic batch: values of a standard-normal-like spread from `seed`.
    public static func syntheticInput(count: Int, seed: UInt64 = 1) -> [Float] {
        var generator = SplitMix64(seed: seed)
        return (0..<count).map { _ in (generator.nextUnitFloat() + generator.nextUnitFloat() + generator.nextUnitFloat() - 1.5) * 2 }
    }
}
