/// One convolution layer's shape, as the benchmark and scripts/onnx_conv_reference.py exchange it.
struct ConvolutionShape: Codable, Hashable {
    var name: String
    var batch: Int
    var inputChannels: Int
    var outputChannels: Int
    var groups: Int
    var height: Int
    var width: Int
    var kernel: Int
    var stride: Int
    var padding: Int

    var outputHeight: Int { (height + 2 * padding - kernel) / stride + 1 }
    var outputWidth: Int { (width + 2 * padding - kernel) / stride + 1 }
    /// Floating-point operations: two per multiply-accumulate.
    var flops: Int { 2 * batch * outputChannels * outputHeight * outputWidth * (inputChannels / groups) * kernel * kernel }

    enum CodingKeys: String, CodingKey {
        case name, batch, inputChannels, outputChannels, groups, height, width, kernel, stride, padding, flops
    }

    init(name: String, batch: Int, inputChannels: Int, outputChannels: Int, groups: Int = 1,
         size: Int, kernel: Int, stride: Int = 1) {
        self.name = name
        self.batch = batch
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.groups = groups
        height = size
        width = size
        self.kernel = kernel
        self.stride = stride
        padding = kernel / 2
    }

    init(from decoder: Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        name = try values.decode(String.self, forKey: .name)
        batch = try values.decode(Int.self, forKey: .batch)
        inputChannels = try values.decode(Int.self, forKey: .inputChannels)
        outputChannels = try values.decode(Int.self, forKey: .outputChannels)
        groups = try values.decode(Int.self, forKey: .groups)
        height = try values.decode(Int.self, forKey: .height)
        width = try values.decode(Int.self, forKey: .width)
        kernel = try values.decode(Int.self, forKey: .kernel)
        stride = try values.decode(Int.self, forKey: .stride)
        padding = try values.decode(Int.self, forKey: .padding)
    }

    func encode(to encoder: Encoder) throws {
        var values = encoder.container(keyedBy: CodingKeys.self)
        try values.encode(name, forKey: .name)
        try values.encode(batch, forKey: .batch)
        try values.encode(inputChannels, forKey: .inputChannels)
        try values.encode(outputChannels, forKey: .outputChannels)
        try values.encode(groups, forKey: .groups)
        try values.encode(height, forKey: .height)
        try values.encode(width, forKey: .width)
        try values.encode(kernel, forKey: .kernel)
        try values.encode(stride, forKey: .stride)
        try values.encode(padding, forKey: .padding)
        try values.encode(flops, forKey: .flops)
    }
}

/// The distinct convolutions of torchvision's ResNet-50 v1.5 at 224 × 224.
func resNet50Convolutions(batch: Int) -> [ConvolutionShape] {
    var shapes = [ConvolutionShape(name: "resnet50 stem 7x7/2", batch: batch, inputChannels: 3, outputChannels: 64, size: 224, kernel: 7, stride: 2)]
    var channels = 64, size = 56
    for (stage, (blocks, width)) in zip([3, 4, 6, 3], [64, 128, 256, 512]).enumerated() {
        for block in 0..<blocks {
            let stride = stage > 0 && block == 0 ? 2 : 1
            let label = "resnet50 stage\(stage + 1)"
            shapes.append(ConvolutionShape(name: "\(label) 1x1 \(channels)->\(width) @\(size)", batch: batch, inputChannels: channels, outputChannels: width, size: size, kernel: 1))
            shapes.append(ConvolutionShape(name: "\(label) 3x3/\(stride) \(width) @\(size)", batch: batch, inputChannels: width, outputChannels: width, size: size, kernel: 3, stride: stride))
            let out = size / stride
            shapes.append(ConvolutionShape(name: "\(label) 1x1 \(width)->\(4 * width) @\(out)", batch: batch, inputChannels: width, outputChannels: 4 * width, size: out, kernel: 1))
            if block == 0 {
                shapes.append(ConvolutionShape(name: "\(label) downsample 1x1/\(stride) \(channels)->\(4 * width) @\(size)", batch: batch, inputChannels: channels, outputChannels: 4 * width, size: size, kernel: 1, stride: stride))
            }
            channels = 4 * width
            size = out
        }
    }
    return distinct(shapes)
}

/// The distinct convolutions of torchvision's EfficientNet-B0 at 224 × 224 (squeeze-excitation excluded).
func efficientNetB0Convolutions(batch: Int) -> [ConvolutionShape] {
    var shapes = [ConvolutionShape(name: "effnet-b0 stem 3x3/2", batch: batch, inputChannels: 3, outputChannels: 32, size: 224, kernel: 3, stride: 2)]
    var channels = 32, size = 112
    let stages = [(1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80), (3, 5, 1, 6, 112), (4, 5, 2, 6, 192), (1, 3, 1, 6, 320)]
    for (stage, (repeats, kernel, firstStride, expand, out)) in stages.enumerated() {
        for block in 0..<repeats {
            let stride = block == 0 ? firstStride : 1
            let hidden = channels * expand
            let label = "effnet-b0 stage\(stage + 1)"
            if expand != 1 {
                shapes.append(ConvolutionShape(name: "\(label) expand 1x1 \(channels)->\(hidden) @\(size)", batch: batch, inputChannels: channels, outputChannels: hidden, size: size, kernel: 1))
            }
            shapes.append(ConvolutionShape(name: "\(label) depthwise \(kernel)x\(kernel)/\(stride) \(hidden) @\(size)", batch: batch, inputChannels: hidden, outputChannels: hidden, groups: hidden, size: size, kernel: kernel, stride: stride))
            size /= stride
            shapes.append(ConvolutionShape(name: "\(label) project 1x1 \(hidden)->\(out) @\(size)", batch: batch, inputChannels: hidden, outputChannels: out, size: size, kernel: 1))
            channels = out
        }
    }
    shapes.append(ConvolutionShape(name: "effnet-b0 head 1x1 320->1280 @7", batch: batch, inputChannels: 320, outputChannels: 1280, size: 7, kernel: 1))
    return distinct(shapes)
}

private func distinct(_ shapes: [ConvolutionShape]) -> [ConvolutionShape] {
    var seen = Set<[Int]>()
    return shapes.filter { seen.insert([$0.inputChannels, $0.outputChannels, $0.groups, $0.height, $0.kernel, $0.stride]).inserted }
}
