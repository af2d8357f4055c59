import Foundation
import Testing
import Tessera
@testable import TesseraONNX

/// Runs each fixture model through import, lowering, compilation and the engine, and compares the
/// output with ONNX Runtime's (stored beside the model by scripts/make_onnx_fixtures.py, and for the
/// `torch_` models, exported by PyTorch itself from torchvision's modules, by scripts/make_torch_fixtures.py).
@Suite struct ONNXRunTests {
    /// With `foldsBatchNorm` the batch norms after convolutions are folded into them: the residual
    /// block's four and the MBConv block's three (PyTorch's exporter folds its own before writing).
    @Test(arguments: ["convolutions", "residual_block", "mbconv_se", "grouped_depthwise", "torch_resnet_blocks", "torch_efficientnet_small"],
          [false, true])
    func outputMatchesONNXRuntime(fixture: String, foldsBatchNorm: Bool) throws {
        let input = try NumPyArray(contentsOf: ONNXImportTests.fixture("\(fixture).input.npy"))
        let expected = try NumPyArray(contentsOf: ONNXImportTests.fixture("\(fixture).output.npy"))
        let model = try ONNXModel(contentsOf: ONNXImportTests.fixture("\(fixture).onnx"), batch: input.shape[0])
        let lowered = try NetworkLowering.lower(model.network, target: Target(name: "test16", tiles: 16, bytesPerTile: 262_144),
                                                foldsBatchNorm: foldsBatchNorm)
        let norms = ["residual_block": 4, "mbconv_se": 3][fixture] ?? 0
        #expect(lowered.foldedBatchNorms.count == (foldsBatchNorm ? norms : 0))
        let engine = try Engine(try Compiler.compile(lowered.graph, program: lowered.program), options: EngineOptions(threads: 2))
        try lowered.compiled.write(weights: model.weights, to: engine)
        try lowered.compiled.write(input: input.values, to: engine)
        try engine.run()
        let output = try lowered.compiled.readOutput(from: engine)
        #expect(lowered.output.shape == expected.shape)
        #expect(output.count == expected.values.count && output.allSatisfy { $0.isFinite }, "\(fixture): \(output.count) outputs")
        let scale = expected.values.map(abs).max() ?? 1
        let error = zip(output, expected.values).map { abs($0 - $1) }.max() ?? 0
        #expect(error <= 1e-4 * scale, "\(fixture): max error \(error) against max |reference| \(scale)")
    }
}

/// The host's part of a folded batch norm: every parameter it is computed from must be given.
@Suite struct FoldedBatchNormWeightTests {
    @Test func aMissingOrMisshapenNormParameterIsATypedError() throws {
        let model = try ONNXModel(contentsOf: ONNXImportTests.fixture("residual_block.onnx"), batch: 1)
        let lowered = try NetworkLowering.lower(model.network, target: Target(name: "test16", tiles: 16, bytesPerTile: 262_144),
                                                foldsBatchNorm: true)
        let engine = try Engine(try Compiler.compile(lowered.graph, program: lowered.program), options: EngineOptions(threads: 1))
        let fold = try #require(lowered.foldedBatchNorms.first)
        var weights = model.weights
        weights["\(fold.batchNorm).running_var"] = nil
        #expect { try lowered.compiled.write(weights: weights, to: engine) } throws: {
            $0 as? ModelError == .missingWeight("\(fold.batchNorm).running_var")
        }
        weights["\(fold.batchNorm).running_var"] = NumPyArray(shape: [3], values: [1, 1, 1])
        #expect { try lowered.compiled.write(weights: weights, to: engine) } throws: {
            "\($0)".contains("\(fold.batchNorm).running_var") && "\($0)".contains("[3]")
        }
    }
}

/// Initializers kept outside the model file, as torch.onnx.export's dynamo exporter writes them.
@Suite struct ONNXExternalDataTests {
    static let model = "torch_efficientnet_small"

    @Test func externalValuesAreReadFromBesideTheModel() throws {
        let model = try ONNXModel(contentsOf: ONNXImportTests.fixture("\(Self.model).onnx"), batch: 2)
        #expect(model.opset == 18)
        #expect(model.weights.values.allSatisfy { $0.values.count == $0.shape.reduce(1, *) })
        #expect(model.weights.values.contains { $0.values.contains { $0 != 0 } })
    }

    @Test func bytesWithoutTheirFolderAreATypedError() throws {
        let data = try Data(contentsOf: ONNXImportTests.fixture("\(Self.model).onnx"))
        #expect {
            _ = try ONNXModel(data: data, batch: 2)
        } throws: { error in
            "\(error)".contains("external file '\(Self.model).onnx.data'") && "\(error)".contains("ONNXModel(contentsOf:)")
        }
    }

    @Test func aShortOrMissingDataFileIsATypedError() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-external-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let modelFile = folder.appendingPathComponent("\(Self.model).onnx")
        try FileManager.default.copyItem(at: ONNXImportTests.fixture("\(Self.model).onnx"), to: modelFile)
        #expect { _ = try ONNXModel(contentsOf: modelFile, batch: 2) } throws: { "\($0)".contains("cannot read external data file") }
        let values = try Data(contentsOf: ONNXImportTests.fixture("\(Self.model).onnx.data"))
        try values.prefix(values.count / 2).write(to: folder.appendingPathComponent("\(Self.model).onnx.data"))
        #expect { _ = try ONNXModel(contentsOf: modelFile, batch: 2) } throws: { "\($0)".contains("lie outside") }
    }

    /// Offsets and lengths whose sum overflows, or that are no numbers, are outside the file too.
    @Test func impossibleOffsetsAndLengthsAreTypedErrors() throws {
        let original = try Onnx_ModelProto(serializedBytes: try Data(contentsOf: ONNXImportTests.fixture("\(Self.model).onnx")))
        let external = try #require(original.graph.initializer.firstIndex { !$0.externalData.isEmpty })
        for (offset, length) in [("1", "\(Int.max)"), ("\(Int.max)", nil), ("-8", "4"), ("x", "4")] {
            var proto = original
            proto.graph.initializer[external].externalData.removeAll { $0.key == "offset" || $0.key == "length" }
            for (key, value) in [("offset", offset), ("length", length)] {
                guard let value else { continue }
                var entry = Onnx_StringStringEntryProto()
                entry.key = key
                entry.value = value
                proto.graph.initializer[external].externalData.append(entry)
            }
            #expect {
                _ = try ONNXModel(data: try proto.serializedData(), batch: 2, externalDataDirectory: NumPyArrayTests.fixtures)
            } throws: { "\($0)".contains("lie outside") }
        }
    }
}
