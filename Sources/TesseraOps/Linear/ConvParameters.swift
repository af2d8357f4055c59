import TesseraGraph

/// Zero padding added around a convolution's input field, in elements on each side.
public struct ConvPadding: Sendable, Hashable, CustomStringConvertible {
    /// Rows of zeros above the input.
    public var top: Int
    /// Rows of zeros below the input.
    public var bottom: Int
    /// Columns of zeros left of the input.
    public var left: Int
    /// Columns of zeros right of the input.
    public var right: Int

    /// Padding with every side given.
    public init(top: Int, bottom: Int, left: Int, right: Int) {
        self.top = top
        self.bottom = bottom
        self.left = left
        self.right = right
    }

    /// The same padding on every side.
    public static func symmetric(_ amount: Int) -> ConvPadding {
        ConvPadding(top: amount, bottom: amount, left: amount, right: amount)
    }

    /// No padding.
    public static var none: ConvPadding { .symmetric(0) }

    public var description: String { "t\(top) b\(bottom) l\(left) r\(right)" }
}

/// The shape of a 2-D convolution, as poplin's `ConvParams`:
/// input `[batch, inputChannels, H, W]`, weights `[outputChannels, inputChannels / groups, kH, kW]`,
/// output `[batch, outputChannels, oH, oW]`, optional bias `[outputChannels]`.
///
/// Input channel `g · inputChannelsPerGroup + i` and output channel `g · outputChannelsPerGroup + o`
/// belong to conv group `g`; each output channel sums over the input channels of its group only.
public struct ConvParameters: Sendable, Hashable, CustomStringConvertible {
    /// Images in the batch (`N`).
    public var batch: Int
    /// Input channels over all groups (`C`).
    public var inputChannels: Int
    /// Output channels over all groups (`O`).
    public var outputChannels: Int
    /// Conv groups (`G`): 1 for a dense convolution, `C` for a depthwise one.
    public var groups: Int
    /// Input field `[H, W]`, in elements.
    public var inputField: [Int]
    /// Kernel `[kH, kW]`, in elements.
    public var kernel: [Int]
    /// Output step `[rows, columns]` over the padded input, in elements.
    public var stride: [Int]
    /// Zeros added around the input field.
    public var padding: ConvPadding
    /// Spacing of kernel taps `[rows, columns]`, in elements (1: adjacent taps).
    public var dilation: [Int]
    /// Element type of input, weights, bias and output (`float32` or `float16`; partial sums are float32).
    public var elementType: ElementType
    /// Whether a bias `[outputChannels]` is added to every output position.
    public var hasBias: Bool

    /// Parameters with every field given; stride and dilation default to 1, padding to none.
    public init(batch: Int, inputChannels: Int, outputChannels: Int, groups: Int = 1,
                inputField: [Int], kernel: [Int], stride: [Int] = [1, 1], padding: ConvPadding = .none,
                dilation: [Int] = [1, 1], elementType: ElementType = .float32, hasBias: Bool = false) {
        self.batch = batch
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.groups = groups
        self.inputField = inputField
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.elementType = elementType
        self.hasBias = hasBias
    }

    /// Input channels of one group (`C / G`).
    public var inputChannelsPerGroup: Int { inputChannels / max(groups, 1) }
    /// Output channels of one group (`O / G`).
    public var outputChannelsPerGroup: Int { outputChannels / max(groups, 1) }
    /// Input field with padding, `[H + top + bottom, W + left + right]`.
    public var paddedField: [Int] {
        [inputField[0] + padding.top + padding.bottom, inputField[1] + padding.left + padding.right]
    }
    /// Extent of the dilated kernel, `[(kH − 1)·dH + 1, (kW − 1)·dW + 1]`.
    public var dilatedKernel: [Int] { (0..<2).map { (kernel[$0] - 1) * dilation[$0] + 1 } }
    /// Output field `[oH, oW]`: `(padded − dilatedKernel) / stride + 1` per dimension.
    public var outputField: [Int] { (0..<2).map { (paddedField[$0] - dilatedKernel[$0]) / stride[$0] + 1 } }
    /// Input shape `[N, C, H, W]`.
    public var inputShape: [Int] { [batch, inputChannels] + inputField }
    /// Weights shape `[O, C / G, kH, kW]`.
    public var weightsShape: [Int] { [outputChannels, inputChannelsPerGroup] + kernel }
    /// Output shape `[N, O, oH, oW]`.
    public var outputShape: [Int] { [batch, outputChannels] + outputField }
    /// Multiply-accumulates of the whole convolution.
    public var macs: Int {
        batch * outputChannels * outputField.reduce(1, *) * inputChannelsPerGroup * kernel.reduce(1, *)
    }

