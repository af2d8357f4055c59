import Testing
import Tessera
@testable import TesseraModels

@Suite struct ModelArchitectureTests {
    @Test func resnet50MatchesTorchvision() {
        let net = ResNet.resnet50()
        #expect(net.parameterCount == 25_557_032)
        #expect(net.parameters.count == 161)
        #expect(net.parameters.first?.name == "conv1.weight")
        #expect(net.parameters.contains { $0.name == "layer4.0.downsample.0.weight" && $0.shape == [2048, 1024, 1, 1] })
        #expect(net.parameters.last == NetworkParameter(name: "fc.bias", shape: [1000]))
        // ≈4.09 G multiply-accumulates per 224 × 224 image.
        #expect(abs(Double(net.multiplyAccumulatesPerImage) / 4.09e9 - 1) < 0.01)
        #expect(net.output.outputShape == [1, 1000])
    }

    @Test func efficientNetB0MatchesTorchvision() {
        let net = EfficientNet.b0(batch: 8)
        #expect(net.parameterCount == 5_288_548)
        #expect(net.parameters.contains { $0.name == "features.1.0.block.0.0.weight" && $0.shape == [32, 1, 3, 3] })
        #expect(net.parameters.contains { $0.name == "features.2.0.block.2.fc1.weight" && $0.shape == [4, 96, 1, 1] })
        #expect(net.parameters.last == NetworkParameter(name: "classifier.1.bias", shape: [1000]))
        #expect(abs(Double(net.multiplyAccumulatesPerImage) / 0.39e9 - 1) < 0.03)
        #expect(net.output.outputShape == [8, 1000])
        #expect(net.nodes.first { $0.name == "features.7.0.block.1.0" }?.outputShape == [8, 1152, 7, 7])
    }

    @Test func groupedVariantUsesSixteenChannelsPerGroup() {
        let net = EfficientNet.b0G16()
        let spatial = net.nodes.compactMap { node -> (Int, Int)? in
            guard case let .convolution(out, kernel, _, _, groups, _) = node.operation, kernel > 1, node.name != "features.0.0" else { return nil }
            return (out, groups)
        }
        #expect(spatial.allSatisfy { $0.0 / $0.1 == 16 || $0.1 == 1 })
        #expect(abs(Double(net.parameterCount) / 5.91e6 - 1) < 0.02)
        #expect(abs(Double(net.multiplyAccumulatesPerImage) / 0.635e9 - 1) < 0.03)
        let groupNorm = EfficientNet.b0G16(normalization: .groupNorm(channelsPerGroup: 16))
        #expect(groupNorm.parameterCount == net.parameterCount)
        #expect(groupNorm.nodes.contains { $0.operation == .groupNorm(groups: 2, epsilon: 1e-5) })
    }
}

/// Which activations the lowering applies inside the operation before them, and which batch norms it folds.
@Suite struct FusedActivationTests {
    @Test func everyActivationOfAnOperationThatNothingElseReadsIsFused() {
        // ResNet-50: the stem's and all three of each of the 16 bottlenecks' (the third in the
        // residual add, after the shortcut is added).
        let resnet = ResNet.resnet50()
        let fused = NetworkLowering.fusions(resnet)
        #expect(fused.isFused.count { $0 } == 49)
        #expect(fused.activation.compactMap { $0 }.allSatisfy { $0 == .relu })
        for (index, node) in resnet.nodes.enumerated() where fused.isFused[index] {
            #expect(fused.activation[node.inputs[0]] == .relu, "\(node.name)")
        }
        let bn3 = resnet.nodes.firstIndex { $0.name == "layer1.0.bn3" }!, add = resnet.nodes.firstIndex { $0.name == "layer1.0.add" }!
        #expect(fused.activation[bn3] == nil && fused.activation[add] == .relu)
        // EfficientNet-B0: the stem, both of 15 blocks with an expansion and the depthwise one of
        // the first, and the head (33 SiLUs after norms, never the projection norms, which have no
        // activation); and in each of the 16 squeeze-excitations the SiLU and the sigmoid of its
        // two convolutions.
        let efficientNet = EfficientNet.b0(batch: 1)
        let silu = NetworkLowering.fusions(efficientNet)
        #expect(silu.isFused.count { $0 } == 65)
        #expect(silu.activation.count { $0 == .silu } == 49 && silu.activation.count { $0 == .sigmoid } == 16)
        #expect(silu.foldedBatchNorm.allSatisfy { $0 == nil })
    }

    @Test func foldingPutsEveryBatchNormIntoItsConvolutionAndItsActivationAfterIt() {
        let resnet = ResNet.resnet50()
        let fused = NetworkLowering.fusions(resnet, foldsBatchNorm: true)
        let norms = resnet.nodes.indices.filter { if case .batchNorm = resnet.nodes[$0].operation { true } else { false } }
        #expect(norms.count == 53)
        #expect(fused.foldedBatchNorm.compactMap { $0 }.sorted() == norms)
        for norm in norms { #expect(fused.isFused[norm] && fused.foldedBatchNorm[resnet.nodes[norm].inputs[0]] == norm) }
        // The 33 ReLUs after norms now go to the convolutions; the 16 after adds stay with them.
        #expect(fused.isFused.count { $0 } == 53 + 49)
        let conv1 = resnet.nodes.firstIndex { $0.name == "conv1" }!, add = resnet.nodes.firstIndex { $0.name == "layer1.0.add" }!
        #expect(fused.activation[conv1] == .relu && fused.activation[add] == .relu)
        #expect(fused.activation.count { $0 != nil } == 49)
    }

    @Test func anOperationAppliesOneActivationOfAChain() {
        var net = NetworkBuilder()
        let x = net.input([1, 4, 6, 6])
        let conv = net.convolution("conv", x, out: 4, kernel: 3)
        let norm = net.sameShape("norm", .batchNorm(epsilon: 1e-5), conv)
        let relu = net.sameShape("relu", .relu, norm)
        let sigmoid = net.sameShape("sigmoid", .sigmoid, relu)
        let network = Network(name: "chain", nodes: net.nodes)
        for folds in [false, true] {
            let fused = NetworkLowering.fusions(network, foldsBatchNorm: folds)
            // The ReLU goes into the norm (or, folded, the convolution); the sigmoid after it stays a step.
            #expect(fused.activation[folds ? conv : norm] == .relu && fused.isFused[relu])
            #expect(!fused.isFused[sigmoid] && !fused.activation.contains(.sigmoid))
            #expect(fused.isFused[norm] == folds)
        }
    }
}

/// Network inputs no variable can hold.
@Suite struct NetworkInputTests {
    @Test func anInputTooLargeForOneVariableIsATypedError() {
        for shape in [[1, 3, 50_000, 50_000], [-1, 3, 8, 8]] {
            var net = NetworkBuilder()
            _ = net.convolution("conv", net.input(shape), out: 4, kernel: 1)
            let network = Network(name: "huge", nodes: net.nodes)
            #expect(throws: ModelError.inputShapeTooLarge(shape)) {
                _ = try NetworkLowering.lower(network, target: Target(name: "test16", tiles: 16, bytesPerTile: 262_144))
            }
        }
    }
}
