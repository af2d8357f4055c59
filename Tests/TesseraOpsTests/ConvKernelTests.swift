import Foundation
import Testing
import Tessera
@testable import TesseraOps

/// One convolution vertex run directly on its fields: a part of `parameters` (ranges of the whole convolution).
struct ConvKernelCase: CustomTestStringConvertible, Sendable {
    var parameters: ConvParameters
    var batch: Range<Int>? = nil
    var groups: Range<Int>? = nil
    var outputChannels: Range<Int>? = nil
    var inputChannels: Range<Int>? = nil
    var rows: Range<Int>? = nil
    var columns: Range<Int>? = nil
    /// Output field type (float32 partials of float16 inputs, or the input type).
    var outputType: ElementType? = nil
    var testDescription: String {
        "\(parameters) part n \(batch.map { "\($0)" } ?? "all") rows \(rows.map { "\($0)" } ?? "all")"
    }

    static let all: [ConvKernelCase] = [
        // Short rows, several images: panels skip the padding rows between images; 13 and 9 output channels
        // leave blocks of 5 and 1.
        ConvKernelCase(parameters: ConvParameters(batch: 3, inputChannels: 5, outputChannels: 13, inputField: [5, 7], kernel: [3, 3],
                                                  padding: .symmetric(1), hasBias: true)),
        ConvKernelCase(parameters: ConvParameters(batch: 4, inputChannels: 3, outputChannels: 9, inputField: [2, 14], kernel: [3, 3],
                                                  padding: .symmetric(1))),
        // Stride 2, asymmetric padding, a block of 3 channels, float16 in and out.
        ConvKernelCase(parameters: ConvParameters(batch: 2, inputChannels: 4, outputChannels: 3, inputField: [9, 8], kernel: [3, 2],
                                                  stride: [2, 2], padding: ConvPadding(top: 1, bottom: 0, left: 2, right: 1),
                                                  elementType: .float16, hasBias: true)),
        // ResNet-50's 3 × 3 / 2 at 14 × 14: rows of 14 field columns from an odd window column, each split as one block
        // of sixteen merged into both phases, the field's last row column by column.
        ConvKernelCase(parameters: ConvParameters(batch: 2, inputChannels: 3, outputChannels: 5, inputField: [14, 14], kernel: [3, 3],
                                                  stride: [2, 2], padding: .symmetric(1), hasBias: true)),
        // Stride 3 × 1, dilation 2, float16 in, float32 partials out.
        ConvKernelCase(parameters: ConvParameters(batch: 1, inputChannels: 6, outputChannels: 17, inputField: [13, 11], kernel: [3, 3],
                                                  stride: [3, 1], padding: .symmetric(2), dilation: [2, 2], elementType: .float16),
                       outputType: .float32),
        // Groups of 2 → 3 channels, and a part of them: groups 1 ..< 3, output channels 1 ..< 3, rows 2 ..< 5.
        ConvKernelCase(parameters: ConvParameters(batch: 2, inputChannels: 8, outputChannels: 12, groups: 4, inputField: [6, 9],
                                                  kernel: [3, 3], padding: .symmetric(1), hasBias: true),
                       groups: 1..<3, outputChannels: 1..<3, rows: 2..<5),
        // Depthwise 5 × 5 stride 2 over 37 groups, and with channel multiplier 2.
        ConvKernelCase(parameters: ConvParameters(batch: 2, inputChannels: 37, outputChannels: 37, groups: 37, inputField: [9, 9],
                                                  kernel: [5, 5], stride: [2, 2], padding: .symmetric(2), hasBias: true)),
        // Depthwise rows of 35 outputs (three vectors, the last of three lanes) in float16, dilation 2, part of the
        // groups and rows: vectors of two images and channels accumulate together, stored in output order.
        ConvKernelCase(parameters: ConvParameters(batch: 2, inputChannels: 5, outputChannels: 5, groups: 5, inputField: [7, 35],
                                                  kernel: [3, 3], padding: .symmetric(2), dilation: [2, 2], elementType: .float16,
                                                  hasBias: true),
                       groups: 1..<4, rows: 2..<6),
        ConvKernelCase(parameters: ConvParameters(batch: 1, inputChannels: 6, outputChannels: 12, groups: 6, inputField: [5, 33],
                                                  kernel: [3, 3], stride: [1, 2], padding: .symmetric(1), elementType: .float16)),
        // 1 × 1 over more k than one chunk (200 > 160) and a 3 × 3 one (25 · 9 = 225), whole rows.
        ConvKernelCase(parameters: ConvParameters(batch: 4, inputChannels: 200, outputChannels: 17, inputField: [3, 7], kernel: [1, 1])),
        // A last block of 7 over two chunks, and one of 6: whole-block loops whose spare rows repeat the last weights.
        ConvKernelCase(parameters: ConvParameters(batch: 2, inputChannels: 200, outputChannels: 15, inputField: [3, 9], kernel: [1, 1],
                                                  hasBias: true)),
        ConvKernelCase(parameters: ConvParameters(batch: 1, inputChannels: 4, outputChannels: 14, inputField: [6, 12], kernel: [3, 3],
                                                  padding: .symmetric(1))),
        ConvKernelCase(parameters: ConvParameters(batch: 1, inputChannels: 25, outputChannels: 10, inputField: [4, 40], kernel: [3, 3],
                                                  padding: .symmetric(1), hasBias: true)),
        // A part of images, input channels and rows whose window rows are partly or wholly padding.
        ConvKernelCase(parameters: ConvParameters(batch: 3, inputChannels: 7, outputChannels: 5, inputField: [3, 5], kernel: [2, 2],
                                                  padding: .symmetric(3)),
                       batch: 1..<3, inputChannels: 2..<6, rows: 0..<3),
        // Taps that read only some stride phases: 1 × 1 of stride 2 (one phase of four, even or odd field columns
        // first, more than sixteen per row), dilation 2 of stride 2 (one phase), 2 × 2 of stride 3 (four of nine).
        ConvKernelCase(parameters: ConvParameters(batch: 2, inputChannels: 5, outputChannels: 7, inputField: [5, 37], kernel: [1, 1],
                                                  stride: [2, 2], padding: .symmetric(1), hasBias: true)),
        ConvKernelCase(parameters: ConvParameters(batch: 3, inputChannels: 4, outputChannels: 9, inputField: [6, 40], kernel: [1, 1],
                                                  stride: [2, 2], elementType: .float16),
                       columns: 3..<19),
        ConvKernelCase(parameters: ConvParameters(batch: 1, inputChannels: 3, outputChannels: 5, inputField: [11, 23], kernel: [3, 3],
                                                  stride: [2, 2], padding: .symmetric(2), dilation: [2, 2])),
        ConvKernelCase(parameters: ConvParameters(batch: 2, inputChannels: 3, outputChannels: 4, inputField: [10, 14], kernel: [2, 2],
                                                  stride: [3, 3], padding: .symmetric(1), hasBias: true)),
        // One output position, and one output row of 33 (a narrow last panel after a full one).
        ConvKernelCase(parameters: ConvParameters(batch: 1, inputChannels: 3, outputChannels: 2, inputField: [3, 3], kernel: [3, 3])),
        ConvKernelCase(parameters: ConvParameters(batch: 1, inputChannels: 2, outputChannels: 4, inputField: [1, 33], kernel: [1, 1],
                                                  hasBias: true)),
        // Panels whose outputs lie in their first 8 or 16 positions, with blocks of 8 and 5 or 6 output channels: 7 × 14 = 98
        // outputs over two chunks of k (2 in the last panel); one 2 × 5 image in 7-column window rows (outputs at 0 … 11);
        // two of them 28 positions apart (the second panel's at 32 … 39, after the gaps).
        ConvKernelCase(parameters: ConvParameters(batch: 1, inputChannels: 200, outputChannels: 13, inputField: [7, 14], kernel: [1, 1],
                                                  hasBias: true)),
        ConvKernelCase(parameters: ConvParameters(batch: 2, inputChannels: 9, outputChannels: 14, inputField: [2, 5], kernel: [3, 3],
                                                  padding: .symmetric(1), elementType: .float16),
                       batch: 1..<2),
        ConvKernelCase(parameters: ConvParameters(batch: 2, inputChannels: 9, outputChannels: 14, inputField: [2, 5], kernel: [3, 3],
                                                  padding: .symmetric(1), hasBias: true)),
        // One image whose window is its whole field: its channels copied at once.
        ConvKernelCase(parameters: ConvParameters(batch: 1, inputChannels: 40, outputChannels: 24, inputField: [7, 7], kernel: [1, 1])),
        ConvKernelCase(parameters: ConvParameters(batch: 3, inputChannels: 40, outputChannels: 9, inputField: [7, 7], kernel: [1, 1],
                                                  elementType: .float16),
                       batch: 1..<2),
        // Float32 output runs of 8 or fewer, each stored as one vector of eight but the field's last few: 7-position
        // planes of three images (a channel's window run of 7 copied as two vectors of four, channel after channel),
        // 7-column rows of 7 × 7 images read from 9-column window rows (output rows 2 ..< 7, the last window row padding),
        // and rows of 3 (copied element by element).
        ConvKernelCase(parameters: ConvParameters(batch: 3, inputChannels: 21, outputChannels: 11, inputField: [1, 7], kernel: [1, 1],
                                                  hasBias: true)),
        ConvKernelCase(parameters: ConvParameters(batch: 2, inputChannels: 6, outputChannels: 10, inputField: [7, 7], kernel: [3, 3],
                                                  padding: .symmetric(1)),
                       rows: 2..<7),
        ConvKernelCase(parameters: ConvParameters(batch: 2, inputChannels: 5, outputChannels: 9, inputField: [4, 3], kernel: [3, 3],
                                                  padding: .symmetric(1), hasBias: true)),
    ]
}

