import _TesseraShim

/// The output channels × output positions whose sums ``ConvDenseKernel``'s multiply loops keep in vector
/// registers: as many as the host's register file holds with the window vector and a broadcast weight beside
/// them, since a sum spilled to memory costs a load and a store per multiply-add. Every block adds the same
/// products in the same order into each output, so the outputs do not depend on the block.
public enum ConvRegisterBlock: CaseIterable, Sendable, CustomStringConvertible {
    /// Eight channels × a whole 32-position panel: sixteen `SIMD16<Float>` sums in 32 registers of 512 bits (AVX-512).
    case wide
    /// Six channels × sixteen positions (half a panel) at a time: six `SIMD16<Float>` sums in twelve of the sixteen
    /// 256-bit registers of AVX2 (24 of NEON's 32 of 128 bits).
    case compact

    /// The block for this host: the kernels are built for the host CPU (`-target-cpu native`), whose vector
    /// registers are those the CPU reports.
    public static let host: ConvRegisterBlock = tessera_has_avx512() != 0 ? .wide : .compact

    /// The block's shape and the registers it is for, as benchmarks print it.
    public var description: String {
        self == .wide ? "8 channels × 32 positions (AVX-512)" : "6 channels × 16 positions (no AVX-512)"
    }

    /// Output channels per block.
    var channels: Int { self == .wide ? 8 : 6 }
}

/// The rows of a row loop as a type, so that each count gets a loop of its own with just its sums in registers.
protocol ConvBlockRows {
    /// Rows computed (3, 6 or 8).
    static var count: Int { get }
}

/// The wide block's eight rows.
enum EightRows: ConvBlockRows { static var count: Int { 8 } }
/// The compact block's six rows.
enum SixRows: ConvBlockRows { static var count: Int { 6 } }
/// The compact block's loop for a last block of up to three rows.
enum ThreeRows: ConvBlockRows { static var count: Int { 3 } }

extension ConvDenseKernel {
    /// The products of a panel's `lanes` (8, 16 or 32) first positions for `rows` (1 … 6) output channels with the
    /// ``ConvRegisterBlock/compact`` block: a half panel of sixteen positions at a time, over all of `count` before the
    /// next; a last block of three rows or fewer in three rows' registers.
    static func multiplyCompact(lanes: Int, weights: UnsafePointer<Float>, depth: Int, rows: Int, count: Int,
                                source: UnsafePointer<Float>, offsets: UnsafePointer<Int>, sums: UnsafeMutableRawPointer,
                                sumStride: Int, accumulate: Bool) {
        @inline(__always) func half<V: SIMD>(_: V.Type, _ start: Int) where V.Scalar == Float {
            let (source, sums) = (source + start, sums + 4 * start)
            @inline(__always) func loop<Rows: ConvBlockRows>(_: Rows.Type) {
                multiplyRows(V.self, Rows.self, weights: weights, depth: depth, rows: rows, count: count, source: source, offsets: offsets,
                             sums: sums, sumStride: sumStride, accumulate: accumulate)
            }
            if rows > 3 { loop(SixRows.self) } else { loop(ThreeRows.self) }
        }
        if lanes == 8 { return half(SIMD8<Float>.self, 0) }
        half(SIMD16<Float>.self, 0)
        if lanes == panelWidth { half(SIMD16<Float>.self, 16) }
    }

    /// `Σ_{k < count} weights[row · depth + k] · source[offsets[k] + lane]` for rows 0 ..< `rows` and the lanes of one `V`,
    /// added to the sums at `sums + row · sumStride` floats with `accumulate` and stored there (unaligned).
    /// `Rows.count` rows (at least `rows`) are computed: those from `rows` on repeat the last one's weights and are not
    /// stored. Each sum is a named register (an array of sums is kept in memory).
    @inline(never)
    static func multiplyRows<V: SIMD, Rows: ConvBlockRows>(_: V.Type, _: Rows.Type, weights: UnsafePointer<Float>, depth: Int, rows: Int,
                                                           count: Int, source: UnsafePointer<Float>, offsets: UnsafePointer<Int>,
                                                           sums: UnsafeMutableRawPointer, sumStride: Int, accumulate: Bool)
    where V.Scalar == Float {
        let blockRows = Rows.count, rowBytes = 4 * sumStride
        @inline(__always) func initial(_ row: Int) -> V {
            accumulate && row < rows ? sums.loadUnaligned(fromByteOffset: row * rowBytes, as: V.self) : V()
        }
        var a0 = initial(0), a1 = initial(1), a2 = initial(2), a3 = initial(3)
        var a4 = initial(4), a5 = initial(5), a6 = initial(6), a7 = initial(7)
        @inline(__always) func row(_ i: Int) -> UnsafePointer<Float> { weights + min(i, rows - 1) * depth }
        let w0 = weights, w1 = row(1), w2 = row(2), w3 = row(3), w4 = row(4), w5 = row(5), w6 = row(6), w7 = row(7)
        for k in 0..<count {
            let x = UnsafeRawPointer(source + offsets[k]).loadUnaligned(as: V.self)
            a0.addProduct(V(repeating: w0[k]), x)
            a1.addProduct(V(repeating: w1[k]), x)
            a2.addProduct(V(repeating: w2[k]), x)
            if blockRows > 3 {
                a3.addProduct(V(repeating: w3[k]), x)
                a4.addProduct(V(repeating: w4[k]), x)
                a5.addProduct(V(repeating: w5[k]), x)
            }
            if blockRows > 6 {
                a6.addProduct(V(repeating: w6[k]), x)
                a7.addProduct(V(repeating: w7[k]), x)
            }
        }
        @inline(__always) func store(_ row: Int, _ sum: V) { sums.storeBytes(of: sum, toByteOffset: row * rowBytes, as: V.self) }
        store(0, a0)
        if rows > 1 { store(1, a1) }
        if rows > 2 { store(2, a2) }
        if rows > 3 { store(3, a3) }
        if rows > 4 { store(4, a4) }
        if rows > 5 { store(5, a5) }
        if rows > 6 { store(6, a6) }
        if rows > 7 { store(7, a7) }
    }
}