    public var description: String {
        "N\(batch) C\(inputChannels)→O\(outputChannels) G\(groups) field \(inputField[0])×\(inputField[1]) kernel \(kernel[0])×\(kernel[1]) "
            + "stride \(stride[0])×\(stride[1]) pad \(padding) dilation \(dilation[0])×\(dilation[1]) \(elementType)\(hasBias ? " +bias" : "")"
    }

    /// Throws `OpError.badParameter` naming `op` and the sizes when these parameters do not describe a convolution.
    public func validate(op: String) throws(OpError) {
        func bad(_ detail: String) -> OpError { .badParameter(op: op, detail: detail) }
        guard inputField.count == 2, kernel.count == 2, stride.count == 2, dilation.count == 2 else {
            throw bad("field \(inputField), kernel \(kernel), stride \(stride) and dilation \(dilation) must each have 2 dimensions")
        }
        guard elementType == .float32 || elementType == .float16 else {
            throw .typeMismatch(op: op, detail: "element type \(elementType) is not float32 or float16")
        }
        guard batch > 0, inputChannels > 0, outputChannels > 0 else {
            throw bad("batch \(batch), input channels \(inputChannels) and output channels \(outputChannels) must be positive")
        }
        guard groups > 0 else { throw bad("groups \(groups) must be positive") }
        guard inputChannels % groups == 0, outputChannels % groups == 0 else {
            throw bad("input channels \(inputChannels) and output channels \(outputChannels) must both be divisible by groups \(groups)")
        }
        guard inputField.allSatisfy({ $0 > 0 }), kernel.allSatisfy({ $0 > 0 }) else {
            throw bad("input field \(inputField) and kernel \(kernel) must be positive")
        }
        guard stride.allSatisfy({ $0 > 0 }) else { throw bad("stride \(stride) must be positive") }
        guard dilation.allSatisfy({ $0 > 0 }) else { throw bad("dilation \(dilation) must be positive") }
        guard [padding.top, padding.bottom, padding.left, padding.right].allSatisfy({ $0 >= 0 }) else {
            throw bad("padding \(padding) must not be negative")
        }
        guard (0..<2).allSatisfy({ dilatedKernel[$0] <= paddedField[$0] }) else {
            throw bad("dilated kernel \(dilatedKernel) is larger than the padded input \(paddedField)")
        }
    }
}

extension ConvParameters {
    /// The same convolution over a smaller input, where one exists: along a dimension whose kernel
    /// has one tap, no padding and a stride above 1, only every stride-th input row (or column) is
    /// read, so the convolution is the unit-stride one of that ``Tensor/subSample(_:dimension:)``
    /// of the input (a ResNet downsampling 1 × 1 convolution of stride 2 reads a quarter of its
    /// input). Nil when no dimension folds.
    public var strideFolded: ConvParameters? {
        var folded = self
        for d in 0..<2 {
            let before = d == 0 ? padding.top : padding.left, after = d == 0 ? padding.bottom : padding.right
            guard kernel[d] == 1, stride[d] > 1, before == 0, after == 0 else { continue }
            folded.inputField[d] = outputField[d]
            folded.stride[d] = 1
            folded.dilation[d] = 1
        }
        return folded == self ? nil : folded
    }
}

extension ConvParameters {
    /// The input a part with outputs `outputs` along `dimension` (0: rows, 1: columns) reads: the
    /// field's input rows (a one-row placeholder when it reads only padding), how many of them it
    /// uses, the field's offset in the part's window, and the window's size.
    package func inputWindow(of outputs: Range<Int>, dimension: Int) -> (field: Range<Int>, used: Int, offset: Int, size: Int) {
        let before = dimension == 0 ? padding.top : padding.left
        let start = outputs.lowerBound * stride[dimension]
        let end = (outputs.upperBound - 1) * stride[dimension] + dilatedKernel[dimension]
        let first = max(0, start - before), last = min(inputField[dimension], end - before)
        guard last > first else { return (0..<1, 0, 0, end - start) }
        return (first..<last, last - first, first + before - start, end - start)
    }
}
