import TesseraGraph

/// Gathers a dense convolution part's inputs into ``ConvDenseKernel`` panels: `panel[k · 32 + lane]`
/// is the input, widened to Float, that output position `first + lane` multiplies with weight `k`
/// (`k = input channel · taps + tap`), zero where the padded window is padding (im2col, 32 positions at a time).
///
/// Positions are gathered as runs along output rows, each a strided run of one input row, so the
/// cost is a copy of the part's (padded, tap-expanded) input rather than per-element index arithmetic.
struct ConvPanelGather<In: ElementLane> {
    let geometry: ConvVertexGeometry
    let input: UnsafePointer<In>
    /// Elements of one channel of one image in the field.
    let fieldPlane: Int
    /// Per kernel column, the output columns whose input column lies in the field.
    let validColumns: [Range<Int>]

    init(geometry g: ConvVertexGeometry, input: UnsafePointer<In>) {
        geometry = g
        self.input = input
        fieldPlane = g.fieldRows * g.fieldColumns
        validColumns = (0..<g.kernel[1]).map { kw in
            let shift = kw * g.dilation[1] - g.columnOffset
            var low = 0
            while low < g.outputColumns && low * g.stride[1] + shift < 0 { low += 1 }
            var high = low
            while high < g.outputColumns && high * g.stride[1] + shift < g.usedColumns { high += 1 }
            return low..<high
        }
    }

    /// Splits positions `first ..< first + width` into segments (at most `width`); returns their number.
    func segments(first: Int, width: Int, into segments: UnsafeMutablePointer<ConvDenseKernel.Segment>) -> Int {
        let g = geometry, plane = g.outputRows * g.outputColumns, end = first + width
        var count = 0, p = first
        while p < end {
            let image = p / plane, q = p % plane, row = q / g.outputColumns, column = q % g.outputColumns
            let length = min(end - p, g.outputColumns - column)
            segments[count] = ConvDenseKernel.Segment(lane: p - first, count: length, image: image, row: row, column: column)
            count += 1
            p += length
        }
        return count
    }

    /// Writes every `k` row of the panel of `group` for the positions of `segments[0 ..< count]`.
    func fill(_ panel: UnsafeMutablePointer<Float>, group: Int, segments: UnsafePointer<ConvDenseKernel.Segment>, count: Int) {
        let g = geometry, cg = g.inputChannelsPerGroup, imageStride = g.groups * cg * fieldPlane
        let rowStride = g.stride[0], columnStride = g.stride[1], rowDilation = g.dilation[0], columnDilation = g.dilation[1]
        var target = panel
        for c in 0..<cg {
            let channel = input + (group * cg + c) * fieldPlane
            for kh in 0..<g.kernel[0] {
                for kw in 0..<g.kernel[1] {
                    let valid = validColumns[kw], shift = kw * columnDilation - g.columnOffset
                    for s in 0..<count {
                        let segment = segments[s], lanes = target + segment.lane
                        let image = channel + segment.image * imageStride
                        let fieldRow = segment.row * rowStride + kh * rowDilation - g.rowOffset
                        guard fieldRow >= 0 && fieldRow < g.usedRows else {
                            lanes.update(repeating: 0, count: segment.count)
                            continue
                        }
                        let columns = segment.column..<(segment.column + segment.count)
                        let copied = valid.clamped(to: columns)
                        lanes.update(repeating: 0, count: copied.lowerBound - columns.lowerBound)
                        let source = image + fieldRow * g.fieldColumns + shift
                        let out = lanes - segment.column
                        if columnStride == 1 {
                            for column in copied { out[column] = source[column].widened }
                        } else {
                            for column in copied { out[column] = source[column * columnStride].widened }
                        }
                        (out + copied.upperBound).update(repeating: 0, count: columns.upperBound - copied.upperBound)
                    }
                    target += ConvDenseKernel.panelWidth
                }
            }
        }
    }
}
