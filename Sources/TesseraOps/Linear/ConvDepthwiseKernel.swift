import TesseraGraph

/// Host kernel of depthwise convolution parts (one input and one output channel per group):
/// `out[n][g][oh][ow] = Σ_t w[g][t] · window[g][n][oh][ow + offset(t)] + bias[g]` over the taps `t`.
///
/// The input is rearranged into the same ``ConvWindow`` as ``ConvDenseKernel``'s (zero-padded, split
/// by stride phase), but the sums go straight to the output field: sixteen output columns of one row
/// of one channel are one vector, and four such vectors, in output order, accumulate at once over
/// the taps (four independent chains, so a 7-wide row of a 1,152-channel part keeps the FMA unit
/// busy where one channel alone would wait on each sum). A dense part's panels, staging rows and
/// output pass cost more than the few hundred multiply-adds of a small depthwise group.
///
/// The sums are those of ``ConvDenseKernel`` in the same order (from zero over the taps, then the
/// bias), so either kernel gives the same bits.
enum ConvDepthwiseKernel {
    /// Output positions per vector.
    static let width = 16

    /// One vector of outputs: where its taps start in the window, its channel's weights and bias, and
    /// where in the output field it goes.
    private struct Strip {
        var source: UnsafePointer<Float>
        var weights: UnsafePointer<Float>
        var bias: Float
        var target: Int
    }

    /// Computes the depthwise part `g` into output field `outputField` (of `Out`) from input, weights and
    /// bias of `In`, its temporaries in the thread's scratch arena.
    static func run<In: ElementLane, Out: ElementLane>(_ fields: VertexFields, geometry g: ConvVertexGeometry, hasBias: Bool,
                                                       outputField: Int, _: In.Type, _: Out.Type) {
        withKernelScratch { scratch in
            let channels = g.groups, taps = g.taps
            let output = fields.output(outputField, as: Out.self).baseAddress!
            let rows = g.outputRows, columns = g.outputColumns, plane = rows * columns, end = g.batch * channels * plane
            let operands = ConvDenseKernel.Operands(fields, channels: channels, hasBias: hasBias, In.self, scratch: scratch)
            let window = ConvWindow(geometry: g, input: fields.input(0, as: In.self).baseAddress!, scratch: scratch)
            let offsets = window.offsets(geometry: g, channels: 1, scratch: scratch)
            var next = 0
            // The output's cache lines are asked for a few at each group of four strips.
            var outputLines = WritePrefetcher(output, output + end, steps: convCeilDiv(g.batch * channels * rows * convCeilDiv(columns, width), 4))
            // Strips in output order, so that a strip's lanes past its row (stored with it) are
            // stored again, right, by a later strip.
            let unused = Strip(source: window.values, weights: operands.weights, bias: 0, target: 0)
            var strips = (unused, unused, unused, unused)
            @inline(__always) func flush(_ count: Int) {
                outputLines.step()
                accumulate(strips, count: count, taps: taps, offsets: offsets, output: output, end: end)
                next = 0
            }
            for n in 0..<g.batch {
                for channel in 0..<channels {
                    let source = UnsafePointer(window.values + channel &* window.channelStride)
                    let weights = operands.weights + channel &* taps, bias = operands.bias[channel]
                    for oh in 0..<rows {
                        let rowStart = window.position(image: n, row: oh, column: 0)
                        let target = (n &* channels &+ channel) &* plane &+ oh &* columns
                        var ow = 0
                        while ow < columns {
                            let strip = Strip(source: source + (rowStart &+ ow), weights: weights, bias: bias, target: target &+ ow)
                            switch next {
                            case 0: strips.0 = strip
                            case 1: strips.1 = strip
                            case 2: strips.2 = strip
                            default: strips.3 = strip
                            }
                            next &+= 1
                            if next == 4 { flush(4) }
                            ow &+= width
                        }
                    }
                }
            }
            if next > 0 { flush(next) }
        }
    }

    /// The sums of the first `count` (1 … 4) of `strips` over the taps, stored in strip order at
    /// their targets in `output` (a vector, or lane by lane where it would pass `end`). Unused
    /// strips repeat the last one and are not stored.
    @inline(__always)
    private static func accumulate<Out: ElementLane>(_ strips: (Strip, Strip, Strip, Strip), count: Int, taps: Int,
                                                     offsets: UnsafePointer<Int>, output: UnsafeMutablePointer<Out>, end: Int) {
        let s0 = strips.0, s1 = count > 1 ? strips.1 : s0, s2 = count > 2 ? strips.2 : s1, s3 = count > 3 ? strips.3 : s2
        var a0 = SIMD16<Float>.zero, a1 = SIMD16<Float>.zero, a2 = SIMD16<Float>.zero, a3 = SIMD16<Float>.zero
        for t in 0..<taps {
            let offset = offsets[t]
            a0.addProduct(SIMD16(repeating: s0.weights[t]), Float.loadWidened16(s0.source + offset))
            a1.addProduct(SIMD16(repeating: s1.weights[t]), Float.loadWidened16(s1.source + offset))
            a2.addProduct(SIMD16(repeating: s2.weights[t]), Float.loadWidened16(s2.source + offset))
            a3.addProduct(SIMD16(repeating: s3.weights[t]), Float.loadWidened16(s3.source + offset))
        }
        @inline(__always) func store(_ sums: SIMD16<Float>, _ strip: Strip) {
            let values = sums + SIMD16(repeating: strip.bias)
            if strip.target &+ width <= end {
                Out.storeRounded16(values, output + strip.target)
            } else {
                for lane in 0..<(end &- strip.target) { output[strip.target &+ lane] = Out(rounding: values[lane]) }
            }
        }
        store(a0, s0)
        if count > 1 { store(a1, s1) }
        if count > 2 { store(a2, s2) }
        if count > 3 { store(a3, s3) }
    }
}
