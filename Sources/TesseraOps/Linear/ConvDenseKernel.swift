import TesseraGraph

/// Host kernel of every convolution part (dense, grouped and depthwise): per group, the matrix
/// product `out[o][p] = Σ_k w[o][k] · x[k][p]` over `k = (input channel, tap)`.
///
/// The weights are read in place: their field order `[group][o][c][kh][kw]` already is `[o][k]`
/// (float16 weights are only widened), so nothing is packed or cached between runs (the weights live
/// in tile memory and may be rewritten). The input is rearranged once per run into a ``ConvWindow``,
/// in which the 32 output positions of a panel read 32 consecutive floats for every `k`, at
/// `position + offsets[k]`. A block of output channels × positions accumulates in vector registers over `k`
/// into a staging row per output channel, whose output positions then go to the channel-first output field
/// with the bias. With the ``ConvRegisterBlock/wide`` block, eight channels × 32 positions accumulate in sixteen
/// `SIMD16<Float>` registers (``multiplyFull(weights:depth:rows:count:source:offsets:sums:sumStride:accumulate:)``, also
/// for a last block of five to seven; ``multiplyRows(_:_:weights:depth:rows:count:source:offsets:sums:sumStride:accumulate:)``
/// with one vector of 16 or 8 for a panel with outputs only in its first 16 or 8 positions;
/// ``multiply(weights:depth:rows:count:source:offsets:blockRows:narrow:start:store:)`` with one or four channels for a
/// last block of fewer); with the ``ConvRegisterBlock/compact`` one, six channels × 16 positions
/// (``multiplyCompact(lanes:weights:depth:rows:count:source:offsets:sums:sumStride:accumulate:)``). Panels cover
/// only window rows that hold outputs (``panels(geometry:window:scratch:)``).
enum ConvDenseKernel {
    /// Output positions per panel: two `SIMD16<Float>` per output channel.
    static let panelWidth = 32
    /// Most values of k per pass over the panels: 160 × 32 floats (20 KiB) of window, a block's weights and the tap
    /// offsets stay in a 32 KiB L1 (Zen 3 and Zen 4; 192 measured 2–5 % slower over all layers on Zen 3).
    static let depthChunk = 160

    /// Float32 views of a part's weights `[group][o][k]` and bias (a widened copy of float16 weights, zeros without a
    /// bias), the copies in `scratch`.
    struct Operands {
        let weights: UnsafePointer<Float>
        let bias: UnsafeMutablePointer<Float>

        init<In: ElementLane>(_ fields: VertexFields, channels: Int, hasBias: Bool, _: In.Type, scratch: borrowing KernelScratch) {
            let source = fields.input(1, as: In.self)
            if In.self == Float.self {
                weights = UnsafeRawPointer(source.baseAddress!).assumingMemoryBound(to: Float.self)
            } else {
                let copy = scratch.take(source.count, of: Float.self)
                for i in source.indices { copy[i] = source[i].widened }
                weights = UnsafePointer(copy)
            }
            bias = scratch.take(channels, of: Float.self)
            if hasBias {
                let values = fields.input(2, as: In.self)
                for i in 0..<channels { bias[i] = values[i].widened }
            } else {
                bias.initialize(repeating: 0, count: channels)
            }
        }
    }

    /// Computes the part into output field `outputField` (of `Out`) from input, weights and bias of `In`, its
    /// temporaries in the thread's scratch arena, with the multiply loops of `block`.
    static func run<In: ElementLane, Out: ElementLane>(_ fields: VertexFields, geometry g: ConvVertexGeometry, hasBias: Bool,
                                                       outputField: Int, _: In.Type, _: Out.Type, block: ConvRegisterBlock = .host) {
        withKernelScratch { scratch in
            run(fields, geometry: g, hasBias: hasBias, outputField: outputField, In.self, Out.self, block: block, scratch: scratch)
        }
    }

