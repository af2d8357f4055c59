extension ConvDenseKernel {
    /// A unit-stride part straight from its zero-padded channel-first window `[n][channel][windowRows][windowColumns]`.
    ///
    /// Output (`oh`, `ow`) reads window position `oh · windowColumns + ow` plus a fixed offset per tap, so 32
    /// consecutive window positions of any tap are 32 consecutive floats and the window is read in place, with
    /// no per-tap copy. Positions are taken 32 at a time along each image's window rows (the
    /// `windowColumns − outputColumns` positions at the end of each row are computed and dropped) into a
    /// staging plane per output channel, whose rows then go to the output with the bias.
    static func runWindowed<In: ElementLane, Out: ElementLane>(geometry g: ConvVertexGeometry, input: UnsafePointer<In>, operands: Operands,
                                                               output: UnsafeMutablePointer<Out>) {
        let cg = g.inputChannelsPerGroup, og = g.outputChannelsPerGroup, pixel = g.groups * cg, depth = cg * g.taps
        let columns = g.windowColumns, windowPlane = g.windowRows * columns
        let channels = g.groups * og, plane = g.outputRows * g.outputColumns
        let span = (g.outputRows - 1) * columns + g.outputColumns
        let stagingPlane = convCeilDiv(span, panelWidth) * panelWidth
        // Spare floats for the dropped lanes of the last channel's last panel.
        let windowCount = g.batch * pixel * windowPlane + 2 * panelWidth
        let window = UnsafeMutablePointer<Float>.allocate(capacity: windowCount)
        defer { window.deallocate() }
        window.initialize(repeating: 0, count: windowCount)
        for image in 0..<(g.batch * pixel) {
            for r in 0..<g.usedRows {
                let source = input + (image * g.fieldRows + r) * g.fieldColumns
                let target = window + (image * g.windowRows + g.rowOffset + r) * columns + g.columnOffset
                for c in 0..<g.usedColumns { target[c] = source[c].widened }
            }
        }
        let tapOffsets = UnsafeMutablePointer<Int>.allocate(capacity: g.taps)
        defer { tapOffsets.deallocate() }
        for kh in 0..<g.kernel[0] {
            for kw in 0..<g.kernel[1] { tapOffsets[kh * g.kernel[1] + kw] = kh * g.dilation[0] * columns + kw * g.dilation[1] }
        }
        let staging = UnsafeMutablePointer<Float>.allocate(capacity: channels * stagingPlane)
        defer { staging.deallocate() }
        let weights = operands.weights, bias = operands.bias
        for n in 0..<g.batch {
            for group in 0..<g.groups {
                let source = window + (n * pixel + group * cg) * windowPlane
                for first in stride(from: 0, to: span, by: panelWidth) {
                    var o = 0
                    while o < og {
                        let channel = group * og + o
                        multiply(weights: weights + channel * depth, depth: depth, rows: min(rowBlock, og - o), source: source + first, channels: cg,
                                 channelStride: windowPlane, taps: tapOffsets, tapCount: g.taps) { row, low, high in
                            let target = UnsafeMutableRawPointer(staging + (channel + row) * stagingPlane + first)
                            target.storeBytes(of: low, as: SIMD16<Float>.self)
                            target.storeBytes(of: high, toByteOffset: 64, as: SIMD16<Float>.self)
                        }
                        o += rowBlock
                    }
                }
            }
            for channel in 0..<channels {
                let b = bias[channel]
                for oh in 0..<g.outputRows {
                    let source = staging + channel * stagingPlane + oh * columns
                    let target = output + (n * channels + channel) * plane + oh * g.outputColumns
                    for ow in 0..<g.outputColumns { target[ow] = Out(rounding: source[ow] + b) }
                }
            }
        }
    }
}
