import TesseraGraph

/// Host kernel of depthwise convolution parts (one input and one output channel per group).
///
/// The part's input is rearranged into a zero-padded channel-last window (`[n][row][column][group]`),
/// so sixteen adjacent groups fill one `SIMD16<Float>`; results are put back in the field's
/// channel-first order with the bias.
enum ConvDepthwiseKernel {
    /// Computes the part into the output field (field `outputField`, of `Out`), from input, weights and bias of `In`.
    static func run<In: ElementLane, Out: ElementLane>(_ fields: VertexFields, geometry g: ConvVertexGeometry, hasBias: Bool,
                                                       outputField: Int, _: In.Type, _: Out.Type) {
        let groups = g.groups, taps = g.taps
        // 16 spare elements: the last group block reads past the last group into lanes it does not store.
        let windowCount = g.batch * g.windowRows * g.windowColumns * groups + 16
        let window = UnsafeMutablePointer<Float>.allocate(capacity: windowCount)
        window.initialize(repeating: 0, count: windowCount)
        defer { window.deallocate() }
        let input = fields.input(0, as: In.self).baseAddress!
        for n in 0..<g.batch {
            for group in 0..<groups {
                for r in 0..<g.usedRows {
                    let source = input + ((n * groups + group) * g.fieldRows + r) * g.fieldColumns
                    let target = window + ((n * g.windowRows + g.rowOffset + r) * g.windowColumns + g.columnOffset) * groups + group
                    for c in 0..<g.usedColumns { target[c * groups] = source[c].widened }
                }
            }
        }
        // Weights as [tap][group], zero beyond the groups.
        let blocks = convCeilDiv(groups, 16)
        let packed = UnsafeMutablePointer<Float>.allocate(capacity: taps * blocks * 16)
        defer { packed.deallocate() }
        packed.initialize(repeating: 0, count: taps * blocks * 16)
        let weights = fields.input(1, as: In.self).baseAddress!
        for group in 0..<groups {
            for tap in 0..<taps { packed[tap * blocks * 16 + group] = weights[group * taps + tap].widened }
        }
        // Window offsets of every kernel tap.
        let tapOffsets = UnsafeMutablePointer<Int>.allocate(capacity: taps)
        defer { tapOffsets.deallocate() }
        for kh in 0..<g.kernel[0] {
            for kw in 0..<g.kernel[1] {
                tapOffsets[kh * g.kernel[1] + kw] = (kh * g.dilation[0] * g.windowColumns + kw * g.dilation[1]) * groups
            }
        }
        let bias = hasBias ? fields.input(2, as: In.self).baseAddress : nil
        let plane = g.outputRows * g.outputColumns
        let output = fields.output(outputField, as: Out.self).baseAddress!
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: blocks * 16)
        defer { sums.deallocate() }
        for n in 0..<g.batch {
            for oh in 0..<g.outputRows {
                for ow in 0..<g.outputColumns {
                    let base = ((n * g.windowRows + oh * g.stride[0]) * g.windowColumns + ow * g.stride[1]) * groups
                    for block in 0..<blocks {
                        var sum = SIMD16<Float>()
                        for tap in 0..<taps {
                            let x = UnsafeRawPointer(window + base + tapOffsets[tap] + block * 16).loadUnaligned(as: SIMD16<Float>.self)
                            sum.addProduct(x, UnsafeRawPointer(packed + (tap * blocks + block) * 16).loadUnaligned(as: SIMD16<Float>.self))
                        }
                        UnsafeMutableRawPointer(sums + block * 16).storeBytes(of: sum, as: SIMD16<Float>.self)
                    }
                    let q = oh * g.outputColumns + ow
                    for group in 0..<groups {
                        let value = hasBias ? sums[group] + bias![group].widened : sums[group]
                        output[(n * groups + group) * plane + q] = Out(rounding: value)
                    }
                }
            }
        }
    }
}
