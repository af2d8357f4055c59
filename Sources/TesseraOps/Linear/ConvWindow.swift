/// A dense convolution part's input as ``ConvDenseKernel`` reads it: the zero-padded window, widened
/// to Float and split into its `stride[0] × stride[1]` phases (window row `r` is row `r / stride[0]` of
/// phase row `r % stride[0]`, and so for columns), laid out `[phase][channel][n][rows][columns]`.
///
/// In its phase, output (`n`, `oh`, `ow`) and tap (`kh`, `kw`) read position
/// ``position(image:row:column:)`` of (`n`, `oh`, `ow`) plus ``offset(channel:kh:kw:)``: the stride
/// becomes unit, so 32 consecutive positions of any tap are 32 consecutive floats. Positions between
/// the end of one output row and the next (and between images) are computed and dropped.
struct ConvWindow {
    /// The phases' values, with spare zeros after them for the dropped lanes of the last panel.
    let values: UnsafeMutablePointer<Float>
    /// Columns of a phase row.
    let columns: Int
    /// Elements of one image of one channel of a phase.
    let plane: Int
    /// Elements of one channel of a phase (every image).
    let channelStride: Int
    /// Elements of one phase.
    let phaseStride: Int
    /// Positions from the first output to one past the last.
    let span: Int
    private let geometry: ConvVertexGeometry

    /// The window of `geometry` from its input field `input` (`[n][channel][fieldRows][fieldColumns]`).
    init<In: ElementLane>(geometry g: ConvVertexGeometry, input: UnsafePointer<In>) {
        geometry = g
        let pixel = g.groups * g.inputChannelsPerGroup, rowStride = g.stride[0], columnStride = g.stride[1]
        let rows = convCeilDiv(g.windowRows, rowStride)
        columns = convCeilDiv(g.windowColumns, columnStride)
        plane = rows * columns
        channelStride = g.batch * plane
        phaseStride = pixel * channelStride
        span = (g.batch - 1) * plane + (g.outputRows - 1) * columns + g.outputColumns
        let phases = rowStride * columnStride, spare = 2 * ConvDenseKernel.panelWidth
        values = .allocate(capacity: phases * phaseStride + spare)
        if phases == 1 && g.usedRows == g.windowRows && g.usedColumns == g.windowColumns {
            (values + phaseStride).initialize(repeating: 0, count: spare)
        } else {
            values.initialize(repeating: 0, count: phases * phaseStride + spare)
        }
        // Field rows that are whole window rows of a unit-stride window are copied as one run.
        let fullRows = phases == 1 && g.usedColumns == g.windowColumns && g.fieldColumns == g.windowColumns
        let runs = fullRows ? 1 : g.usedRows, runLength = fullRows ? g.usedRows * columns : g.usedColumns
        for n in 0..<g.batch {
            for channel in 0..<pixel {
                for r in 0..<runs {
                    let source = input + ((n * pixel + channel) * g.fieldRows + r) * g.fieldColumns
                    let row = g.rowOffset + r
                    let rowStart = values + (row % rowStride) * columnStride * phaseStride + channel * channelStride + n * plane
                        + row / rowStride * columns
                    if columnStride == 1 {
                        let target = rowStart + g.columnOffset
                        for c in 0..<runLength { target[c] = source[c].widened }
                    } else if columnStride == 2 {
                        // Even and odd field columns to their two phases, sixteen at a time.
                        let even = rowStart + g.columnOffset % 2 * phaseStride + g.columnOffset / 2
                        let odd = rowStart + (1 - g.columnOffset % 2) * phaseStride + (g.columnOffset + 1) / 2
                        var c = 0
                        while c + 16 <= runLength {
                            let values = In.loadWidened16(source + c)
                            UnsafeMutableRawPointer(even + c / 2).storeBytes(of: values.evenHalf, as: SIMD8<Float>.self)
                            UnsafeMutableRawPointer(odd + c / 2).storeBytes(of: values.oddHalf, as: SIMD8<Float>.self)
                            c += 16
                        }
                        while c < runLength {
                            (c % 2 == 0 ? even : odd)[c / 2] = source[c].widened
                            c += 1
                        }
                    } else {
                        // Phase column by phase column: every columnStride-th field column, to consecutive columns.
                        for phase in 0..<columnStride {
                            let target = rowStart + phase * phaseStride
                            var c = ((phase - g.columnOffset) % columnStride + columnStride) % columnStride
                            var column = (g.columnOffset + c) / columnStride
                            while c < runLength {
                                target[column] = source[c].widened
                                c += columnStride
                                column += 1
                            }
                        }
                    }
                }
            }
        }
    }

    /// Where tap (`kh`, `kw`) of input channel `channel` (of the whole part) is, from an output's position.
    func offset(channel: Int, kh: Int, kw: Int) -> Int {
        let g = geometry, row = kh * g.dilation[0], column = kw * g.dilation[1]
        return (row % g.stride[0] * g.stride[1] + column % g.stride[1]) * phaseStride + channel * channelStride
            + row / g.stride[0] * columns + column / g.stride[1]
    }

    /// The position of output (`image`, `row`, `column`).
    func position(image: Int, row: Int, column: Int) -> Int { image * plane + row * columns + column }

    func deallocate() { values.deallocate() }
}