/// The convolution vertex's host kernel against a float64 reference, on its own fields: every block shape,
/// panel width, stride phase, chunking and padding case, and no write past its output field; through the
/// codelet (`block` nil: the host's register block, depthwise parts in their own kernel) and through the
/// dense kernel with each register block, whichever the host has (the two giving the same bits).
@Suite struct ConvKernelTests {
    @Test(arguments: ConvKernelCase.all, [nil] + ConvRegisterBlock.allCases)
    func vertexMatchesTheFloat64Reference(_ test: ConvKernelCase, block: ConvRegisterBlock?) {
        let p = test.parameters, inType = p.elementType, outType = test.outputType ?? p.elementType
        let n = test.batch ?? 0..<p.batch, groups = test.groups ?? 0..<p.groups
        let o = test.outputChannels ?? 0..<p.outputChannelsPerGroup, i = test.inputChannels ?? 0..<p.inputChannelsPerGroup
        let rows = test.rows ?? 0..<p.outputField[0], columns = test.columns ?? 0..<p.outputField[1]
        let g = ConvVertexGeometry(p, batch: n, groups: groups, outputChannels: o, inputChannels: i, rows: rows, columns: columns)
        let x = linearValues(p.inputShape.reduce(1, *), seed: 1, type: inType)
        let w = linearValues(p.weightsShape.reduce(1, *), seed: 2, type: inType)
        let b = linearValues(p.outputChannels, seed: 3, type: inType)
        // The field's first input row and column (any, when the window is all padding).
        let firstRow = rows.lowerBound * p.stride[0] - p.padding.top + g.rowOffset
        let firstColumn = columns.lowerBound * p.stride[1] - p.padding.left + g.columnOffset
        let (cg, og, kh, kw) = (p.inputChannelsPerGroup, p.outputChannelsPerGroup, p.kernel[0], p.kernel[1])
        func inputValue(_ image: Int, _ channel: Int, _ row: Int, _ column: Int) -> Double {
            guard g.usedRows > 0 && g.usedColumns > 0 && (0..<p.inputField[0]).contains(row) && (0..<p.inputField[1]).contains(column)
            else { return 0 }
            return x[((image * p.inputChannels + channel) * p.inputField[0] + row) * p.inputField[1] + column]
        }
        var fieldIn: [Double] = [], fieldWeights: [Double] = [], fieldBias: [Double] = []
        for image in n { for group in groups { for c in i { for r in 0..<g.fieldRows { for col in 0..<g.fieldColumns {
            fieldIn.append(inputValue(image, group * cg + c, firstRow + r, firstColumn + col))
        } } } } }
        for group in groups { for out in o {
            fieldBias.append(b[group * og + out])
            for c in i { for t in 0..<(kh * kw) { fieldWeights.append(w[((group * og + out) * cg + c) * kh * kw + t]) } }
        } }
        // Reference over the part, in its output order [n][group][o][row][column].
        var reference: [Double] = [], magnitude: [Double] = []
        for image in n { for group in groups { for out in o { for oh in rows { for ow in columns {
            var sum = p.hasBias ? b[group * og + out] : 0, size = abs(sum)
            for c in i { for r in 0..<kh { for s in 0..<kw {
                let row = oh * p.stride[0] + r * p.dilation[0] - p.padding.top
                let column = ow * p.stride[1] + s * p.dilation[1] - p.padding.left
                let term = inputValue(image, group * cg + c, row, column) * w[((group * og + out) * cg + c) * kh * kw + r * kw + s]
                sum += term
                size += abs(term)
            } } }
            reference.append(sum)
            magnitude.append(size)
        } } } } }
        let got = runVertex(g, inType: inType, outType: outType, hasBias: p.hasBias, block: block, input: fieldIn, weights: fieldWeights,
                            bias: fieldBias)
        #expect(got.sentinelsIntact, "the vertex wrote past its output field")
        if block == .compact {
            // The blocks add the same products in the same order: the same bits.
            let wide = runVertex(g, inType: inType, outType: outType, hasBias: p.hasBias, block: .wide, input: fieldIn, weights: fieldWeights,
                                 bias: fieldBias)
            #expect(wide.values == got.values, "the wide and compact register blocks gave different bits")
        }
        let tolerance = outType == .float16 ? 1e-3 : 1e-5
        let worst = zip(zip(got.values, reference), magnitude).map { abs($0.0 - $0.1) / (tolerance * ($1 + 1e-3)) }.max() ?? 0
        #expect(got.values.allSatisfy { $0.isFinite }, "the vertex wrote a NaN or an infinity")
        #expect(got.values.count == reference.count && worst <= 1, "worst error \(worst) × tolerance")
    }