    private static func run<In: ElementLane, Out: ElementLane>(_ fields: VertexFields, geometry g: ConvVertexGeometry, hasBias: Bool,
                                                               outputField: Int, _: In.Type, _: Out.Type, block: ConvRegisterBlock,
                                                               scratch: KernelScratch) {
        let cg = g.inputChannelsPerGroup, og = g.outputChannelsPerGroup, depth = cg * g.taps
        let channels = g.groups * og, plane = g.outputRows * g.outputColumns
        let output = fields.output(outputField, as: Out.self).baseAddress!, end = output + g.batch * channels * plane
        let operands = Operands(fields, channels: channels, hasBias: hasBias, In.self, scratch: scratch)
        // Float32 weights are read in place from cold tile memory; float16 ones were just widened into scratch.
        if In.self == Float.self { prefetchForReading(operands.weights, operands.weights + g.groups * og * depth) }
        let window = ConvWindow(geometry: g, input: fields.input(0, as: In.self).baseAddress!, scratch: scratch)
        let offsets = window.offsets(geometry: g, channels: cg, scratch: scratch)
        let panels = panels(geometry: g, window: window, scratch: scratch)
        // Staging row of a channel: every panel's 32 positions, and 16 spare for the output's last vector.
        let stagingStride = (panels.last?.first ?? 0) + panelWidth
        let staging = scratch.take(channels * stagingStride + 16, of: Float.self)
        // k in as few chunks as keep a panel's rows in L1 over every block of output channels; later chunks go on
        // from the sums staged so far, so the order of the sums is that of one pass.
        let chunks = convCeilDiv(depth, depthChunk), chunkSize = convCeilDiv(depth, chunks)
        // The output's cache lines are asked for a few before each block's products.
        var outputLines = WritePrefetcher(output, end, steps: g.groups * chunks * panels.count * convCeilDiv(og, block.channels))
        for group in 0..<g.groups {
            let source = UnsafePointer(window.values + group * cg * window.channelStride)
            for chunkStart in stride(from: 0, to: depth, by: chunkSize) {
                let chunk = min(chunkSize, depth - chunkStart)
                for (first, lanes) in panels {
                    var o = 0
                    while o < og {
                        let channel = group * og + o, rows = min(block.channels, og - o)
                        @inline(__always) func staged(_ row: Int) -> UnsafeMutableRawPointer {
                            UnsafeMutableRawPointer(staging + (channel + row) * stagingStride + first)
                        }
                        @inline(__always) func start(_ row: Int) -> (SIMD16<Float>, SIMD16<Float>) {
                            guard chunkStart > 0 && row < rows else { return (.zero, .zero) }
                            let sums = staged(row)
                            return (sums.loadUnaligned(as: SIMD16<Float>.self), sums.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self))
                        }
                        @inline(__always) func store(_ row: Int, _ low: SIMD16<Float>, _ high: SIMD16<Float>) {
                            staged(row).storeBytes(of: low, as: SIMD16<Float>.self)
                            staged(row).storeBytes(of: high, toByteOffset: 64, as: SIMD16<Float>.self)
                        }
                        let weights = operands.weights + channel * depth + chunkStart
                        outputLines.step()
                        if block == .compact {
                            multiplyCompact(lanes: lanes, weights: weights, depth: depth, rows: rows, count: chunk, source: source + first,
                                            offsets: offsets + chunkStart, sums: staged(0), sumStride: stagingStride, accumulate: chunkStart > 0)
                        } else if rows > 4 && lanes == panelWidth {
                            multiplyFull(weights: weights, depth: depth, rows: rows, count: chunk, source: source + first,
                                         offsets: offsets + chunkStart, sums: staged(0), sumStride: stagingStride, accumulate: chunkStart > 0)
                        } else if rows > 4 {
                            @inline(__always) func narrow<V: SIMD>(_: V.Type) where V.Scalar == Float {
                                multiplyRows(V.self, EightRows.self, weights: weights, depth: depth, rows: rows, count: chunk,
                                             source: source + first, offsets: offsets + chunkStart, sums: staged(0), sumStride: stagingStride,
                                             accumulate: chunkStart > 0)
                            }
                            if lanes == 16 { narrow(SIMD16<Float>.self) } else { narrow(SIMD8<Float>.self) }
                        } else {
                            // One copy of the edge blocks, whose loop tests its rows and lanes: six copies inlined with
                            // constants measured slower here (code size), the tests being predictable.
                            func block(_ blockRows: Int, _ narrow: Bool) {
                                multiply(weights: weights, depth: depth, rows: rows, count: chunk, source: source + first,
                                         offsets: offsets + chunkStart, blockRows: blockRows, narrow: narrow, start: start, store: store)
                            }
                            block(rows == 1 ? 1 : 4, lanes < panelWidth)
                        }
                        o += block.channels
                    }
                }
            }
        }
        // Output runs (whole images when output rows are whole window rows, else rows) in address order, sixteen
        // positions at a time: a last vector that runs past its run writes lanes the next runs then overwrite, so only
        // the field's last few positions go one by one.
        let wholeRows = window.columns == g.outputColumns
        let runs = wholeRows ? 1 : g.outputRows, runLength = wholeRows ? plane : g.outputColumns
        // Row starts stepped rather than recomputed, in wrapping arithmetic: a depthwise part writes
        // thousands of short rows, where the index products and their overflow checks would cost
        // as much as the stores.
        let sourceRowStride = wholeRows ? 0 : window.columns, targetRowStride = wholeRows ? 0 : g.outputColumns
        // A float32 run of 8 or fewer (a 7 × 7 plane, or a 7-column row) goes as one vector of 8: one of 16 would split
        // across cache lines and write each position twice over.
        let eightWide = Out.self == Float.self && runLength <= 8
        for n in 0..<g.batch {
            let imageStart = window.position(image: n, row: 0, column: 0)
            for channel in 0..<channels {
                let b = operands.bias[channel], biasVector = SIMD16<Float>(repeating: b)
                var source = staging + (channel &* stagingStride &+ imageStart)
                var target = output + (n &* channels &+ channel) &* plane
                for _ in 0..<runs {
                    var ow = 0
                    if eightWide && target + 8 <= end {
                        let sums = UnsafeRawPointer(source).loadUnaligned(as: SIMD8<Float>.self) + SIMD8(repeating: b)
                        UnsafeMutableRawPointer(target).storeBytes(of: sums, as: SIMD8<Float>.self)
                        ow = runLength
                    }
                    while ow < runLength && target + (ow &+ 16) <= end {
                        Out.storeRounded16(Float.loadWidened16(source + ow) + biasVector, target + ow)
                        ow &+= 16
                    }
                    while ow < runLength {
                        target[ow] = Out(rounding: source[ow] + b)
                        ow &+= 1
                    }
                    source += sourceRowStride
                    target += targetRowStride
                }
            }
        }
    }

    /// The panels that cover every output position of the part, in order: a panel starts at the first output
    /// position the previous panels leave out, so gaps of unused window rows (between images, below short parts) are
    /// skipped rather than computed. `lanes` (8, 16 or 32) is how many of a panel's first positions hold all its outputs.
    /// The panels are disjoint runs of 32 positions from before the span's end, so at most `⌈span / 32⌉ + 1` of them
    /// (in `scratch`).
    static func panels(geometry g: ConvVertexGeometry, window: ConvWindow, scratch: KernelScratch) -> UnsafeMutableBufferPointer<(first: Int, lanes: Int)> {
        let rows = g.batch * g.outputRows
        @inline(__always) func rowStart(_ row: Int) -> Int {
            window.position(image: row / g.outputRows, row: row % g.outputRows, column: 0)
        }
        let capacity = convCeilDiv(window.span, panelWidth) + 1
        let panels = scratch.take(capacity, of: (first: Int, lanes: Int).self)
        var count = 0, covered = 0
        // The first rows that end after a panel's first 8 and first 16 positions (both only move on).
        var next8 = 0, next16 = 0
        for row in 0..<rows {
            var first = max(rowStart(row), covered)
            while first < rowStart(row) + g.outputColumns {
                // A panel holds its outputs in its first `lanes` positions when the first row ending after them
                // starts after the panel's end.
                while next8 < rows && rowStart(next8) + g.outputColumns <= first + 8 { next8 += 1 }
                while next16 < rows && rowStart(next16) + g.outputColumns <= first + 16 { next16 += 1 }
                @inline(__always) func holdsNoMore(after next: Int) -> Bool { next == rows || rowStart(next) >= first + panelWidth }
                precondition(count < capacity, "panel \(count) of at most \(capacity)")
                (panels + count).initialize(to: (first, holdsNoMore(after: next8) ? 8 : holdsNoMore(after: next16) ? 16 : panelWidth))
                count += 1
                first += panelWidth
            }
            covered = max(covered, first)
        }
        return UnsafeMutableBufferPointer(start: panels, count: count)
    }

    /// ``multiply(weights:depth:rows:count:source:offsets:blockRows:narrow:start:store:)`` of eight rows and 32 lanes,
    /// with nothing tested in its loop: rows from `rows` (1 … 8) on repeat the last one's weights and are not stored.
    /// Row `r`'s sums go to `sums + r · sumStride` floats (32 floats, unaligned), on from those there with `accumulate`.
    @inline(never)
    static func multiplyFull(weights: UnsafePointer<Float>, depth: Int, rows: Int, count: Int, source: UnsafePointer<Float>,
                             offsets: UnsafePointer<Int>, sums: UnsafeMutableRawPointer, sumStride: Int, accumulate: Bool) {
        let rowBytes = 4 * sumStride
        @inline(__always) func initial(_ row: Int, _ half: Int) -> SIMD16<Float> {
            accumulate && row < rows ? sums.loadUnaligned(fromByteOffset: row * rowBytes + 64 * half, as: SIMD16<Float>.self) : .zero
        }
        var a0 = initial(0, 0), b0 = initial(0, 1), a1 = initial(1, 0), b1 = initial(1, 1)
        var a2 = initial(2, 0), b2 = initial(2, 1), a3 = initial(3, 0), b3 = initial(3, 1)
        var a4 = initial(4, 0), b4 = initial(4, 1), a5 = initial(5, 0), b5 = initial(5, 1)
        var a6 = initial(6, 0), b6 = initial(6, 1), a7 = initial(7, 0), b7 = initial(7, 1)
        @inline(__always) func row(_ i: Int) -> UnsafePointer<Float> { weights + min(i, rows - 1) * depth }
        let w0 = weights, w1 = row(1), w2 = row(2), w3 = row(3), w4 = row(4), w5 = row(5), w6 = row(6), w7 = row(7)
        for k in 0..<count {
            let x = UnsafeRawPointer(source + offsets[k])
            let low = x.loadUnaligned(as: SIMD16<Float>.self), high = x.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
            // Each sum a named register, as in `multiply`.
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
        @inline(__always) func store(_ row: Int, _ low: SIMD16<Float>, _ high: SIMD16<Float>) {
            sums.storeBytes(of: low, toByteOffset: row * rowBytes, as: SIMD16<Float>.self)
            sums.storeBytes(of: high, toByteOffset: row * rowBytes + 64, as: SIMD16<Float>.self)
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

    /// `start(row) + Σ_{k < count} weights[row · depth + k] · source[offsets[k] + lane]` for `rows` (1 … 8) rows
    /// and lanes 0 ..< 32, handed to `store` as (row, lanes 0 ..< 16, lanes 16 ..< 32) for each row below `rows`.
    /// Only rows 0 ..< `blockRows` (1, 4 or 8, at least `rows`) are computed; those from `rows` on repeat the last one's
    /// weights and are not stored. With `narrow` only lanes 0 ..< 16 are (the others are zero).
    @inline(__always)
    static func multiply(weights: UnsafePointer<Float>, depth: Int, rows: Int, count: Int, source: UnsafePointer<Float>,
                         offsets: UnsafePointer<Int>, blockRows: Int, narrow: Bool, start: (Int) -> (SIMD16<Float>, SIMD16<Float>),
                         store: (Int, SIMD16<Float>, SIMD16<Float>) -> Void) {
        @inline(__always) func row(_ i: Int) -> UnsafePointer<Float> { weights + min(i, rows - 1) * depth }
        let w0 = row(0), w1 = row(1), w2 = row(2), w3 = row(3), w4 = row(4), w5 = row(5), w6 = row(6), w7 = row(7)
        @inline(__always) func initial(_ row: Int) -> (SIMD16<Float>, SIMD16<Float>) { row < blockRows ? start(row) : (.zero, .zero) }
        var (a0, b0) = initial(0), (a1, b1) = initial(1), (a2, b2) = initial(2), (a3, b3) = initial(3)
        var (a4, b4) = initial(4), (a5, b5) = initial(5), (a6, b6) = initial(6), (a7, b7) = initial(7)
        for k in 0..<count {
            let x = UnsafeRawPointer(source + offsets[k])
            let low = x.loadUnaligned(as: SIMD16<Float>.self)
            let high = narrow ? .zero : x.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
            // Rows unrolled by hand, each sum a named register (an array of sums is kept in memory): rows 4 ..< 8
            // repeat rows 0 ..< 4 line for line on purpose.
            var w = SIMD16<Float>(repeating: w0[k])
            a0.addProduct(w, low); if !narrow { b0.addProduct(w, high) }
            guard blockRows > 1 else { continue }
            w = SIMD16(repeating: w1[k])
            a1.addProduct(w, low); if !narrow { b1.addProduct(w, high) }
            w = SIMD16(repeating: w2[k])
            a2.addProduct(w, low); if !narrow { b2.addProduct(w, high) }
            w = SIMD16(repeating: w3[k])
            a3.addProduct(w, low); if !narrow { b3.addProduct(w, high) }
            if blockRows > 4 {
                w = SIMD16(repeating: w4[k])
                a4.addProduct(w, low); if !narrow { b4.addProduct(w, high) }
                w = SIMD16(repeating: w5[k])
                a5.addProduct(w, low); if !narrow { b5.addProduct(w, high) }
                w = SIMD16(repeating: w6[k])
                a6.addProduct(w, low); if !narrow { b6.addProduct(w, high) }
                w = SIMD16(repeating: w7[k])
                a7.addProduct(w, low); if !narrow { b7.addProduct(w, high) }
            }
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
