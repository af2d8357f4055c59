import TesseraGraph

/// Host kernel of dense convolution parts (every part but depthwise ones): per group, the matrix
/// product `out[o][p] = Σ_k w[o][k] · x[k][p]` over `k = (input channel, tap)`.
///
/// The weights are read in place: their field order `[group][o][c][kh][kw]` already is `[o][k]`
/// (float16 weights are only widened), so nothing is packed or cached between runs (the weights live
/// in tile memory and may be rewritten). The input is rearranged once per run into a ``ConvWindow``,
/// in which the 32 output positions of a panel read 32 consecutive floats for every `k`, at
/// `position + offsets[k]`. Eight output channels × 32 positions accumulate in sixteen `SIMD16<Float>`
/// registers over `k` (``multiply(weights:depth:rows:count:source:offsets:start:store:)``) into a staging row per
/// output channel, whose output positions then go to the channel-first output field with the bias.
enum ConvDenseKernel {
    /// Output positions per panel: two `SIMD16<Float>` per output channel.
    static let panelWidth = 32
    /// Output channels accumulated at once.
    static let rowBlock = 8
    /// Values of k per pass over the panels: 128 × 32 floats (16 KiB) of window stay in L1.
    static let depthChunk = 128

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

    /// Computes the part into output field `outputField` (of `Out`) from input, weights and bias of `In`.
    static func run<In: ElementLane, Out: ElementLane>(_ fields: VertexFields, geometry g: ConvVertexGeometry, hasBias: Bool,
                                                       outputField: Int, _: In.Type, _: Out.Type) {
        let cg = g.inputChannelsPerGroup, og = g.outputChannelsPerGroup, depth = cg * g.taps
        let channels = g.groups * og, plane = g.outputRows * g.outputColumns
        let operands = Operands(fields, channels: channels, hasBias: hasBias, In.self)
        defer { operands.deallocate() }
        let window = ConvWindow(geometry: g, input: fields.input(0, as: In.self).baseAddress!)
        defer { window.deallocate() }
        // Window offset of every k = (input channel, tap) of a group, from its first channel.
        let offsets = UnsafeMutablePointer<Int>.allocate(capacity: depth)
        defer { offsets.deallocate() }
        for c in 0..<cg {
            for kh in 0..<g.kernel[0] {
                for kw in 0..<g.kernel[1] { offsets[(c * g.kernel[0] + kh) * g.kernel[1] + kw] = window.offset(channel: c, kh: kh, kw: kw) }
            }
        }
        let stagingStride = convCeilDiv(window.span, panelWidth) * panelWidth
        let staging = UnsafeMutablePointer<Float>.allocate(capacity: channels * stagingStride)
        defer { staging.deallocate() }
        for group in 0..<g.groups {
            let source = UnsafePointer(window.values + group * cg * window.channelStride)
            // k in chunks whose panel rows stay in L1 over every block of output channels; later chunks go on
            // from the sums staged so far, so the order of the sums is that of one pass.
            for chunkStart in stride(from: 0, to: depth, by: depthChunk) {
                let chunk = min(depthChunk, depth - chunkStart)
                for first in stride(from: 0, to: window.span, by: panelWidth) {
                    var o = 0
                    while o < og {
                        let channel = group * og + o, rows = min(rowBlock, og - o)
                        @inline(__always) func staged(_ row: Int) -> UnsafeMutableRawPointer {
                            UnsafeMutableRawPointer(staging + (channel + row) * stagingStride + first)
                        }
                        multiply(weights: operands.weights + channel * depth + chunkStart, depth: depth, rows: rows, count: chunk,
                                 source: source + first, offsets: offsets + chunkStart) { row in
                            guard chunkStart > 0 && row < rows else { return (.zero, .zero) }
                            let sums = staged(row)
                            return (sums.loadUnaligned(as: SIMD16<Float>.self), sums.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self))
                        } store: { row, low, high in
                            staged(row).storeBytes(of: low, as: SIMD16<Float>.self)
                            staged(row).storeBytes(of: high, toByteOffset: 64, as: SIMD16<Float>.self)
                        }
                        o += rowBlock
                    }
                }
            }
        }
        // Output rows that are whole window rows go as one run per image.
        let wholeRows = window.columns == g.outputColumns
        let runs = wholeRows ? 1 : g.outputRows, runLength = wholeRows ? plane : g.outputColumns
        let output = fields.output(outputField, as: Out.self).baseAddress!
        for channel in 0..<channels {
            let b = operands.bias[channel], biasVector = SIMD16<Float>(repeating: b)
            for n in 0..<g.batch {
                for oh in 0..<runs {
                    let source = staging + channel * stagingStride + window.position(image: n, row: oh, column: 0)
                    let target = output + (n * channels + channel) * plane + oh * g.outputColumns
                    var ow = 0
                    while ow + 16 <= runLength {
                        Out.storeRounded16(Float.loadWidened16(source + ow) + biasVector, target + ow)
                        ow += 16
                    }
                    while ow < runLength {
                        target[ow] = Out(rounding: source[ow] + b)
                        ow += 1
                    }
                }
            }
        }
    }

    /// `start(row) + Σ_{k < count} weights[row · depth + k] · source[offsets[k] + lane]` for `rows` (1 … 8) rows
    /// and lanes 0 ..< 32, handed to `store` as (row, lanes 0 ..< 16, lanes 16 ..< 32) for each row below `rows`.
    /// Rows from `rows` on repeat the last one's weights and are not stored.
    @inline(__always)
    static func multiply(weights: UnsafePointer<Float>, depth: Int, rows: Int, count: Int, source: UnsafePointer<Float>,
                         offsets: UnsafePointer<Int>, start: (Int) -> (SIMD16<Float>, SIMD16<Float>),
                         store: (Int, SIMD16<Float>, SIMD16<Float>) -> Void) {
        @inline(__always) func row(_ i: Int) -> UnsafePointer<Float> { weights + min(i, rows - 1) * depth }
        let w0 = row(0), w1 = row(1), w2 = row(2), w3 = row(3), w4 = row(4), w5 = row(5), w6 = row(6), w7 = row(7)
        var (a0, b0) = start(0), (a1, b1) = start(1), (a2, b2) = start(2), (a3, b3) = start(3)
        var (a4, b4) = start(4), (a5, b5) = start(5), (a6, b6) = start(6), (a7, b7) = start(7)
        for k in 0..<count {
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
