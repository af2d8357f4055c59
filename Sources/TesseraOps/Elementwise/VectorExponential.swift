extension SIMD16<Float> {
    /// `e^x` in every lane, in vector instructions (the host's `expf` is scalar, and SiLU and
    /// sigmoid, which need it, are the commonest activations of EfficientNet).
    ///
    /// Cody–Waite range reduction `x = n·ln 2 + r` with `ln 2` split into a short high part and a
    /// correction, so that `n·ln 2` is exact, then the minimax polynomial for `e^r` on
    /// `|r| ≤ ln 2 / 2` of the Cephes library's `expf` (S. L. Moshier, *Methods and Programs for
    /// Mathematical Functions*, 1989): within 1 ulp of float32 `e^x` (tested). `x` is first clamped
    /// to [-104, 89], where `e^x` is already below half the smallest subnormal or above the
    /// largest float, and the result is scaled by `2^n` in two halves so that subnormal results
    /// and overflow to `+∞` come out right; NaN stays NaN.
    @inline(__always) func exponential() -> SIMD16<Float> {
        let x = lanewiseMaximum(SIMD16(repeating: -104)).lanewiseMinimum(SIMD16(repeating: 89))
        // Adding 1.5 · 2²³ rounds x · log₂e to the nearest integer n and leaves n in the low
        // mantissa bits: plain vector adds, where `rounded()` and integer conversion of SIMD
        // types compile to one call per lane. Products are added in fused multiply-adds, each
        // `addProduct` on a variable: chains of `addingProduct`, or the last step written as
        // `(r + 1) + p · r²` or `r + (p · r) · r`, were split by the optimiser into 4-lane pieces.
        var shifted = SIMD16<Float>(repeating: 12_582_912)
        shifted.addProduct(x, SIMD16(repeating: 1.442_695_04))
        let n = shifted - 12_582_912
        var r = x
        r.addProduct(n, SIMD16(repeating: -0.693_359_375))
        r.addProduct(n, SIMD16(repeating: 2.121_944_4e-4))
        // Horner's rule: `c + p · r`.
        @inline(__always) func step(_ p: SIMD16<Float>, _ c: Float) -> SIMD16<Float> {
            var next = SIMD16<Float>(repeating: c)
            next.addProduct(p, r)
            return next
        }
        var p = step(step(SIMD16(repeating: 1.987_569_15e-4), 1.398_199_950_7e-3), 8.333_451_907_3e-3)
        p = step(step(step(p, 4.166_579_589_4e-2), 1.666_666_545_9e-1), 5.000_000_120_1e-1)
        // e^r = 1 + (r + p · r²).
        var sum = r
        sum.addProduct(p, r * r)
        p = sum + 1
        let exponent = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- 0x4B40_0000
        let half = exponent &>> 1
        return (p * Self.powerOfTwo(half) * Self.powerOfTwo(exponent &- half)).replacing(with: self, where: self .!= self)
    }

    /// `2^e` in every lane, for `-126 ≤ e ≤ 127`, built from its exponent bits.
    @inline(__always) private static func powerOfTwo(_ e: SIMD16<Int32>) -> SIMD16<Float> {
        unsafeBitCast((e &+ 127) &<< 23, to: SIMD16<Float>.self)
    }
}
