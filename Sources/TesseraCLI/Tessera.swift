import ArgumentParser
import Foundation
import Tessera
import TesseraExamples

@main
struct TesseraCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tessera",
        abstract: "A simulated IPU-style many-core accelerator: compile graphs onto tiles, run them, see where memory and cycles go.",
        subcommands: [Info.self, Run.self, Fit.self, Plan.self])
}

/// Options shared by the subcommands.
struct TargetOptions: ParsableArguments {
    @Option(help: "Target preset: mk1, mk2 or bow.")
    var arch = "mk2"

    @Option(help: "Host worker threads (default: one per core).")
    var threads: Int?

    func target() throws -> Target {
        guard let target = Target.preset(named: arch) else {
            throw ValidationError("unknown target '\(arch)'; presets are mk1, mk2, bow")
        }
        return target
    }
}

/// The element type `--dtype` names: float32 or float16.
func floatingPointType(_ dtype: String) throws -> ElementType {
    guard let type = ElementType(rawValue: dtype), type.isFloatingPoint else {
        throw ValidationError("--dtype must be float32 or float16, got '\(dtype)'")
    }
    return type
}

extension TesseraCommand {
    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the simulated target and the host topology from hwloc.")

        @OptionGroup var options: TargetOptions

        func run() throws {
            let target = try options.target()
            print("Simulated target \(target.name): \(target.tiles.grouped) tiles × \(target.bytesPerTile.grouped) B "
                + "= \(target.totalBytes.grouped) B, \(target.clockHz / 1e9) GHz, \(target.workerContexts) worker contexts per tile")
            print("  AMP: \(target.float16MACsPerCycle) fp16 / \(target.float32MACsPerCycle) fp32 MACs per cycle per tile; "
                + "exchange \(target.exchangeBytesPerCycle) B/cycle per tile; sync \(target.syncCycles) cycles; "
                + "exchange overhead \(target.exchangeFixedCycles) cycles")
            let pool = try WorkerPool(threads: options.threads)
            print("Host:")
            print(pool.topology.summary)
            for pinning in pool.pinnings {
                print("  worker \(pinning.worker): core \(pinning.core), PU \(pinning.processingUnit), NUMA node \(pinning.numaNode), "
                    + "bound to \(pinning.boundSet), running on CPU \(pinning.observedCPU)")
            }
            pool.shutdown()
        }
    }

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a model or a bundled example on a simulated IPU and write its reports.")

        @Argument(help: "resnet50, efficientnet-b0, efficientnet-b0-g16, a .onnx file, or an example: matvec, sharding.")
        var example: String

        @Argument(help: "PNG or PPM images to classify (resized and normalised as torchvision does); default: a synthetic batch.")
        var images: [String] = []

        @OptionGroup var options: TargetOptions

        @OptionGroup var model: ModelOptions

        @Option(help: "Directory for the memory, cycle and trace reports.")
        var report: String?

        @Option(help: "A NumPy .npy file holding the input batch [N, 3, H, W].")
        var input: String?

        @Option(name: .customLong("save-outputs"), help: "Write the output tensor to this .npy file.")
        var saveOutputs: String?

        @Option(help: "Run the batch this many times and report the fastest host time (models only).")
        var repeats = 1

        @Flag(name: .customLong("time-host"), help: "Time where the host's worker threads spend each run (copies, vertices, barrier waits) and print it (models only).")
        var timeHost = false

        func run() throws {
            switch example {
            case "matvec": try runMatrixVector()
            case "sharding": try runSharding()
            default:
                try ModelCommand(name: example, target: try options.target(), threads: options.threads, model: model, timesHostPhases: timeHost)
                    .run(images: images, input: input, saveOutputs: saveOutputs, report: report, repeats: repeats)
            }
        }

        private func runMatrixVector() throws {
            let outcome: MatrixVectorExample.Outcome
            do {
                outcome = try MatrixVectorExample.run(target: try options.target(), threads: options.threads)
            } catch let CompileError.outOfMemory(failure) {
                try Reports.writeFailed(failure, directory: report)
                throw CompileError.outOfMemory(failure)
            }
            print("y = A·x on \(outcome.executable.target.tiles.grouped) tiles: max error vs float64 reference \(outcome.maxError)")
            try Reports.show(executable: outcome.executable, record: outcome.record, directory: report)
        }

        private func runSharding() throws {
            let target = try options.target(), parameters = 25_557_032
            print("Momentum SGD state for \(parameters.grouped) float32 parameters (ResNet-50) on \(target.name), fullest tile per replica:")
            print("  replicas  whole state (B)  sharded state (B)  saved per tile")
            for row in try ShardedOptimizerExample.memoryComparison(target: target, parameters: parameters, replicaCounts: [1, 4, 16]) {
                let saved = row.whole.totalBytes - row.sharded.totalBytes
                print("  \(String(row.replicas).padding(toLength: 8, withPad: " ", startingAt: 0))  \(row.whole.totalBytes.grouped)"
                    + "          \(row.sharded.totalBytes.grouped)            \(saved.grouped)")
            }
        }
    }
}
