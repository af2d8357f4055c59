import Foundation
import Testing
import Tessera
@testable import TesseraONNX
import TesseraTestSupport

@Suite struct ONNXImportTests {
    static func fixture(_ name: String) -> URL { NumPyArrayTests.fixtures.appendingPathComponent(name) }

    @Test func residualBlockImportsWithTorchvisionNames() throws {
        let model = try ONNXModel(contentsOf: Self.fixture("residual_block.onnx"), batch: 2)
        let net = model.network
        #expect(net.nodes.first?.outputShape == [2, 16, 8, 8])
        #expect(net.output.outputShape == [2, 10])
        let kinds = net.nodes.map(\.operation)
        #expect(kinds.filter { if case .convolution = $0 { true } else { false } }.count == 4)
        #expect(kinds.filter { if case .batchNorm = $0 { true } else { false } }.count == 4)
        #expect(kinds.contains(.add) && kinds.contains(.globalAveragePool) && kinds.contains(.flatten))
        for parameter in net.parameters {
            #expect(model.weights[parameter.name]?.shape == parameter.shape, "\(parameter.name)")
        }
        #expect(model.weights["layer1.0.bn1.running_var"]?.shape == [8])
        #expect(model.opset == 17)
    }

    @Test func siluAndSqueezeExcitationAreRecognised() throws {
        let model = try ONNXModel(contentsOf: Self.fixture("mbconv_se.onnx"), batch: 2)
        let kinds = model.network.nodes.map(\.operation)
        #expect(kinds.filter { $0 == .silu }.count == 3)
        #expect(kinds.filter { $0 == .sigmoid }.count == 1)
        #expect(kinds.filter { $0 == .channelScale }.count == 1)
        #expect(model.network.nodes.contains { $0.name == "block.1.0" && $0.operation == .convolution(outputChannels: 64, kernel: 5, stride: 1, padding: 2, groups: 64, bias: false) })
        #expect(model.network.output.outputShape == [2, 16, 9, 9])
    }

    @Test func groupedAndDepthwiseConvolutionsKeepTheirGroups() throws {
        let model = try ONNXModel(contentsOf: Self.fixture("grouped_depthwise.onnx"), batch: 2)
        let groups = model.network.nodes.compactMap { node -> Int? in
            if case let .convolution(_, _, _, _, groups, _) = node.operation { return groups }
            return nil
        }
        #expect(groups == [2, 32])
        #expect(model.network.output.outputShape == [2, 32, 5, 5])
    }

    @Test func unsupportedOperatorsAreListedTogether() throws {
        var proto = try Onnx_ModelProto(serializedBytes: try Data(contentsOf: Self.fixture("residual_block.onnx")))
        proto.graph.node[2].opType = "LSTM"
        proto.graph.node[5].opType = "Softmax"
        // A node of another domain is named with it; one without a name by its first output.
        proto.graph.node[6].domain = "com.example"
        proto.graph.node[7].name = ""
        proto.graph.node[7].opType = ""
        let names = (proto.graph.node[2].name, proto.graph.node[5].name, proto.graph.node[6].name, proto.graph.node[7].output[0])
        let custom = "com.example.\(proto.graph.node[6].opType)"
        #expect(throws: ONNXError.unsupportedOperators([("LSTM", names.0), ("Softmax", names.1), (custom, names.2),
                                                         ("(no operator type)", names.3)])) {
            try ONNXModel(data: try proto.serializedData())
        }
    }

    /// Attributes and initializers no file from an exporter holds, each refused with the node or
    /// initializer it is in, before any size is computed from them.
    @Test func impossibleAttributesAndInitializersAreTypedErrors() throws {
        let original = try Onnx_ModelProto(serializedBytes: try Data(contentsOf: Self.fixture("convolutions.onnx")))
        let conv = try #require(original.graph.node.firstIndex { $0.opType == "Conv" })
        func attribute(_ name: String, _ ints: [Int64]) -> Onnx_AttributeProto {
            var attribute = Onnx_AttributeProto()
            attribute.name = name
            attribute.type = name == "group" ? .int : .ints
            if name == "group" { attribute.i = ints[0] } else { attribute.ints = ints }
            return attribute
        }
        for (name, ints) in [("strides", [Int64(0), 0]), ("pads", [Int64.max, .max, .max, .max]), ("group", [Int64(0)])] {
            var proto = original
            proto.graph.node[conv].attribute.removeAll { $0.name == name }
            proto.graph.node[conv].attribute.append(attribute(name, ints))
            #expect(thrownCase { try ONNXModel(data: try proto.serializedData()) } == "unsupportedAttribute", "\(name) \(ints)")
        }
        for dims in [[Int64(-1)], [Int64(1) << 40, 1 << 40]] {
            var proto = original
            proto.graph.initializer[0].dims = dims
            #expect(thrownCase { try ONNXModel(data: try proto.serializedData()) } == "badModel", "\(dims)")
        }
    }

    @Test func truncatedCorruptAndForeignFilesAreTypedErrors() throws {
        let bytes = try Data(contentsOf: Self.fixture("convolutions.onnx"))
        for data in [bytes.prefix(bytes.count / 2), Data(), Data("not a model at all".utf8),
                     try Data(contentsOf: Self.fixture("convolutions.input.npy"))] {
            #expect(thrownCase { try ONNXModel(data: Data(data)) } == "notONNX", "\(data.count) bytes")
        }
        var corrupt = bytes
        for index in stride(from: 100, to: corrupt.count, by: 97) { corrupt[index] ^= 0xA5 }
        #expect(thrownCase { try ONNXModel(data: corrupt) } == "notONNX")
    }

    /// Hundreds of damaged copies of every fixture: each imports or fails with a typed error that
    /// says what is wrong, never crashes; a file cut short always fails.
    @Test func damagedModelsNeverCrash() throws {
        var failures = 0
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: state >> 33)
        }
        for name in ["convolutions", "residual_block", "mbconv_se", "grouped_depthwise"] {
            let bytes = try Data(contentsOf: Self.fixture("\(name).onnx"))
            for _ in 0..<80 {
                var damaged = bytes
                for _ in 0..<(1 + next() % 4) { damaged[next() % damaged.count] = UInt8(truncatingIfNeeded: next()) }
                do { _ = try ONNXModel(data: damaged, batch: 2) } catch {
                    failures += 1
                    // Every case carries what is wrong: a detail, a node, the operators.
                    let said: String
                    switch error {
                    case let .notONNX(detail), let .badModel(detail): said = detail
                    case let .unsupportedAttribute(node, detail): said = node + detail
                    case let .unsupportedOperators(list): said = list.map { $0.opType + $0.node }.joined()
                    }
                    #expect(!said.trimmingCharacters(in: .whitespaces).isEmpty, "\(error)")
                }
            }
            #expect(thrownCase { try ONNXModel(data: bytes.prefix(bytes.count / 2), batch: 2) } == "notONNX", "\(name)")
        }
        #expect(failures > 0)
    }
}

