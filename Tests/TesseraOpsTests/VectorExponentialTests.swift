import Foundation
import Testing
@testable import TesseraOps

@Suite struct VectorExponentialTests {
    /// Ulps between `value` and the float64 exponential of `x` rounded to float32; infinity when one of
    /// them is NaN or infinite and the other is not (an overflow to `+∞` is exact or wrong, and a NaN
    /// error would never count as the worst).
    private func ulpError(_ value: Float, exactOf x: Float) -> Float {
        let exact = Float(Foundation.exp(Double(x)))
        if exact == value { return 0 }
        guard value.isFinite && exact.isFinite else { return .infinity }
        return abs(value - exact) / max(exact.ulp, Float.leastNonzeroMagnitude)
    }

    @Test func exponentialIsWithinOneUlpOverTheWholeFloat32Range() {
        var worst: Float = 0, worstAt: Float = 0
        // Every 1/1024 from -104 to 89: subnormal results, the whole normal range, overflow.
        for start in stride(from: -104 * 1024, to: 89 * 1024, by: 16) {
            let x = SIMD16<Float>((0..<16).map { Float(start + $0) / 1024 })
            let y = x.exponential()
            for lane in 0..<16 where ulpError(y[lane], exactOf: x[lane]) > worst {
                worst = ulpError(y[lane], exactOf: x[lane])
                worstAt = x[lane]
            }
        }
        #expect(worst <= 1, "worst error \(worst) ulp at x = \(worstAt)")
    }

    @Test func exponentialOfSpecialValues() {
        let x = SIMD16<Float>([0, -0.0, 1, -1, .infinity, -.infinity, .nan, 88.7, 88.8, -103.9, -104.1, -200, 1e-8, -1e-8, 200, 0.5])
        let y = x.exponential()
        #expect(y[0] == 1 && y[1] == 1)
        #expect(y[2] == Float(M_E) && y[3] == Float(1 / M_E))
        #expect(y[4] == .infinity && y[5] == 0 && y[6].isNaN)
        #expect(y[7].isFinite && y[8] == .infinity)
        #expect(y[9] > 0 && y[10] == 0 && y[11] == 0)
        #expect(y[12] == 1 && y[13] == 1 && y[14] == .infinity)
        #expect(ulpError(y[15], exactOf: 0.5) <= 1)
    }
}
