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
/// The vertex rearranges its input into a zero-padded channel-last window (`[n][row][column][channel]`,
/// the layout an AMP or SIMD kernel streams) as it widens it to Float, as seed 001's blocked
/// `I[N][C_b][H][W][VLEN]`; the cycles of that rearrangement are the gather the compiler already
/// charges for the field.
/// The host kernel widens to Float and accumulates in float32 in `SIMD16<Float>` registers, eight output
/// positions × sixteen output channels at a time (register blocking as in direct convolution on SIMD CPUs);
/// depthwise parts (one input and one output channel per group) take sixteen adjacent groups per register.
/// One vertex computes a tile's whole part, as poplibs' supervisor convolution vertices: its outputs
/// are divided along `workerAxis` into `workers` consecutive slices of `⌈size / workers⌉`, one per
/// worker context. Cycles are the slowest (first) worker's
/// ``ConvCycleModel/vertexCycles(_:_:type:target:)`` for `method` (which includes the supervisor's
/// share), in worker-context cycles: the compiler's `× workerContexts` gives the tile's cycles.
public struct ConvPartialCodelet: Codelet {
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

    public var name: String { method == .amp ? "ConvPartialAMP" : "ConvPartialVector" }

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
        fieldSizes == expectedSizes ? nil : "field sizes \(fieldSizes), expected \(expectedSizes) for \(fields.map(\.name))"
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
        ConvCycleModel.vertexCycles(method, slowestWorkerWork, type: inputType, target: target)
    }

    public func compute(_ fields: VertexFields) {
        let g = geometry
        let cg = g.inputChannelsPerGroup, og = g.outputChannelsPerGroup, groups = g.groups
        let taps = g.taps, pixel = groups * cg
        // Zero-padded channel-last window, widened to Float (16 spare elements: the depthwise kernel's last
        // group block reads past the last group into lanes it does not store).
        let windowCount = g.batch * g.windowRows * g.windowColumns * pixel + 16
        let window = UnsafeMutablePointer<Float>.allocate(capacity: windowCount)
        window.initialize(repeating: 0, count: windowCount)
        defer { window.deallocate() }
        let fieldCount = g.batch * pixel * g.fieldRows * g.fieldColumns
        let input = UnsafeMutablePointer<Float>.allocate(capacity: fieldCount)
        defer { input.deallocate() }
        widen(fields, field: 0, count: fieldCount, to: input)
        for n in 0..<g.batch {
            for channel in 0..<pixel {
                for r in 0..<g.usedRows {
                    let source = input + ((n * pixel + channel) * g.fieldRows + r) * g.fieldColumns
                    let target = window + ((n * g.windowRows + g.rowOffset + r) * g.windowColumns + g.columnOffset) * pixel + channel
                    for c in 0..<g.usedColumns { target[c * pixel] = source[c] }
                }
            }
        }
        let weights = UnsafeMutablePointer<Float>.allocate(capacity: groups * taps * cg * og)
        defer { weights.deallocate() }
        widen(fields, field: 1, count: groups * taps * cg * og, to: weights)
        // Window offsets of every output position and kernel tap.
        let positions = g.positions
        let bases = UnsafeMutablePointer<Int>.allocate(capacity: positions + taps)
        defer { bases.deallocate() }
        var p = 0
        for n in 0..<g.batch {
            for oh in 0..<g.outputRows {
                for ow in 0..<g.outputColumns {
                    bases[p] = ((n * g.windowRows + oh * g.stride[0]) * g.windowColumns + ow * g.stride[1]) * pixel
                    p += 1
                }
            }
        }
        let tapOffsets = bases + positions
        for kh in 0..<g.kernel[0] {
            for kw in 0..<g.kernel[1] {
                tapOffsets[kh * g.kernel[1] + kw] = (kh * g.dilation[0] * g.windowColumns + kw * g.dilation[1]) * pixel
            }
        }
        let channels = groups * og
        let result = UnsafeMutablePointer<Float>.allocate(capacity: positions * channels)
        defer { result.deallocate() }
        if cg == 1 && og == 1 {
            ConvPartialCodelet.accumulateDepthwise(window: window, bases: bases, positions: positions, taps: tapOffsets, tapCount: taps,
                                                   weights: weights, groups: groups, result: result)
        } else {
            ConvPartialCodelet.accumulateDense(window: window, bases: bases, positions: positions, taps: tapOffsets, tapCount: taps,
                                               weights: weights, geometry: g, result: result)
        }
        // Back to the field's channel-first order, with the bias.
        let bias = UnsafeMutablePointer<Float>.allocate(capacity: channels)
        defer { bias.deallocate() }
        if hasBias { widen(fields, field: 2, count: channels, to: bias) } else { bias.initialize(repeating: 0, count: channels) }
        let plane = g.outputRows * g.outputColumns
        let output = UnsafeMutablePointer<Float>.allocate(capacity: positions * channels)
        defer { output.deallocate() }
        for n in 0..<g.batch {
            for channel in 0..<channels {
                let target = output + (n * channels + channel) * plane, source = result + n * plane * channels + channel
                for i in 0..<plane { target[i] = source[i * channels] + bias[channel] }
            }
        }
        convStore(output, count: positions * channels, to: fields, field: hasBias ? 3 : 2, type: outputType)
    }

    /// The first `count` elements of field `field` (of `inputType`) as Float.
    private func widen(_ fields: VertexFields, field: Int, count: Int, to target: UnsafeMutablePointer<Float>) {
        if inputType == .float16 {
            let source = fields.input(field, as: Float16.self)
            for i in 0..<count { target[i] = Float(source[i]) }
        } else {
            target.update(from: fields.input(field, as: Float.self).baseAddress!, count: count)
        }
    }

    /// Every group's outputs: weights `[group, output channel, input channel, tap]` packed per group into
    /// `[block of 16 outputs][tap][input channel][16]` (zero beyond the outputs), then ``accumulate``.
    static func accumulateDense(window: UnsafePointer<Float>, bases: UnsafePointer<Int>, positions: Int, taps: UnsafePointer<Int>, tapCount: Int,
                                weights: UnsafePointer<Float>, geometry g: ConvVertexGeometry, result: UnsafeMutablePointer<Float>) {
        let cg = g.inputChannelsPerGroup, og = g.outputChannelsPerGroup, blocks = convCeilDiv(og, 16)
        let packedCount = blocks * tapCount * cg * 16
        let packed = UnsafeMutablePointer<Float>.allocate(capacity: packedCount)
        defer { packed.deallocate() }
        for group in 0..<g.groups {
            packed.initialize(repeating: 0, count: packedCount)
            for tap in 0..<tapCount {
                for c in 0..<cg {
                    for o in 0..<og {
                        packed[((o / 16 * tapCount + tap) * cg + c) * 16 + o % 16] = weights[((group * og + o) * cg + c) * tapCount + tap]
                    }
                }
            }
            for block in 0..<blocks {
                accumulate(window: window + group * cg, bases: bases, positions: positions, taps: taps, tapCount: tapCount,
                           weights: packed + block * tapCount * cg * 16, channels: cg,
                           result: result + group * og + block * 16, resultStride: g.groups * og, lanes: min(16, og - block * 16))
            }
        }
    }

    /// Depthwise outputs (one input and one output channel per group): sixteen adjacent groups per
    /// `SIMD16<Float>`, `result[p · groups + g] = Σ_tap window[bases[p] + taps[tap] + g] · weights[g · tapCount + tap]`
    /// (weights `[group, tap]`).
    static func accumulateDepthwise(window: UnsafePointer<Float>, bases: UnsafePointer<Int>, positions: Int, taps: UnsafePointer<Int>,
                                    tapCount: Int, weights: UnsafePointer<Float>, groups: Int, result: UnsafeMutablePointer<Float>) {
        let blocks = convCeilDiv(groups, 16)
        // Weights as [tap][group], zero beyond the groups.
        let packed = UnsafeMutablePointer<Float>.allocate(capacity: tapCount * blocks * 16)
        defer { packed.deallocate() }
        packed.initialize(repeating: 0, count: tapCount * blocks * 16)
        for group in 0..<groups {
            for tap in 0..<tapCount { packed[tap * blocks * 16 + group] = weights[group * tapCount + tap] }
        }
        for p in 0..<positions {
            let out = result + p * groups
            for block in 0..<blocks {
                var sum = SIMD16<Float>()
                for tap in 0..<tapCount {
                    let x = UnsafeRawPointer(window + bases[p] + taps[tap] + block * 16).loadUnaligned(as: SIMD16<Float>.self)
                    sum.addProduct(x, UnsafeRawPointer(packed + (tap * blocks + block) * 16).loadUnaligned(as: SIMD16<Float>.self))
                }
                for l in 0..<min(16, groups - block * 16) { out[block * 16 + l] = sum[l] }
            }
        }
    }

    /// `result[p · resultStride + l] = Σ_tap Σ_c window[bases[p] + taps[tap] + c] · weights[(tap · channels + c) · 16 + l]`
    /// for `l < lanes`: eight positions at a time in eight `SIMD16<Float>` accumulators.
    @inline(__always)
    static func accumulate(window: UnsafePointer<Float>, bases: UnsafePointer<Int>, positions: Int, taps: UnsafePointer<Int>, tapCount: Int,
                           weights: UnsafePointer<Float>, channels: Int, result: UnsafeMutablePointer<Float>, resultStride: Int, lanes: Int) {
        @inline(__always) func weight(_ tap: Int, _ c: Int) -> SIMD16<Float> {
            UnsafeRawPointer(weights + (tap * channels + c) * 16).loadUnaligned(as: SIMD16<Float>.self)
        }
        @inline(__always) func put(_ sum: SIMD16<Float>, _ position: Int) {
            let out = result + position * resultStride
            for l in 0..<lanes { out[l] = sum[l] }
        }
        var p = 0
        while p + 8 <= positions {
            var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
            var a4 = SIMD16<Float>(), a5 = SIMD16<Float>(), a6 = SIMD16<Float>(), a7 = SIMD16<Float>()
            for tap in 0..<tapCount {
                let offset = taps[tap]
                let x0 = window + bases[p] + offset, x1 = window + bases[p + 1] + offset
                let x2 = window + bases[p + 2] + offset, x3 = window + bases[p + 3] + offset
                let x4 = window + bases[p + 4] + offset, x5 = window + bases[p + 5] + offset
                let x6 = window + bases[p + 6] + offset, x7 = window + bases[p + 7] + offset
                for c in 0..<channels {
                    let w = weight(tap, c)
                    a0.addProduct(SIMD16(repeating: x0[c]), w)
                    a1.addProduct(SIMD16(repeating: x1[c]), w)
                    a2.addProduct(SIMD16(repeating: x2[c]), w)
                    a3.addProduct(SIMD16(repeating: x3[c]), w)
                    a4.addProduct(SIMD16(repeating: x4[c]), w)
                    a5.addProduct(SIMD16(repeating: x5[c]), w)
                    a6.addProduct(SIMD16(repeating: x6[c]), w)
                    a7.addProduct(SIMD16(repeating: x7[c]), w)
                }
            }
            put(a0, p); put(a1, p + 1); put(a2, p + 2); put(a3, p + 3)
            put(a4, p + 4); put(a5, p + 5); put(a6, p + 6); put(a7, p + 7)
            p += 8
        }
        while p < positions {
            var a = SIMD16<Float>()
            for tap in 0..<tapCount {
                let x = window + bases[p] + taps[tap]
                for c in 0..<channels { a.addProduct(SIMD16(repeating: x[c]), weight(tap, c)) }
            }
            put(a, p)
            p += 1
        }
    }
}

/// Stores `count` float32 values into field `field` of `type` (float32 or float16, rounded once).
func convStore(_ values: UnsafePointer<Float>, count: Int, to fields: VertexFields, field: Int, type: ElementType) {
    if type == .float16 {
        let out = fields.output(field, as: Float16.self)
        for i in 0..<count { out[i] = Float16(values[i]) }
    } else {
        fields.output(field, as: Float.self).baseAddress!.update(from: values, count: count)
    }
}
