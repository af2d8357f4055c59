/// ResNet-50 v1.5 with torchvision's layout and parameter names: the stride-2 sits on the 3×3
/// convolution of each stage's first bottleneck block.
public enum ResNet {
    /// torchvision's `resnet50` for a batch of `batch` images of `resolution` × `resolution`.
    public static func resnet50(batch: Int = 1, resolution: Int = 224, classes: Int = 1000) -> Network {
        var net = NetworkBuilder()
        var x = net.input([batch, 3, resolution, resolution])
        x = net.convolution("conv1", x, out: 64, kernel: 7, stride: 2, padding: 3)
        x = net.sameShape("bn1", .batchNorm(epsilon: 1e-5), x)
        x = net.sameShape("relu", .relu, x)
        x = net.maxPool("maxpool", x, kernel: 3, stride: 2, padding: 1)
        for (stage, (blocks, width)) in zip([3, 4, 6, 3], [64, 128, 256, 512]).enumerated() {
            for block in 0..<blocks {
                let prefix = "layer\(stage + 1).\(block)"
                let stride = stage > 0 && block == 0 ? 2 : 1
                var y = net.convolution("\(prefix).conv1", x, out: width, kernel: 1)
                y = net.sameShape("\(prefix).bn1", .batchNorm(epsilon: 1e-5), y)
                y = net.sameShape("\(prefix).relu1", .relu, y)
                y = net.convolution("\(prefix).conv2", y, out: width, kernel: 3, stride: stride)
                y = net.sameShape("\(prefix).bn2", .batchNorm(epsilon: 1e-5), y)
                y = net.sameShape("\(prefix).relu2", .relu, y)
                y = net.convolution("\(prefix).conv3", y, out: 4 * width, kernel: 1)
                y = net.sameShape("\(prefix).bn3", .batchNorm(epsilon: 1e-5), y)
                var shortcut = x
                if block == 0 {
                    shortcut = net.convolution("\(prefix).downsample.0", x, out: 4 * width, kernel: 1, stride: stride)
                    shortcut = net.sameShape("\(prefix).downsample.1", .batchNorm(epsilon: 1e-5), shortcut)
                }
                y = net.sameShape("\(prefix).add", .add, y, shortcut)
                x = net.sameShape("\(prefix).relu3", .relu, y)
            }
        }
        x = net.globalAveragePool("avgpool", x)
        x = net.flatten("flatten", x)
        _ = net.linear("fc", x, out: classes)
        return Network(name: "resnet50", nodes: net.nodes)
    }
}
