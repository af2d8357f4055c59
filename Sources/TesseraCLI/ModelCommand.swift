import ArgumentParser
import Foundation
import Tessera
import TesseraONNX

/// Options of commands that build a model.
struct ModelOptions: ParsableArguments {
    @Option(help: "Images per batch.")
    var batch = 8

    @Option(help: "Input height and width.")
    var resolution = 224

    @Option(help: "Element type: float32 or float16.")
    var dtype = "float32"

    @Option(name: .customLong("available-memory"), help: "Share of tile memory each operation may use for temporaries.")
    var availableMemory = 0.6

    @Option(help: "Seed of the random weights (bundled models; ONNX files bring their own).")
    var seed: UInt64 = 0

    @Flag(name: .customLong("fold-batch-norm"), help: "Fold each batch norm into the convolution before it, as inference compilers do.")
    var foldsBatchNorm = false

    func elementType() throws -> ElementType { try floatingPointType(dtype) }

    func validate() throws {
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1, got \(batch)") }
        guard resolution >= 1 else { throw ValidationError("--resolution must be at least 1, got \(resolution)") }
        guard (0...1).contains(availableMemory) else {
            throw ValidationError("--available-memory takes a proportion between 0 and 1, got \(availableMemory)")
        }
    }
}

/// Builds, compiles, runs and reports on one model.
struct ModelCommand {
    let name: String
    let target: Target
    let threads: Int?
    let model: ModelOptions
    /// Whether the engine times its workers' phases (``EngineOptions/timesHostPhases``).
    var timesHostPhases = false

    /// The network and its weights, from the catalog or an ONNX file.
    func load(batch: Int) throws -> (Network, [String: NumPyArray]) {
        if name.hasSuffix(".onnx") {
            let imported = try ONNXModel(contentsOf: URL(fileURLWithPath: name), batch: batch)
            return (imported.network, imported.weights)
        }
        guard let network = ModelCatalog.network(named: name, batch: batch, resolution: model.resolution) else {
            throw ValidationError("unknown model '\(name)'; available: \(ModelCatalog.names.joined(separator: ", ")), a .onnx file, matvec, sharding")
        }
        return (network, NetworkWeights.random(for: network, seed: model.seed))
    }

    /// Compiles for `batch`, turning an out-of-memory failure into a report and advice.
    func session(batch: Int, report: String?) throws -> ModelSession {
        let (network, weights) = try load(batch: batch)
        // An ONNX file with a fixed batch dimension brings its own batch.
        let actualBatch = network.nodes.first?.outputShape.first ?? batch
        print("Compiling \(network.name): \(network.nodes.count) layers, \(network.parameterCount.grouped) parameters, batch \(actualBatch), "
            + "\(model.dtype) on \(target.name) (\(target.tiles.grouped) tiles)…")
        do {
            return try ModelSession(network: network, weights: weights, target: target, elementType: try model.elementType(),
                                    options: OpOptions(availableMemoryProportion: model.availableMemory), foldsBatchNorm: model.foldsBatchNorm,
                                    engineOptions: EngineOptions(threads: threads, timesHostPhases: timesHostPhases), progress: Self.showProgress)
        } catch let CompileError.outOfMemory(failure) {
            try Reports.writeFailed(failure, directory: report)
            print("\(network.name) does not fit at batch \(actualBatch). Try a smaller --batch, a lower --available-memory (now \(model.availableMemory))"
                + (model.dtype == "float32" ? ", or --dtype float16." : "."))
            throw CompileError.outOfMemory(failure)
        }
    }

