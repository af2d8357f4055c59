import TesseraGraph

/// Host kernel of dense convolution parts (every part but depthwise ones): per group, the matrix
/// product `out[o][p] = Σ_k w[o][k] · x[k][p]` over `k = (input channel, tap)`.
///
/// The weights are read in place: their field order `[group][o][c][kh][kw]` already is `[o][k]`
/// (float16 weights are only widened), so nothing is packed or cached between runs (the weights live
/// in tile memory and may be rewritten). Eight output channels × 32 output positions accumulate in
/// sixteen `SIMD16<Float>` registers over `k` (``multiply(weights:depth:rows:source:offsets:store:)``).
/// The 32 positions' inputs for `k` are read at `source + offsets[k]`: straight from a zero-padded
/// window for unit-stride parts (``runWindowed(geometry:input:operands:output:)``), and for strided
/// ones from a panel `[k][32]` gathered from the field (``ConvPanelGather``), whose results go
/// straight into the channel-first output field.
enum ConvDenseKernel {
    /// Output positions per panel: two `SIMD16<Float>` per output channel.
    static let panelWidth = 32
    /// Output channels accumulated at once.
    static let rowBlock = 8

    /// Positions `lane ..< lane + count` of a panel: one output row's consecutive columns.
    struct Segment {
        var lane: Int, count: Int, image: Int, row: Int, column: Int
    }

    /// Float32 views of a part's weights `[group][o][k]` and bias (a widened copy of float16 weights, zeros without a bias).
    struct Operands {
        let weights: UnsafePointer<Float>
        let bias: UnsafeMutablePointer<Float>
        private let weightsCopy: UnsafeMutablePointer<Float>?

        init<In: ElementLane>(_ fields: VertexFields, channels: Int, hasBias: Bool, _: In.Type) {
            let source = fields.input(1, as: In.self)
            if In.self == Float.self {
                weightsCopy = nil
                weights = UnsafeRawPointer(source.baseAddress!).assumingMemoryBound(to: Float.self)
            } else {
                let copy = UnsafeMutablePointer<Float>.allocate(capacity: source.count)
                for i in source.indices { copy[i] = source[i].widened }
                weightsCopy = copy
                weights = UnsafePointer(copy)
            }
            bias = .allocate(capacity: channels)
            if hasBias {
                let values = fields.input(2, as: In.self)
                for i in 0..<channels { bias[i] = values[i].widened }
            } else {
                bias.initialize(repeating: 0, count: channels)
            }
        }

        func deallocate() {
            weightsCopy?.deallocate()
            bias.deallocate()
        }
    }

    /// Computes the part into output field `outputField` (of `Out`) from input, weights and bias of `In`:
    /// unit-stride parts straight from a padded window (``runWindowed``), strided ones through gathered panels.
    static func run<In: ElementLane, Out: ElementLane>(_ fields: VertexFields, geometry g: ConvVertexGeometry, hasBias: Bool,
                                                       outputField: Int, _: In.Type, _: Out.Type) {
        let operands = Operands(fields, channels: g.groups * g.outputChannelsPerGroup, hasBias: hasBias, In.self)
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
                    multiply(weights: operands.weights + channel * depth, depth: depth, rows: min(rowBlock, og - o), source: panel,
                             offsets: offsets) { row, low, high in
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

    /// `Σ_k weights[row · depth + k] · source[offsets[k] + lane]` for `rows` (1 … 8) rows and lanes 0 ..< 32,
    /// handed to `store` as (row, lanes 0 ..< 16, lanes 16 ..< 32). Rows beyond `rows` repeat the last one and
    /// are not stored.
    @inline(__always)
    static func multiply(weights: UnsafePointer<Float>, depth: Int, rows: Int, source: UnsafePointer<Float>, offsets: UnsafePointer<Int>,
                         store: (Int, SIMD16<Float>, SIMD16<Float>) -> Void) {
        @inline(__always) func row(_ i: Int) -> UnsafePointer<Float> { weights + min(i, rows - 1) * depth }
        let w0 = row(0), w1 = row(1), w2 = row(2), w3 = row(3), w4 = row(4), w5 = row(5), w6 = row(6), w7 = row(7)
        var a0 = SIMD16<Float>(), b0 = SIMD16<Float>(), a1 = SIMD16<Float>(), b1 = SIMD16<Float>()
        var a2 = SIMD16<Float>(), b2 = SIMD16<Float>(), a3 = SIMD16<Float>(), b3 = SIMD16<Float>()
        var a4 = SIMD16<Float>(), b4 = SIMD16<Float>(), a5 = SIMD16<Float>(), b5 = SIMD16<Float>()
        var a6 = SIMD16<Float>(), b6 = SIMD16<Float>(), a7 = SIMD16<Float>(), b7 = SIMD16<Float>()
        for k in 0..<depth {
            let x = UnsafeRawPointer(source + offsets[k])
            let low = x.loadUnaligned(as: SIMD16<Float>.self), high = x.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
            var w = SIMD16<Float>(repeating: w0[k])
            a0.addProduct(w, low); b0.addProduct(w, high)
            w = SIMD16(repeating: w1[k])
            a1.addProduct(w, low); b1.addProduct(w, high)
            w = SIMD16(repeating: w2[k])
            a2.addProduct(w, low); b2.addProduct(w, high)
            w = SIMD16(repeating: w3[k])
            a3.addProduct(w, low); b3.addProduct(w, high)
            w = SIMD16(repeating: w4[k])
            a4.addProduct(w, low); b4.addProduct(w, high)
            w = SIMD16(repeating: w5[k])
            a5.addProduct(w, low); b5.addProduct(w, high)
            w = SIMD16(repeating: w6[k])
            a6.addProduct(w, low); b6.addProduct(w, high)
            w = SIMD16(repeating: w7[k])
            a7.addProduct(w, low); b7.addProduct(w, high)
        }
        store(0, a0, b0)
        if rows > 1 { store(1, a1, b1) }
        if rows > 2 { store(2, a2, b2) }
        if rows > 3 { store(3, a3, b3) }
        if rows > 4 { store(4, a4, b4) }
        if rows > 5 { store(5, a5, b5) }
        if rows > 6 { store(6, a6, b6) }
        if rows > 7 { store(7, a7, b7) }
    }
}
