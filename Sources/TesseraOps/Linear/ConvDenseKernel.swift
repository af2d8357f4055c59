import TesseraGraph

/// Host kernel of dense convolution parts (every part but depthwise ones): per group, the matrix
/// product `out[o][p] = Σ_k w[o][k] · x[k][p]` over `k = (input channel, tap)`.
///
/// Each run copies the weights of every eight output channels into a block `[k][8]` (widening
/// float16), so the inner loop broadcasts them from one pointer; nothing is cached between runs, as
/// the weights live in tile memory and may be rewritten. Eight output channels × 32 output positions
/// accumulate in sixteen `SIMD16<Float>` registers over `k`
/// (``multiply(weights:depth:source:offsets:store:)``). The 32 positions' inputs for `k` are read at
/// `source + offsets[k]`: straight from a zero-padded window for unit-stride parts
/// (``runWindowed(geometry:input:operands:output:)``), and for strided ones from a panel `[k][32]`
/// gathered from the field (``ConvPanelGather``), whose results go straight into the channel-first
/// output field.
enum ConvDenseKernel {
    /// Output positions per panel: two `SIMD16<Float>` per output channel.
    static let panelWidth = 32
    /// Output channels accumulated at once.
    static let rowBlock = 8

    /// Positions `lane ..< lane + count` of a panel: one output row's consecutive columns.
    struct Segment {
        var lane: Int, count: Int, image: Int, row: Int, column: Int
    }

    /// A part's weights in blocks of eight output channels, `[group][block][k][8]` (zero beyond the
    /// group's output channels), and its bias as float32 (zeros without a bias).
    struct Operands {
        let weights: UnsafeMutablePointer<Float>
        let bias: UnsafeMutablePointer<Float>

        init<In: ElementLane>(_ fields: VertexFields, geometry g: ConvVertexGeometry, hasBias: Bool, _: In.Type) {
            let og = g.outputChannelsPerGroup, depth = g.inputChannelsPerGroup * g.taps, blocks = convCeilDiv(og, rowBlock)
            let source = fields.input(1, as: In.self).baseAddress!
            weights = .allocate(capacity: g.groups * blocks * depth * rowBlock)
            var target = weights
            for group in 0..<g.groups {
                for block in 0..<blocks {
                    let first = block * rowBlock, rows = min(rowBlock, og - first)
                    let rowsSource = source + (group * og + first) * depth
                    for k in 0..<depth {
                        for i in 0..<rows { target[i] = rowsSource[i * depth + k].widened }
                        for i in rows..<rowBlock { target[i] = 0 }
                        target += rowBlock
                    }
                }
            }
            let channels = g.groups * og
            bias = .allocate(capacity: channels)
            if hasBias {
                let values = fields.input(2, as: In.self)
                for i in 0..<channels { bias[i] = values[i].widened }
            } else {
                bias.initialize(repeating: 0, count: channels)
            }
        }

        /// The weight block of output channels `firstOutput ..< firstOutput + 8` of `group` (`firstOutput` a multiple of 8).
        func block(group: Int, firstOutput: Int, geometry g: ConvVertexGeometry) -> UnsafePointer<Float> {
            let depth = g.inputChannelsPerGroup * g.taps, blocks = convCeilDiv(g.outputChannelsPerGroup, rowBlock)
            return UnsafePointer(weights + ((group * blocks + firstOutput / rowBlock) * depth) * rowBlock)
        }

        func deallocate() {
            weights.deallocate()
            bias.deallocate()
        }
    }

    /// Computes the part into output field `outputField` (of `Out`) from input, weights and bias of `In`:
    /// unit-stride parts straight from a padded window (``runWindowed``), strided ones through gathered panels.
    static func run<In: ElementLane, Out: ElementLane>(_ fields: VertexFields, geometry g: ConvVertexGeometry, hasBias: Bool,
                                                       outputField: Int, _: In.Type, _: Out.Type) {
        let operands = Operands(fields, geometry: g, hasBias: hasBias, In.self)
        defer { operands.deallocate() }
        let input = fields.input(0, as: In.self).baseAddress!, output = fields.output(outputField, as: Out.self).baseAddress!
        if g.stride[0] == 1 && g.stride[1] == 1 {
            runWindowed(geometry: g, input: input, operands: operands, output: output)
        } else {
            runGathered(geometry: g, input: input, operands: operands, output: output)
        }
    }

