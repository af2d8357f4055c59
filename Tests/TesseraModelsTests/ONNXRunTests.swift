import Foundation
import Testing
import Tessera
import TesseraONNX

/// Runs each fixture model through import, lowering, compilation and the engine, and compares the
/// output with ONNX Runtime's (stored beside the model by scripts/make_onnx_fixtures.py).
@Suite struct ONNXRunTests {
    @Test(arguments: ["convolutions", "residual_block", "mbconv_se", "grouped_depthwise"])
    func outputMatchesONNXRuntime(fixture: String) throws {
        let input = try NumPyArray(contentsOf: ONNXImportTests.fixture("\(fixture).input.npy"))
        let expected = try NumPyArray(contentsOf: ONNXImportTests.fixture("\(fixture).output.npy"))
        let model = try ONNXModel(contentsOf: ONNXImportTests.fixture("\(fixture).onnx"), batch: input.shape[0])
        let lowered = try NetworkLowering.lower(model.network, target: Target(name: "test16", tiles: 16, bytesPerTile: 262_144))
        let engine = try Engine(try Compiler.compile(lowered.graph, program: lowered.program), options: EngineOptions(threads: 2))
        try lowered.write(weights: model.weights, to: engine)
        try lowered.write(input: input.values, to: engine)
        try engine.run()
        let output = try lowered.readOutput(from: engine)
        #expect(lowered.output.shape == expected.shape)
        let scale = expected.values.map(abs).max() ?? 1
        let error = zip(output, expected.values).map { abs($0 - $1) }.max() ?? 0
        #expect(error <= 1e-4 * scale, "\(fixture): max error \(error) against max |reference| \(scale)")
    }
}
