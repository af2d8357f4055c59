/// A dense convolution part's input as ``ConvDenseKernel`` reads it: the zero-padded window, widened
/// to Float and split into its `stride[0] × stride[1]` phases (window row `r` is row `r / stride[0]` of
/// phase row `r % stride[0]`, and so for columns), laid out `[phase][channel][n][rows][columns]`. Only the
/// phases some tap reads are kept (a 1 × 1 kernel of stride 2 reads one of four), in phase order.
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
    /// Index among the kept phase rows of every phase row (of `stride[0]`), -1 for one no tap reads.
    private let rowSlots: UnsafeMutablePointer<Int>
    /// Index among the kept phase columns of every phase column (of `stride[1]`), -1 for one no tap reads.
    private let columnSlots: UnsafeMutablePointer<Int>
    /// Phase columns kept.
    private let keptColumns: Int
    /// The geometry's strides, dilations and first window column of the field: what the window reads of it
    /// after it is filled (a copy of the geometry would retain its arrays, once a vertex).
    private let strides: (rows: Int, columns: Int), dilation: (rows: Int, columns: Int), columnOffset: Int

    /// The window of `geometry` from its input field `input` (`[n][channel][fieldRows][fieldColumns]`), its values in
    /// `scratch`.
    init<In: ElementLane>(geometry g: borrowing ConvVertexGeometry, input: UnsafePointer<In>, scratch: borrowing KernelScratch) {
        let pixel = g.groups * g.inputChannelsPerGroup, rowStride = g.stride[0], columnStride = g.stride[1]
        strides = (rowStride, columnStride)
        dilation = (g.dilation[0], g.dilation[1])
        columnOffset = g.columnOffset
        let rows = convCeilDiv(g.windowRows, rowStride)
        columns = convCeilDiv(g.windowColumns, columnStride)
        plane = rows * columns
        channelStride = g.batch * plane
        phaseStride = pixel * channelStride
        span = (g.batch - 1) * plane + (g.outputRows - 1) * columns + g.outputColumns
        rowSlots = scratch.take(rowStride, of: Int.self)
        columnSlots = scratch.take(columnStride, of: Int.self)
        let keptRows = Self.slots(kernel: g.kernel[0], dilation: g.dilation[0], stride: rowStride, into: rowSlots)
        keptColumns = Self.slots(kernel: g.kernel[1], dilation: g.dilation[1], stride: columnStride, into: columnSlots)
        let phases = keptRows * keptColumns, spare = 2 * ConvDenseKernel.panelWidth
        values = scratch.take(phases * phaseStride + spare, of: Float.self)
        if rowStride * columnStride == 1 && g.usedRows == g.windowRows && g.usedColumns == g.windowColumns {
            (values + phaseStride).initialize(repeating: 0, count: spare)
        } else {
            values.initialize(repeating: 0, count: phases * phaseStride + spare)
        }
        fill(from: input, geometry: g, scratch: scratch)
    }

    /// Writes to `slots` the index among the phases some tap of `kernel` taps `dilation` apart reads of every phase of
    /// `stride`, -1 for the others; returns how many are read.
    private static func slots(kernel: Int, dilation: Int, stride: Int, into slots: UnsafeMutablePointer<Int>) -> Int {
        slots.initialize(repeating: -1, count: stride)
        for tap in 0..<kernel { slots[tap * dilation % stride] = 0 }
        var next = 0
        for phase in 0..<stride where slots[phase] == 0 {
            slots[phase] = next
            next += 1
        }
        return next
    }

    /// Copies the field's used rows and columns into the kept phases, widened.
    private func fill<In: ElementLane>(from input: UnsafePointer<In>, geometry g: borrowing ConvVertexGeometry, scratch: KernelScratch) {
        let pixel = g.groups * g.inputChannelsPerGroup, rowStride = strides.rows, columnStride = strides.columns
        // Field rows that are whole window rows of a unit-stride window are copied as one run.
        let fullRows = rowStride * columnStride == 1 && g.usedColumns == g.windowColumns && g.fieldColumns == g.windowColumns
        let runs = fullRows ? 1 : g.usedRows, runLength = fullRows ? g.usedRows * columns : g.usedColumns
        // One image whose window is its whole field (a 1 × 1 convolution's, without padding) holds
        // the channels one after another, as the field does: one copy for all of them.
        if fullRows && g.batch == 1 && g.rowOffset == 0 && g.columnOffset == 0 && runLength == plane && g.fieldRows * g.fieldColumns == plane {
            return Self.widen(input, to: values, count: pixel * plane)
        }
        // Where each run's window row starts in its image of a channel (of the first kept phase), -1 for a row no tap reads.
        let rowStarts = scratch.take(runs, of: Int.self)
        for r in 0..<runs {
            let row = g.rowOffset + r, slot = rowSlots[row % rowStride]
            rowStarts[r] = slot < 0 ? -1 : slot * keptColumns * phaseStride + row / rowStride * columns + (columnStride == 1 ? g.columnOffset : 0)
        }
        // In wrapping arithmetic, sources stepped: a depthwise part copies thousands of short rows.
        let fieldColumns = g.fieldColumns, fieldPlane = g.fieldRows &* g.fieldColumns
        if columnStride == 1 {
            // Every image and channel copies the same runs: for each image and run, one loop over the channels.
            for n in 0..<g.batch {
                let source = input + n &* pixel &* fieldPlane, image = values + n &* plane
                for r in 0..<runs where rowStarts[r] >= 0 {
                    Self.widen(source + r &* fieldColumns, step: fieldPlane, to: image + rowStarts[r], step: channelStride,
                               runs: pixel, count: runLength)
                }
            }
            return
        }
        let fieldEnd = input + g.batch * pixel * fieldPlane, pairs = columnStride == 2 ? ColumnPairs(window: self, count: runLength) : nil
        for n in 0..<g.batch {
            for channel in 0..<pixel {
                let image = values + (channel &* channelStride &+ n &* plane), rows = input + (n &* pixel &+ channel) &* fieldPlane
                var source = rows
                for r in 0..<runs {
                    defer { source += fieldColumns }
                    guard rowStarts[r] >= 0 else { continue }
                    let rowStart = image + rowStarts[r]
                    if let pairs {
                        Self.splitPairs(source, pairs, readableEnd: fieldEnd, to: rowStart)
                    } else {
                        splitColumns(source, count: runLength, to: rowStart)
                    }
                }
            }
        }
    }

    /// `runs` runs of `count` elements, `sourceStep` apart from `source`, to runs `targetStep` apart from `target`, widened.
    /// A float32 run of 32 or more is copied as bytes; a shorter one of 4 or more (a channel's 7 × 7 plane or 14-column row,
    /// thousands of them a part, each costlier by the element than a call) as two vectors of the widest width it holds,
    /// the second ending at its end, so that nothing outside the run is read or written: the width is chosen once for all
    /// the runs.
    @inline(__always)
    private static func widen<In: ElementLane>(_ source: UnsafePointer<In>, step sourceStep: Int = 0, to target: UnsafeMutablePointer<Float>,
                                               step targetStep: Int = 0, runs: Int = 1, count: Int) {
        guard In.self == Float.self, count >= 4 else {
            for run in 0..<runs {
                let from = source + run &* sourceStep, to = target + run &* targetStep
                for c in 0..<count { to[c] = from[c].widened }
            }
            return
        }
        let last = 4 * count, sourceBytes = 4 * sourceStep, targetBytes = 4 * targetStep
        @inline(__always) func copyPairs<Vector: SIMD>(_: Vector.Type) where Vector.Scalar == Float {
            let second = last - 4 * Vector.scalarCount
            var from = UnsafeRawPointer(source), to = UnsafeMutableRawPointer(target)
            for _ in 0..<runs {
                let low = from.loadUnaligned(as: Vector.self), high = from.loadUnaligned(fromByteOffset: second, as: Vector.self)
                to.storeBytes(of: low, as: Vector.self)
                to.storeBytes(of: high, toByteOffset: second, as: Vector.self)
                from += sourceBytes
                to += targetBytes
            }
        }
        switch count {
        case 32...:
            for run in 0..<runs {
                UnsafeMutableRawPointer(target + run &* targetStep).copyMemory(from: source + run &* sourceStep, byteCount: last)
            }
        case 16...: copyPairs(SIMD16<Float>.self)
        case 8...: copyPairs(SIMD8<Float>.self)
        default: copyPairs(SIMD4<Float>.self)
        }
    }

    /// Where the field columns of a window row of column stride 2 go: field column `c` goes to
    /// `rowStart + (c % 2 == 0 ? even : odd) + c / 2`, where `rowStart` is the row's start in the first kept phase.
    /// A run's last block of fewer than sixteen columns keeps only the lanes of its masks.
    private struct ColumnPairs {
        /// Offsets of the even and odd field columns' phase rows from a row's start (meaningful only where kept).
        let even: Int, odd: Int
        /// Whether some tap reads the even (odd) field columns' phase.
        let keepsEven: Bool, keepsOdd: Bool
        /// Columns of the run; of its last block, the even and odd lanes in the run.
        let count: Int, evenTail: SIMDMask<SIMD8<Int32>>, oddTail: SIMDMask<SIMD8<Int32>>

        init(window: ConvWindow, count: Int) {
            let offset = window.columnOffset
            // Field columns c with c % 2 == 0 are window columns of phase `offset % 2`, from column `offset / 2`.
            let evenSlot = window.columnSlots[offset % 2], oddSlot = window.columnSlots[1 - offset % 2]
            keepsEven = evenSlot >= 0
            keepsOdd = oddSlot >= 0
            even = max(evenSlot, 0) * window.phaseStride + offset / 2
            odd = max(oddSlot, 0) * window.phaseStride + (offset + 1) / 2
            self.count = count
            let tail = count % 16, lanes = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7)
            evenTail = lanes .< SIMD8(repeating: Int32((tail + 1) / 2))
            oddTail = lanes .< SIMD8(repeating: Int32(tail / 2))
        }
    }

    /// The field columns of a window row of column stride 2 from `source` to its kept phase columns from `rowStart`,
    /// sixteen at a time. A last block of fewer (all of a 7 × 7 output's 15-column rows) is read as sixteen when they lie
    /// before `readableEnd`, and its lanes are merged into the phase rows, so that nothing outside the run is written;
    /// only the field's last few columns go one by one.
    @inline(__always)
    private static func splitPairs<In: ElementLane>(_ source: UnsafePointer<In>, _ pairs: ColumnPairs, readableEnd: UnsafePointer<In>,
                                                    to rowStart: UnsafeMutablePointer<Float>) {
        let evenColumns = rowStart + pairs.even, oddColumns = rowStart + pairs.odd
        let even = UnsafeMutableRawPointer(evenColumns), odd = UnsafeMutableRawPointer(oddColumns)
        let count = pairs.count, whole = count & ~15
        var c = 0
        while c < whole {
            let values = In.loadWidened16(source + c)
            if pairs.keepsEven { even.storeBytes(of: values.evenHalf, toByteOffset: 2 * c, as: SIMD8<Float>.self) }
            if pairs.keepsOdd { odd.storeBytes(of: values.oddHalf, toByteOffset: 2 * c, as: SIMD8<Float>.self) }
            c &+= 16
        }
        guard c < count else { return }
        if source + c + 16 <= readableEnd {
            @inline(__always) func merge(_ values: SIMD8<Float>, into target: UnsafeMutableRawPointer, _ lanes: SIMDMask<SIMD8<Int32>>) {
                target.storeBytes(of: target.loadUnaligned(as: SIMD8<Float>.self).replacing(with: values, where: lanes), as: SIMD8<Float>.self)
            }
            let values = In.loadWidened16(source + c)
            if pairs.keepsEven { merge(values.evenHalf, into: even + 2 * c, pairs.evenTail) }
            if pairs.keepsOdd { merge(values.oddHalf, into: odd + 2 * c, pairs.oddTail) }
            return
        }
        if pairs.keepsEven {
            for column in stride(from: c, to: count, by: 2) { evenColumns[column / 2] = source[column].widened }
        }
        if pairs.keepsOdd {
            for column in stride(from: c + 1, to: count, by: 2) { oddColumns[column / 2] = source[column].widened }
        }
    }

    /// The `count` field columns from `source` of a window row to its kept phase columns from `rowStart`, phase
    /// column by phase column: every `stride[1]`-th field column, to consecutive columns.
    private func splitColumns<In: ElementLane>(_ source: UnsafePointer<In>, count: Int, to rowStart: UnsafeMutablePointer<Float>) {
        let columnStride = strides.columns, offset = columnOffset
        for phase in 0..<columnStride where columnSlots[phase] >= 0 {
            let target = rowStart + columnSlots[phase] * phaseStride
            var c = ((phase - offset) % columnStride + columnStride) % columnStride
            var column = (offset + c) / columnStride
            while c < count {
                target[column] = source[c].widened
                c += columnStride
                column += 1
            }
        }
    }

    /// Where tap (`kh`, `kw`) of input channel `channel` (of the whole part) is, from an output's position.
    func offset(channel: Int, kh: Int, kw: Int) -> Int {
        let row = kh * dilation.rows, column = kw * dilation.columns
        let phase = rowSlots[row % strides.rows] * keptColumns + columnSlots[column % strides.columns]
        return phase * phaseStride + channel * channelStride
            + row / strides.rows * columns + column / strides.columns
    }

    /// Window offset of every k = (input channel, tap) of a group's first `channels` channels, from an output's
    /// position in its first channel: the taps' offsets in channel 0, then a channel stride on for each channel
    /// (`channels · taps` of them, in `scratch`).
    func offsets(geometry g: borrowing ConvVertexGeometry, channels: Int, scratch: KernelScratch) -> UnsafeMutablePointer<Int> {
        let taps = g.taps, kernelColumns = g.kernel[1], depth = channels * taps
        let offsets = scratch.take(depth, of: Int.self)
        for kh in 0..<g.kernel[0] {
            for kw in 0..<kernelColumns { offsets[kh * kernelColumns + kw] = offset(channel: 0, kh: kh, kw: kw) }
        }
        // Each channel's from the first channel's, not from the channel before: no chain through memory (and a 1 × 1
        // kernel's in one loop the compiler vectorises).
        if taps == 1 {
            let first = offsets[0], stride = channelStride
            for channel in 1..<max(channels, 1) { offsets[channel] = first &+ channel &* stride }
            return offsets
        }
        for channel in 1..<max(channels, 1) {
            let row = offsets + channel &* taps, step = channel &* channelStride
            for t in 0..<taps { row[t] = offsets[t] &+ step }
        }
        return offsets
    }

    /// The position of output (`image`, `row`, `column`).
    func position(image: Int, row: Int, column: Int) -> Int { image * plane + row * columns + column }

}
