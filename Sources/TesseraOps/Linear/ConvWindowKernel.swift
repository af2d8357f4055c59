extension ConvDenseKernel {
    /// A unit-stride part straight from its zero-padded window, laid out channel by channel with the images
    /// of each channel one after another: `[channel][n][windowRows][windowColumns]`.
    ///
    /// Output (`n`, `oh`, `ow`) reads window position `(n · windowRows + oh) · windowColumns + ow` of each
    /// channel plus a fixed offset per tap, so 32 consecutive window positions of any tap are 32 consecutive
    /// floats and the window is read in place, with no per-tap copy. Positions are taken 32 at a time along
    /// the window (the positions at the end of each row and image that are no output are computed and
    /// dropped) into a staging row per output channel, whose rows then go to the output with the bias.
    static func runWindowed<In: ElementLane, Out: ElementLane>(geometry g: ConvVertexGeometry, input: UnsafePointer<In>, operands: Operands,
                                                               output: UnsafeMutablePointer<Out>) {
        let cg = g.inputChannelsPerGroup, og = g.outputChannelsPerGroup, pixel = g.groups * cg, depth = cg * g.taps
        let columns = g.windowColumns, windowPlane = g.windowRows * columns, channelStride = g.batch * windowPlane
        let channels = g.groups * og, plane = g.outputRows * g.outputColumns
        let span = (g.batch - 1) * windowPlane + (g.outputRows - 1) * columns + g.outputColumns
        let stagingStride = convCeilDiv(span, panelWidth) * panelWidth
        // Spare floats for the dropped lanes of the last channel's last panel.
        let windowCount = pixel * channelStride + 2 * panelWidth
        let window = UnsafeMutablePointer<Float>.allocate(capacity: windowCount)
        defer { window.deallocate() }
        if g.usedRows == g.windowRows && g.usedColumns == columns {
            (window + pixel * channelStride).initialize(repeating: 0, count: 2 * panelWidth)
        } else {
            window.initialize(repeating: 0, count: windowCount)
        }
        for n in 0..<g.batch {
            for channel in 0..<pixel {
                for r in 0..<g.usedRows {
                    let source = input + ((n * pixel + channel) * g.fieldRows + r) * g.fieldColumns
                    let target = window + channel * channelStride + n * windowPlane + (g.rowOffset + r) * columns + g.columnOffset
                    for c in 0..<g.usedColumns { target[c] = source[c].widened }
                }
            }
        }
        // Window offset of every k = (input channel, tap).
        let offsets = UnsafeMutablePointer<Int>.allocate(capacity: depth)
        defer { offsets.deallocate() }
        for c in 0..<cg {
            for kh in 0..<g.kernel[0] {
                for kw in 0..<g.kernel[1] {
                    offsets[(c * g.kernel[0] + kh) * g.kernel[1] + kw] = c * channelStride + kh * g.dilation[0] * columns + kw * g.dilation[1]
                }
            }
        }
        let staging = UnsafeMutablePointer<Float>.allocate(capacity: channels * stagingStride)
        defer { staging.deallocate() }
        let bias = operands.bias
        for group in 0..<g.groups {
            let source = window + group * cg * channelStride
            for first in stride(from: 0, to: span, by: panelWidth) {
                var o = 0
                while o < og {
                    let channel = group * og + o
                    multiply(weights: operands.weights + channel * depth, depth: depth, rows: min(rowBlock, og - o), source: source + first,
                             offsets: offsets) { row, low, high in
                        let target = UnsafeMutableRawPointer(staging + (channel + row) * stagingStride + first)
                        target.storeBytes(of: low, as: SIMD16<Float>.self)
                        target.storeBytes(of: high, toByteOffset: 64, as: SIMD16<Float>.self)
                    }
                    o += rowBlock
                }
            }
        }
        for channel in 0..<channels {
            let b = bias[channel]
            for n in 0..<g.batch {
                for oh in 0..<g.outputRows {
                    let source = staging + channel * stagingStride + n * windowPlane + oh * columns
                    let target = output + (n * channels + channel) * plane + oh * g.outputColumns
                    for ow in 0..<g.outputColumns { target[ow] = Out(rounding: source[ow] + b) }
                }
            }
        }
    }
}