    /// The part through panels gathered 32 positions at a time (``ConvPanelGather``).
    static func runGathered<In: ElementLane, Out: ElementLane>(geometry g: ConvVertexGeometry, input: UnsafePointer<In>, operands: Operands,
                                                               output: UnsafeMutablePointer<Out>) {
        let og = g.outputChannelsPerGroup, depth = g.inputChannelsPerGroup * g.taps
        let channels = g.groups * og, plane = g.outputRows * g.outputColumns, positions = g.positions
        let panel = UnsafeMutableRawPointer.allocate(byteCount: depth * panelWidth * 4, alignment: 64).bindMemory(to: Float.self, capacity: depth * panelWidth)
        defer { panel.deallocate() }
        let segments = UnsafeMutablePointer<Segment>.allocate(capacity: panelWidth)
        defer { segments.deallocate() }
        let lanes = UnsafeMutablePointer<Int>.allocate(capacity: panelWidth)
        defer { lanes.deallocate() }
        let offsets = UnsafeMutablePointer<Int>.allocate(capacity: depth)
        defer { offsets.deallocate() }
        for k in 0..<depth { offsets[k] = k * panelWidth }
        let gather = ConvPanelGather(geometry: g, input: input)
        let bias = operands.bias
        var first = 0
        while first < positions {
            let width = min(panelWidth, positions - first)
            // Lanes beyond the last position stay zero for every group.
            if width < panelWidth { panel.initialize(repeating: 0, count: depth * panelWidth) }
            let segmentCount = gather.segments(first: first, width: width, into: segments)
            for s in 0..<segmentCount {
                let segment = segments[s], start = segment.image * channels * plane + segment.row * g.outputColumns + segment.column
                for t in 0..<segment.count { lanes[segment.lane + t] = start + t }
            }
            let contiguous = width == panelWidth && lanes[panelWidth - 1] == lanes[0] + panelWidth - 1
            for group in 0..<g.groups {
                gather.fill(panel, group: group, segments: segments, count: segmentCount)
                var o = 0
                while o < og {
                    let channel = group * og + o
                    multiply(weights: operands.block(group: group, firstOutput: o, geometry: g), depth: depth, source: panel,
                             offsets: offsets) { row, low, high in
                        guard row < og - o else { return }
                        let b = bias[channel + row], target = output + (channel + row) * plane
                        if contiguous {
                            Out.storeRounded16(low + b, target + lanes[0])
                            Out.storeRounded16(high + b, target + lanes[0] + 16)
                        } else {
                            for j in 0..<min(width, 16) { target[lanes[j]] = Out(rounding: low[j] + b) }
                            for j in 16..<max(width, 16) { target[lanes[j]] = Out(rounding: high[j - 16] + b) }
                        }
                    }
                    o += rowBlock
                }
            }
            first += width
        }
    }

    /// `Σ_k weights[k · 8 + row] · source[offsets[k] + lane]` for the eight rows and lanes 0 ..< 32, handed to
    /// `store` as (row, lanes 0 ..< 16, lanes 16 ..< 32).
    @inline(__always)
    static func multiply(weights: UnsafePointer<Float>, depth: Int, source: UnsafePointer<Float>, offsets: UnsafePointer<Int>,
                         store: (Int, SIMD16<Float>, SIMD16<Float>) -> Void) {
        var a0 = SIMD16<Float>(), b0 = SIMD16<Float>(), a1 = SIMD16<Float>(), b1 = SIMD16<Float>()
        var a2 = SIMD16<Float>(), b2 = SIMD16<Float>(), a3 = SIMD16<Float>(), b3 = SIMD16<Float>()
        var a4 = SIMD16<Float>(), b4 = SIMD16<Float>(), a5 = SIMD16<Float>(), b5 = SIMD16<Float>()
        var a6 = SIMD16<Float>(), b6 = SIMD16<Float>(), a7 = SIMD16<Float>(), b7 = SIMD16<Float>()
        var w = weights
        for k in 0..<depth {
            let x = UnsafeRawPointer(source + offsets[k])
            let low = x.loadUnaligned(as: SIMD16<Float>.self), high = x.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
            var s = SIMD16<Float>(repeating: w[0])
            a0.addProduct(s, low); b0.addProduct(s, high)
            s = SIMD16(repeating: w[1])
            a1.addProduct(s, low); b1.addProduct(s, high)
            s = SIMD16(repeating: w[2])
            a2.addProduct(s, low); b2.addProduct(s, high)
            s = SIMD16(repeating: w[3])
            a3.addProduct(s, low); b3.addProduct(s, high)
            s = SIMD16(repeating: w[4])
            a4.addProduct(s, low); b4.addProduct(s, high)
            s = SIMD16(repeating: w[5])
            a5.addProduct(s, low); b5.addProduct(s, high)
            s = SIMD16(repeating: w[6])
            a6.addProduct(s, low); b6.addProduct(s, high)
            s = SIMD16(repeating: w[7])
            a7.addProduct(s, low); b7.addProduct(s, high)
            w += rowBlock
        }
        store(0, a0, b0); store(1, a1, b1); store(2, a2, b2); store(3, a3, b3)
        store(4, a4, b4); store(5, a5, b5); store(6, a6, b6); store(7, a7, b7)
    }
}
