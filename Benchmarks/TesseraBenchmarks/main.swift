// Tessera's benchmarks. Run optimised: `swift run -c release tessera-benchmarks [runtime|collectives|conv|all]`,
// or `model [name batch resolution repeats]`
// (`conv` times ONNX Runtime too, through scripts/onnx_conv_reference.py, which installs onnxruntime from PyPI).
// Every figure is printed beside a reference measured in the same run.
import Foundation
import Tessera

let target = Target.mk2
let selection = CommandLine.arguments.dropFirst().first ?? "all"
print("Tessera benchmarks on \(target.name) (\(target.tiles) tiles), host threads: one per core")
if selection == "runtime" || selection == "all" { try runtimeBenchmarks(target: target) }
if selection == "collectives" || selection == "all" { try collectiveBenchmarks(target: target) }
if selection == "conv" || selection == "all" { try convolutionBenchmarks(target: target) }
if selection == "model" { try modelBenchmarks(target: target, arguments: Array(CommandLine.arguments.dropFirst(2))) }