@Suite struct ONNXExportTests {
    /// A small network with every operation the exporter writes.
    static func everyOperation() -> Network {
        var net = NetworkBuilder()
        var x = net.input([2, 3, 12, 12])
        x = net.convolution("stem", x, out: 16, kernel: 3, stride: 2, bias: true)
        x = net.sameShape("stem_bn", .batchNorm(epsilon: 1e-3), x)
        x = net.sameShape("act", .hardSwish, x)
        x = net.maxPool("pool", x, kernel: 3, stride: 1, padding: 1)
        var y = net.convolution("block.dw", x, out: 16, kernel: 5, groups: 16)
        y = net.sameShape("block.act", .silu, y)
        var s = net.globalAveragePool("block.se.pool", y)
        s = net.convolution("block.se.fc1", s, out: 4, kernel: 1, bias: true)
        s = net.sameShape("block.se.relu", .relu, s)
        s = net.convolution("block.se.fc2", s, out: 16, kernel: 1, bias: true)
        s = net.sameShape("block.se.gate", .sigmoid, s)
        y = net.sameShape("block.se.scale", .channelScale, y, s)
        y = net.sameShape("block.tanh", .tanh, y)
        x = net.sameShape("block.add", .add, y, x)
        x = net.flatten("flatten", net.globalAveragePool("head.pool", x))
        _ = net.linear("fc", x, out: 10)
        return Network(name: "every_operation", nodes: net.nodes)
    }

    @Test func exportThenImportGivesTheSameNetworkAndWeights() throws {
        let network = Self.everyOperation()
        let weights = NetworkWeights.random(for: network, seed: 7)
        #expect(Set(weights.keys) == Set(network.parameters.map(\.name) + ["stem_bn.running_mean", "stem_bn.running_var"]))
        let imported = try ONNXModel(data: try ONNXModel.export(network, weights: weights), batch: 2)
        #expect(imported.network.parameters == network.parameters)
        #expect(imported.network.nodes.map(\.operation) == network.nodes.map(\.operation))
        #expect(imported.network.nodes.map(\.outputShape) == network.nodes.map(\.outputShape))
        #expect(imported.weights == weights)
    }

    @Test func groupNormIsNotExportedSilently() throws {
        var net = NetworkBuilder()
        let x = net.convolution("conv", net.input([1, 3, 8, 8]), out: 32, kernel: 3)
        _ = net.sameShape("norm", .groupNorm(groups: 2, epsilon: 1e-5), x)
        let network = Network(name: "gn", nodes: net.nodes)
        #expect(throws: ONNXError.badModel(detail: "node 'norm': group normalisation is not exported (its ONNX form changed between opsets)")) {
            try ONNXModel.export(network, weights: NetworkWeights.random(for: network))
        }
    }
}
