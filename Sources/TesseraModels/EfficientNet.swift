/// EfficientNet-B0 with torchvision's layout and parameter names, and Graphcore's grouped variant.
public enum EfficientNet {
    /// How each block's spatial convolution groups its channels.
    public enum SpatialGrouping: Sendable, Hashable {
        /// One channel per group (depthwise), as in the original network.
        case depthwise
        /// `channelsPerGroup` channels per group ("G16": 16), which keeps the AMP unit busy.
        case grouped(channelsPerGroup: Int)
    }

    /// Which normalisation follows each convolution.
    public enum Normalization: Sendable, Hashable {
        /// Batch normalisation.
        case batchNorm
        /// Group normalisation with `channelsPerGroup` channels per group.
        case groupNorm(channelsPerGroup: Int)
    }

    /// torchvision's `efficientnet_b0`.
    public static func b0(batch: Int = 1, resolution: Int = 224, classes: Int = 1000) -> Network {
        b0(batch: batch, resolution: resolution, classes: classes, grouping: .depthwise, expansion: 6, normalization: .batchNorm, name: "efficientnet_b0")
    }

    /// The grouped variant ("G16"): every depthwise convolution grouped 16 channels per group and
    /// expansion ratio 4 instead of 6, with batch or group normalisation.
    public static func b0G16(batch: Int = 1, resolution: Int = 224, classes: Int = 1000,
                             normalization: Normalization = .batchNorm) -> Network {
        b0(batch: batch, resolution: resolution, classes: classes, grouping: .grouped(channelsPerGroup: 16), expansion: 4,
           normalization: normalization, name: "efficientnet_b0_g16")
    }

    /// Stages of B0: (repeats, kernel, first stride, expansion (1 or the network's), output channels).
    private static let stages = [(1, 3, 1, false, 16), (2, 3, 2, true, 24), (2, 5, 2, true, 40), (3, 3, 2, true, 80),
                                 (3, 5, 1, true, 112), (4, 5, 2, true, 192), (1, 3, 1, true, 320)]

    private static func b0(batch: Int, resolution: Int, classes: Int, grouping: SpatialGrouping, expansion: Int,
                           normalization: Normalization, name: String) -> Network {
        var net = NetworkBuilder()
        func norm(_ name: String, _ x: Int, channels: Int) -> Int {
            switch normalization {
            case .batchNorm: net.sameShape(name, .batchNorm(epsilon: 1e-5), x)
            case let .groupNorm(perGroup): net.sameShape(name, .groupNorm(groups: max(channels / perGroup, 1), epsilon: 1e-5), x)
            }
        }
        var x = net.input([batch, 3, resolution, resolution])
        x = net.convolution("features.0.0", x, out: 32, kernel: 3, stride: 2)
        x = norm("features.0.1", x, channels: 32)
        x = net.sameShape("features.0.2", .silu, x)
        var channels = 32
        for (stage, (repeats, kernel, firstStride, expands, out)) in stages.enumerated() {
            for block in 0..<repeats {
                let prefix = "features.\(stage + 1).\(block).block"
                let stride = block == 0 ? firstStride : 1
                let hidden = expands ? channels * expansion : channels
                var y = x, layer = 0
                if hidden != channels {
                    y = net.convolution("\(prefix).0.0", y, out: hidden, kernel: 1)
                    y = norm("\(prefix).0.1", y, channels: hidden)
                    y = net.sameShape("\(prefix).0.2", .silu, y)
                    layer = 1
                }
                let groups = grouping == .depthwise ? hidden : max(hidden / channelsPerGroup(grouping), 1)
                y = net.convolution("\(prefix).\(layer).0", y, out: hidden, kernel: kernel, stride: stride, groups: groups)
                y = norm("\(prefix).\(layer).1", y, channels: hidden)
                y = net.sameShape("\(prefix).\(layer).2", .silu, y)
                y = squeezeExcitation(&net, "\(prefix).\(layer + 1)", y, squeezed: max(1, channels / 4))
                y = net.convolution("\(prefix).\(layer + 2).0", y, out: out, kernel: 1)
                y = norm("\(prefix).\(layer + 2).1", y, channels: out)
                x = stride == 1 && channels == out ? net.sameShape("features.\(stage + 1).\(block).add", .add, y, x) : y
                channels = out
            }
        }
        x = net.convolution("features.8.0", x, out: 1280, kernel: 1)
        x = norm("features.8.1", x, channels: 1280)
        x = net.sameShape("features.8.2", .silu, x)
        x = net.globalAveragePool("avgpool", x)
        x = net.flatten("flatten", x)
        _ = net.linear("classifier.1", x, out: classes)
        return Network(name: name, nodes: net.nodes)
    }

    /// Squeeze-and-excitation: pool, 1×1 convolution down to `squeezed` channels, SiLU, back up, sigmoid, scale.
    private static func squeezeExcitation(_ net: inout NetworkBuilder, _ prefix: String, _ x: Int, squeezed: Int) -> Int {
        let channels = net.nodes[x].outputShape[1]
        var s = net.globalAveragePool("\(prefix).avgpool", x)
        s = net.convolution("\(prefix).fc1", s, out: squeezed, kernel: 1, bias: true)
        s = net.sameShape("\(prefix).activation", .silu, s)
        s = net.convolution("\(prefix).fc2", s, out: channels, kernel: 1, bias: true)
        s = net.sameShape("\(prefix).scale_activation", .sigmoid, s)
        return net.sameShape("\(prefix).scale", .channelScale, x, s)
    }

    private static func channelsPerGroup(_ grouping: SpatialGrouping) -> Int {
        if case let .grouped(perGroup) = grouping { return perGroup }
        return 1
    }
}
