// Tessera's benchmarks. Run optimised: `swift run -c release tessera-benchmarks [runtime|collectives|conv|compile [model …]|models [batch] [resolution] [model …]|all]`
// (`conv` and `models` time ONNX Runtime too, through scripts/onnx_conv_reference.py and
// scripts/onnx_model_reference.py, which install onnxruntime from PyPI).
// Every figure is printed beside a reference measured in the same run.
import Foundation
import Tessera

let target = Target.mk2
let selection = CommandLine.arguments.dropFirst().first ?? "all"
let selections = ["runtime", "collectives", "conv", "compile", "models", "all"]
guard selections.contains(selection) else {
    print("unknown benchmark '\(selection)'; choose one of \(selections.joined(separator: ", "))")
    exit(2)
}
print("Tessera benchmarks on \(target.name) (\(target.tiles) tiles), host threads: one per core, convolution register block: \(ConvRegisterBlock.host)")
if selection == "runtime" || selection == "all" { try runtimeBenchmarks(target: target) }
if selection == "collectives" || selection == "all" { try collectiveBenchmarks(target: target) }
if selection == "conv" || selection == "all" { try convolutionBenchmarks(target: target) }
if selection == "compile" || selection == "all" {
    // `compile [model …]`: both models unless given.
    let names = Array(CommandLine.arguments.dropFirst(2))
    try compileBenchmarks(target: target, names: selection == "compile" && !names.isEmpty ? names : ["resnet50", "efficientnet-b0"])
}
if selection == "models" || selection == "all" {
    // `models [batch] [resolution] [model …]`: batch 8 at 224 × 224 and both models unless given.
    let arguments = CommandLine.arguments.dropFirst(2), sizes = arguments.compactMap { Int($0) }
    try modelBenchmarks(target: target, names: arguments.filter { Int($0) == nil }, batch: sizes.first ?? 8,
                        resolution: sizes.dropFirst().first ?? 224)
}