    /// The host's block follows the CPU: the wide one exactly when Linux lists AVX-512F among an x86 CPU's flags
    /// (which it does only when the kernel saves the AVX-512 registers); other CPUs have no such line.
    @Test func hostBlockFollowsTheCPUFlags() throws {
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let flags = cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") }?.split(separator: " ") ?? []
        #expect(ConvRegisterBlock.host == (flags.contains("avx512f") ? .wide : .compact))
    }

    /// Runs one `ConvPartialCodelet` of `g` (or, with `block`, the dense kernel with that register block) on fields laid
    /// out one after another (4-byte aligned only), with sentinels after the output.
    private func runVertex(_ g: ConvVertexGeometry, inType: ElementType, outType: ElementType, hasBias: Bool, block: ConvRegisterBlock?,
                           input: [Double], weights: [Double], bias: [Double]) -> (values: [Double], sentinelsIntact: Bool) {
        let outputs = g.positions * g.groups * g.outputChannelsPerGroup, spare = 64
        let inputs = [input, weights] + (hasBias ? [bias] : [])
        var slots: [FieldSlot] = [], offset = 4
        for values in inputs {
            slots.append(FieldSlot(offset: offset, count: values.count))
            offset += (values.count * inType.byteSize + 3) / 4 * 4 + 4
        }
        slots.append(FieldSlot(offset: offset, count: outputs))
        let bytes = offset + (outputs + spare) * outType.byteSize
        let memory = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        defer { memory.deallocate() }
        memory.initializeMemory(as: UInt8.self, repeating: 0xA5, count: bytes)
        for (slot, values) in zip(slots, inputs) {
            for (e, value) in values.enumerated() {
                if inType == .float16 {
                    (memory + slot.offset).storeBytes(of: Float16(value), toByteOffset: 2 * e, as: Float16.self)
                } else {
                    (memory + slot.offset).storeBytes(of: Float(value), toByteOffset: 4 * e, as: Float.self)
                }
            }
        }
        let codelet = ConvPartialCodelet(geometry: g, method: .amp, workerAxis: .row, workers: 1, inputType: inType, outputType: outType,
                                         hasBias: hasBias)
        #expect(codelet.sizeProblem(fieldSizes: slots.map(\.count)) == nil)
        slots.withUnsafeBufferPointer { slots in
            let fields = VertexFields(memory: memory, slots: slots.baseAddress!), outputField = hasBias ? 3 : 2
            func dense<In: ElementLane, Out: ElementLane>(_: In.Type, _: Out.Type, _ block: ConvRegisterBlock) {
                ConvDenseKernel.run(fields, geometry: g, hasBias: hasBias, outputField: outputField, In.self, Out.self, block: block)
            }
            switch (block, inType, outType) {
            case (nil, _, _): codelet.compute(fields)
            case let (block?, .float16, .float16): dense(Float16.self, Float16.self, block)
            case let (block?, .float16, _): dense(Float16.self, Float.self, block)
            case let (block?, _, _): dense(Float.self, Float.self, block)
            }
        }
        let out = memory + offset
        let values = (0..<outputs).map { e in
            outType == .float16 ? Double(out.loadUnaligned(fromByteOffset: 2 * e, as: Float16.self)) : Double(out.loadUnaligned(fromByteOffset: 4 * e, as: Float.self))
        }
        let tail = out + outputs * outType.byteSize
        let intact = (0..<(spare * outType.byteSize)).allSatisfy { tail.load(fromByteOffset: $0, as: UInt8.self) == 0xA5 }
        return (values, intact)
    }
}