    /// One progress line on standard error, rewritten in place; nothing when standard error is not a terminal.
    private static func showProgress(_ progress: ModelSession.Progress) {
        guard isatty(STDERR_FILENO) != 0 else { return }
        let text = switch progress {
        case let .building(done, total): "  building the graph: layer \(done) of \(total)"
        case .compiling: "  compiling onto the tiles…"
        case .loading: "  loading the engine…"
        }
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + text + (progress.isLast ? "\n" : "")).utf8))
    }

    /// Compiles, runs the batch `repeats` times (the host time printed is the fastest run), and reports.
    func run(images: [String], input: String?, saveOutputs: String?, report: String?, repeats: Int = 1) throws {
        let batch = input == nil && !images.isEmpty ? images.count : model.batch
        let session = try session(batch: batch, report: report)
        let statistics = session.executable.statistics
        print("Compiled in \(String(format: "%.2f", session.compileSeconds)) s: graph built in \(String(format: "%.2f", session.buildSeconds)) s, "
            + statistics.phases.map { "\($0.name) \(String(format: "%.2f", $0.seconds))" }.joined(separator: ", ")
            + " s; \(statistics.vertices.grouped) vertices, \(statistics.copies.grouped) copies, \(statistics.allocations.grouped) memory blocks")
        let values = try inputBatch(session, images: images, input: input)
        var output: [Float] = [], wallSeconds = Double.infinity, cpuSeconds = Double.infinity
        for _ in 0..<max(repeats, 1) {
            let start = ContinuousClock.now, cpuStart = HostClock.processCPUSeconds()
            output = try session.run(input: values)
            wallSeconds = min(wallSeconds, (ContinuousClock.now - start).seconds)
            cpuSeconds = min(cpuSeconds, HostClock.processCPUSeconds() - cpuStart)
        }
        let shape = session.compiled.output.shape
        if shape.count == 2 {
            for (image, top) in ModelSession.top(5, of: output, classes: shape[1]).enumerated() {
                let label = image < images.count ? images[image] : "image \(image)"
                print("\(label): " + top.map { "class \($0.index) \(String(format: "%.1f%%", $0.probability * 100))" }.joined(separator: ", "))
            }
        }
        if let saveOutputs {
            try NumPyArray(shape: shape, values: output).npyData.write(to: URL(fileURLWithPath: saveOutputs))
            print("Output \(shape) written to \(saveOutputs)")
        }
        let record = session.record!
        try Reports.show(executable: session.executable, record: record, directory: report)
        if let report {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let file = URL(fileURLWithPath: report).appendingPathComponent("plans.json")
            try encoder.encode(session.compiled.plans).write(to: file)
            print("Operation plans written: \(file.path)")
        }
        let cycles = record.totalCycles(session.executable.steps)
        let seconds = target.seconds(cycles: cycles)
        // The images the compiled network takes (an ONNX file with a fixed batch brings its own).
        let images = session.compiled.input.shape[0]
        print("Modelled: \(cycles.grouped) cycles per batch = \((cycles / images).grouped) per image; "
            + "\(String(format: "%.0f", Double(images) / seconds)) images/s on the simulated \(target.name)")
        print("Host: \(String(format: "%.3f", wallSeconds)) s per batch (\(String(format: "%.3f", cpuSeconds)) CPU s over all threads"
            + (repeats > 1 ? "; fastest of \(repeats) runs" : "") + ") = \(String(format: "%.1f", Double(images) / wallSeconds)) images/s")
        if let phases = record.hostPhases { print("Host phases (last run): \(phases.summary)") }
        print(LayerTable.text(session.compiled.plans))
    }

    private func inputBatch(_ session: ModelSession, images: [String], input: String?) throws -> [Float] {
        let shape = session.compiled.input.shape
        if let input {
            let array = try NumPyArray(contentsOf: URL(fileURLWithPath: input))
            guard array.shape == shape else {
                throw ValidationError("\(input) holds \(array.shape), the model takes \(shape)")
            }
            return array.values
        }
        if !images.isEmpty {
            return try images.flatMap { path in
                ImagePreprocessing.tensor(try RGBImage(contentsOf: URL(fileURLWithPath: path)), resize: shape[2] * 256 / 224, crop: shape[2])
            }
        }
        return ModelSession.syntheticInput(count: shape.reduce(1, *))
    }
}

/// The per-layer plan table.
enum LayerTable {
    static func text(_ plans: [OperationPlan]) -> String {
        var lines = ["Layers (plan chosen, modelled cycles, temporary bytes on the busiest tile)"]
        for plan in plans {
            lines.append("  \(plan.name.padding(toLength: 28, withPad: " ", startingAt: 0)) \(plan.kind.padding(toLength: 18, withPad: " ", startingAt: 0)) "
                + "\(plan.modelledCycles.grouped.padding(toLength: 10, withPad: " ", startingAt: 0)) \(plan.temporaryBytesPerTile.grouped.padding(toLength: 9, withPad: " ", startingAt: 0)) "
                + "\(plan.tilesUsed) tiles: \(plan.partition)")
        }
        return lines.joined(separator: "\n")
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}

extension TesseraCommand {
    struct Fit: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Find the largest batch of a model that fits on one simulated IPU.")

        @Argument(help: "resnet50, efficientnet-b0, efficientnet-b0-g16, or a .onnx file.")
        var name: String

        @OptionGroup var options: TargetOptions

        @OptionGroup var model: ModelOptions

        func run() throws {
            let command = ModelCommand(name: name, target: try options.target(), threads: options.threads, model: model)
            func attempt(_ batch: Int) throws -> BatchSizeSearch.Attempt {
                let (network, _) = try command.load(batch: batch)
                let result: BatchSizeSearch.Attempt
                do {
                    let lowered = try NetworkLowering.lower(network, target: command.target, elementType: try model.elementType(),
                                                            options: OpOptions(availableMemoryProportion: model.availableMemory),
                                                            foldsBatchNorm: model.foldsBatchNorm)
                    let executable = try Compiler.compile(lowered.graph, program: lowered.program)
                    result = .init(batch: batch, fits: true, bytes: executable.memory.fullestTile.totalBytes)
                } catch let CompileError.outOfMemory(failure) {
                    result = .init(batch: batch, fits: false, bytes: failure.bytesUsed)
                } catch OpError.doesNotFit(_, let needed, _, _) {
                    result = .init(batch: batch, fits: false, bytes: needed)
                }
                print("batch \(batch): fullest tile \(result.bytes.grouped) B \(result.fits ? "fits" : "does not fit")")
                return result
            }
            var search = BatchSizeSearch(budget: command.target.bytesPerTile)
            guard let (fits, next) = try search.run(attempt) else {
                throw ValidationError("\(name) does not fit on \(command.target.name) even at batch 1 (fullest tile \(search.attempts[0].bytes.grouped) B)")
            }
            print("Largest batch that fits on one \(command.target.name): \(fits.batch) (fullest tile \(fits.bytes.grouped) of \(command.target.bytesPerTile.grouped) B); "
                + "batch \(next.batch) needs \(next.bytes.grouped) B on its fullest tile (\(search.attempts.count) batch sizes compiled)")
        }
    }
}

extension ModelSession.Progress {
    /// The last stage reported before the session is ready.
    fileprivate var isLast: Bool { if case .loading = self { true } else { false } }
}
