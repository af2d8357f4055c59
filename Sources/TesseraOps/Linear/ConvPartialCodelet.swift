import TesseraGraph

/// Geometry of one convolution vertex's part, in elements.
///
/// The vertex's input field holds rows × columns of the unpadded input; the vertex places them at
/// (`rowOffset`, `columnOffset`) of a zeroed local window of `windowRows × windowColumns`, which
/// is the padded input its output rows and columns read.
public struct ConvVertexGeometry: Sendable, Hashable {
    /// Images.
    public var batch: Int
    /// Conv groups.
    public var groups: Int
    /// Input channels per group summed over.
    public var inputChannelsPerGroup: Int
    /// Output channels per group computed.
    public var outputChannelsPerGroup: Int
    /// Rows of input in the field (at least 1).
    public var fieldRows: Int
    /// Columns of input in the field (at least 1).
    public var fieldColumns: Int
    /// Field rows that lie in the window (0 when the window is all padding: the field then holds one unused row).
    public var usedRows: Int
    /// Field columns that lie in the window (0 when the window is all padding).
    public var usedColumns: Int
    /// Window row of the field's first row.
    public var rowOffset: Int
    /// Window column of the field's first column.
    public var columnOffset: Int
    /// Rows of the padded window.
    public var windowRows: Int
    /// Columns of the padded window.
    public var windowColumns: Int
    /// Output rows computed.
    public var outputRows: Int
    /// Output columns computed.
    public var outputColumns: Int
    /// Kernel `[kH, kW]`.
    public var kernel: [Int]
    /// Stride `[rows, columns]`.
    public var stride: [Int]
    /// Dilation `[rows, columns]`.
    public var dilation: [Int]

    /// Output positions (batch × rows × columns).
    public var positions: Int { batch * outputRows * outputColumns }
    /// Kernel taps.
    public var taps: Int { kernel[0] * kernel[1] }
    /// Multiply-accumulates of the part.
    public var macs: Int { positions * taps * groups * inputChannelsPerGroup * outputChannelsPerGroup }
}

extension ConvVertexGeometry {
    /// The part of `p` that outputs images `batch`, groups `groups`, output channels `outputChannels` (of each group),
    /// output rows `rows` and columns `columns` over input channels `inputChannels` (of each group), as
    /// `OpBuilder.buildConvolution` cuts it. The field's first input row is `rows.lowerBound · stride[0] − top + rowOffset`
    /// (and so for columns) when it has used rows.
    package init(_ p: ConvParameters, batch: Range<Int>, groups: Range<Int>, outputChannels: Range<Int>, inputChannels: Range<Int>,
                 rows: Range<Int>, columns: Range<Int>) {
        let r = p.inputWindow(of: rows, dimension: 0), c = p.inputWindow(of: columns, dimension: 1)
        self.batch = batch.count
        self.groups = groups.count
        inputChannelsPerGroup = inputChannels.count
        outputChannelsPerGroup = outputChannels.count
        fieldRows = r.field.count
        fieldColumns = c.field.count
        usedRows = r.used
        usedColumns = c.used
        rowOffset = r.offset
        columnOffset = c.offset
        windowRows = r.size
        windowColumns = c.size
        outputRows = rows.count
        outputColumns = columns.count
        kernel = p.kernel
        stride = p.stride
        dilation = p.dilation
    }
}

/// Partial sums of a convolution part: `out[n, g, o, oh, ow] = Σ_{c, kh, kw} in[n, g, c, …] · w[g, o, c, kh, kw]` (+ bias).
///
/// Fields are plain slices of the operands, in their own channel-first order, so they gather as long
/// row runs:
/// - `in`: `[batch, groups, inputChannelsPerGroup, fieldRows, fieldColumns]`, of `inputType`;
/// - `weights`: `[groups, outputChannelsPerGroup, inputChannelsPerGroup, kH, kW]`, of `inputType`;
/// - `bias` (with `hasBias`): `[groups, outputChannelsPerGroup]`, of `inputType`;
/// - `out`: `[batch, groups, outputChannelsPerGroup, outputRows, outputColumns]`, of `outputType`
///   (float32 partials, or the result type when nothing is left to reduce).
///
/// On the device the vertex streams its input as a channel-last window (`[n][row][column][channel]`),
/// as seed 001's blocked `I[N][C_b][H][W][VLEN]`; the cycles of that rearrangement are the gather the
/// compiler already charges for the field. On the host, every part runs as one matrix product per group
/// over `k = (input channel, tap)` (``ConvDenseKernel``: the input rearranged into a zero-padded window
/// split by stride phase, read 16 or 32 output positions at a time; weights read in place), widened to Float
/// and accumulated in float32. Depthwise parts (one input and one output channel per group) skip the
/// panels: ``ConvDepthwiseKernel`` sums sixteen output columns of a row at a time, four rows or channels
/// at once, straight into the output, so the lanes do not depend on how many groups a tile holds.
/// One vertex computes a tile's whole part, as poplibs' supervisor convolution vertices: its outputs
/// are divided along `workerAxis` into `workers` consecutive slices of `⌈size / workers⌉`, one per
/// worker context. Cycles are the slowest (first) worker's
/// ``ConvCycleModel/vertexCycles(_:_:type:target:)`` for `method` (which includes the supervisor's
/// share), in worker-context cycles: the compiler's `× workerContexts` gives the tile's cycles.
public struct ConvPartialCodelet: Codelet, Equatable {
    /// The part's sizes.
    public var geometry: ConvVertexGeometry
    /// Method whose cycles the vertex is charged.
    public var method: ConvMethod
    /// Axis along which the part's outputs are divided among the worker contexts (`inputChannel` is treated as `column`).
    public var workerAxis: ConvAxis
    /// Worker contexts the outputs are divided among (1 … the target's worker contexts).
    public var workers: Int
    /// Element type of input, weights and bias.
    public var inputType: ElementType
    /// Element type of the output field.
    public var outputType: ElementType
    /// Whether the vertex adds a bias.
    public var hasBias: Bool
    /// An activation applied to the output as it is written (only when nothing is left to reduce).
    var activation: UnaryFunction?

