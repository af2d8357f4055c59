import ArgumentParser
import Foundation
import Tessera

extension TesseraCommand {
    struct Plan: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Plan one convolution or matrix product without building a graph: its split over tiles and worker "
                + "contexts, modelled cycles and temporary memory, at one or several available-memory proportions.",
            discussion: """
                Examples:
                  tessera plan conv --batch 8 --in 64 --out 64 --field 56x56 --kernel 3 --padding 1
                  tessera plan conv --batch 8 --in 144 --out 144 --field 56x56 --kernel 3 --groups 144 --available-memory 0.1,0.3,0.6
                  tessera plan matmul --rows 8 --in 2048 --out 1000
                """)

        @Argument(help: "conv or matmul.")
        var operation: String

        @Option(help: "conv: images; matmul: independent matrix pairs (conv groups).")
        var batch = 1

        @Option(help: "matmul: rows of the left matrix (M).")
        var rows = 1

        @Option(name: .customLong("in"), help: "conv: input channels; matmul: the shared dimension (K).")
        var inputChannels: Int

        @Option(name: .customLong("out"), help: "conv: output channels; matmul: columns of the result (N).")
        var outputChannels: Int

        @Option(help: "conv: input height × width, as HxW.")
        var field = "56x56"

        @Option(help: "conv: kernel size (square).")
        var kernel = 1

        @Option(help: "conv: stride.")
        var stride = 1

        @Option(help: "conv: zero padding on every side.")
        var padding = 0

        @Option(help: "conv: dilation.")
        var dilation = 1

        @Option(help: "conv: groups (1 dense, channels for depthwise).")
        var groups = 1

        @Option(help: "Element type: float32 or float16.")
        var dtype = "float32"

        @Option(name: .customLong("available-memory"), help: "Proportions of tile memory for temporaries, comma-separated.")
        var availableMemory = "0.6"

        @OptionGroup var options: TargetOptions

        func run() throws {
            let target = try options.target()
            let type = try floatingPointType(dtype)
            let proportions = availableMemory.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard !proportions.isEmpty, proportions.allSatisfy({ (0...1).contains($0) }) else {
                throw ValidationError("--available-memory takes proportions between 0 and 1, got '\(availableMemory)'")
            }
            let parameters = try self.parameters(type)
            try parameters.validate(op: operation)
            print("\(operation) \(parameters) on \(target.name) (\(target.tiles.grouped) tiles × \(target.bytesPerTile.grouped) B, "
                + "\(target.clockHz / 1e9) GHz): \(parameters.macs.grouped) multiply-accumulates")
            if let folded = parameters.strideFolded {
                print("planned as \(folded): its kernel reads only every stride-th input row or column")
            }
            for row in try ConvPlanner.shared.sweep(parameters, target: target, proportions: proportions, op: operation) {
                print("\navailable memory \(row.availableMemoryProportion) (\(row.budgetBytes.grouped) B per tile for temporaries):")
                switch row.outcome {
                case let .success(plan):
                    let seconds = Double(plan.totalCycles) / target.clockHz
                    print(plan.description.split(separator: "\n").dropFirst().map { "  " + $0.trimmingCharacters(in: .whitespaces) }
                        .joined(separator: "\n"))
                    let amp = ConvCycleModel.ampUtilisation(inputChannelsPerGroup: parameters.inputChannelsPerGroup,
                                                            outputChannelsPerGroup: parameters.outputChannelsPerGroup, type: type, target: target)
                    let unit = plan.method == .vector
                        ? "vector unit, groups side by side in its lanes (the AMP would keep \(percent(amp)) of its multipliers busy)"
                        : "AMP, \(percent(amp)) of its multipliers busy"
                    print("  \(unit); modelled \(String(format: "%.2f", seconds * 1e6)) µs = "
                        + "\(String(format: "%.1f", 2 * Double(parameters.macs) / seconds / 1e12)) TFLOP/s")
                case let .failure(error):
                    print("  does not fit: \(error)")
                }
            }
        }

        private func percent(_ fraction: Double) -> String { String(format: "%.0f%%", fraction * 100) }

        private func parameters(_ type: ElementType) throws -> ConvParameters {
            switch operation {
            case "conv":
                let sizes = field.split(separator: "x").compactMap { Int($0) }
                guard sizes.count == 2 else { throw ValidationError("--field takes HxW, got '\(field)'") }
                return ConvParameters(batch: batch, inputChannels: inputChannels, outputChannels: outputChannels, groups: groups,
                                      inputField: sizes, kernel: [kernel, kernel], stride: [stride, stride],
                                      padding: .symmetric(padding), dilation: [dilation, dilation], elementType: type)
            case "matmul":
                return .matrixProduct(m: rows, k: inputChannels, n: outputChannels, groups: batch, elementType: type)
            default:
                throw ValidationError("operation must be conv or matmul, got '\(operation)'")
            }
        }
    }
}