    /// A vertex computing `geometry` by `method`, its outputs divided along `workerAxis` among `workers` contexts.
    public init(geometry: ConvVertexGeometry, method: ConvMethod, workerAxis: ConvAxis, workers: Int,
                inputType: ElementType, outputType: ElementType, hasBias: Bool) {
        self.geometry = geometry
        self.method = method
        self.workerAxis = workerAxis
        self.workers = max(1, workers)
        self.inputType = inputType
        self.outputType = outputType
        self.hasBias = hasBias
    }

    public var name: String { (method == .amp ? "ConvPartialAMP" : "ConvPartialVector") + activation.codeletSuffix }

    public var fields: [Field] {
        [.input("in", inputType), .input("weights", inputType)] + (hasBias ? [.input("bias", inputType)] : [])
            + [.output("out", outputType)]
    }

    /// The geometry's nineteen sizes and the worker count as 16-bit values, plus 2 bytes of method, axis and type flags.
    public var stateBytes: Int { 42 }

    private var expectedSizes: [Int] {
        let g = geometry
        let channels = g.groups * g.outputChannelsPerGroup
        return [g.batch * g.fieldRows * g.fieldColumns * g.groups * g.inputChannelsPerGroup,
                g.groups * g.taps * g.inputChannelsPerGroup * g.outputChannelsPerGroup]
            + (hasBias ? [channels] : []) + [g.positions * channels]
    }

    public func sizeProblem(fieldSizes: [Int]) -> String? {
        fieldSizes == expectedSizes ? nil : "field sizes \(fieldSizes), expected \(expectedSizes) for \(fields.map { $0.name })"
    }

    /// The slowest worker's work: the part with `workerAxis` cut to `⌈size / workers⌉`.
    public var slowestWorkerWork: ConvVertexWork {
        let g = geometry
        var batch = g.batch, groups = g.groups, outputs = g.outputChannelsPerGroup, rows = g.outputRows, columns = g.outputColumns
        switch workerAxis {
        case .batch: batch = convCeilDiv(batch, workers)
        case .group: groups = convCeilDiv(groups, workers)
        case .outputChannel: outputs = convCeilDiv(outputs, workers)
        case .row: rows = convCeilDiv(rows, workers)
        case .column, .inputChannel: columns = convCeilDiv(columns, workers)
        }
        return ConvVertexWork(groups: groups, inputChannelsPerGroup: g.inputChannelsPerGroup, outputChannelsPerGroup: outputs,
                              positions: batch * rows * columns, kernelPositions: g.taps)
    }

    public func estimateCycles(fieldSizes: [Int], target: Target) -> Int {
        let work = slowestWorkerWork
        return ConvCycleModel.vertexCycles(method, work, type: inputType, target: target)
            + (activation.map { $0.fusedCycles(elements: work.positions * work.groups * work.outputChannelsPerGroup, type: outputType, target: target) } ?? 0)
    }

    public func compute(_ fields: VertexFields) {
        switch (inputType, outputType) {
        case (.float16, .float16): compute(fields, Float16.self, Float16.self)
        case (.float16, _): compute(fields, Float16.self, Float.self)
        case (_, .float16): compute(fields, Float.self, Float16.self)
        default: compute(fields, Float.self, Float.self)
        }
    }

    private func compute<In: ElementLane, Out: ElementLane>(_ fields: VertexFields, _: In.Type, _: Out.Type) {
        let outputField = hasBias ? 3 : 2
        if geometry.inputChannelsPerGroup == 1 && geometry.outputChannelsPerGroup == 1 {
            ConvDepthwiseKernel.run(fields, geometry: geometry, hasBias: hasBias, outputField: outputField, In.self, Out.self)
        } else {
            ConvDenseKernel.run(fields, geometry: geometry, hasBias: hasBias, outputField: outputField, In.self, Out.self)
        }
        // Over the whole field at once: it is one block, still in cache (a call per channel plane
        // measured 10 % slower on EfficientNet-B0, whose depthwise planes are a few dozen elements).
        if let activation {
            let output = fields.output(outputField, as: Out.self)
            activation.apply(UnsafePointer(output.baseAddress!), output.baseAddress!, output.count)
        }
    }
}
