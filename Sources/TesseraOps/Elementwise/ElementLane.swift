import TesseraGraph

/// A floating-point element type codelets compute on in float32 vectors of 16 lanes: float32 as
/// is, float16 widened on load and rounded to nearest even on store (the IPU's convention).
protocol ElementLane: DeviceScalar {
    /// Sixteen elements from `pointer`, widened to float32.
    static func loadWidened16(_ pointer: UnsafePointer<Self>) -> SIMD16<Float>
    /// Stores sixteen float32 values at `pointer`, rounded to this type.
    static func storeRounded16(_ values: SIMD16<Float>, _ pointer: UnsafeMutablePointer<Self>)
    /// The element widened to float32.
    var widened: Float { get }
    /// `value` rounded to this type.
    init(rounding value: Float)
}

extension Float: ElementLane {
    @inline(__always) static func loadWidened16(_ pointer: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(pointer).loadUnaligned(as: SIMD16<Float>.self)
    }
    @inline(__always) static func storeRounded16(_ values: SIMD16<Float>, _ pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: values, as: SIMD16<Float>.self)
    }
    @inline(__always) var widened: Float { self }
    @inline(__always) init(rounding value: Float) { self = value }
}

extension Float16: ElementLane {
    @inline(__always) static func loadWidened16(_ pointer: UnsafePointer<Float16>) -> SIMD16<Float> {
        SIMD16<Float>(UnsafeRawPointer(pointer).loadUnaligned(as: SIMD16<Float16>.self))
    }
    @inline(__always) static func storeRounded16(_ values: SIMD16<Float>, _ pointer: UnsafeMutablePointer<Float16>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: SIMD16<Float16>(values), as: SIMD16<Float16>.self)
    }
    @inline(__always) var widened: Float { Float(self) }
    @inline(__always) init(rounding value: Float) { self = Float16(value) }
}

extension SIMD16<Float> {
    /// Applies `function` to every lane (for functions the host has no vector form of).
    @inline(__always) func mapEachLane(_ function: (Float) -> Float) -> SIMD16<Float> {
        var result = self
        for lane in 0..<16 { result[lane] = function(self[lane]) }
        return result
    }
}

extension SIMD16<Float> {
    // The standard library's generic `pointwiseMin` and `pointwiseMax` follow IEEE minNum and
    // maxNum lane by lane when the optimiser does not inline them into a large codelet; these
    // are one comparison and one blend.

    /// The larger of each pair of lanes; a NaN in `self` stays NaN.
    @inline(__always) func lanewiseMaximum(_ other: Self) -> Self { replacing(with: other, where: self .< other) }

    /// The smaller of each pair of lanes; a NaN in `self` stays NaN.
    @inline(__always) func lanewiseMinimum(_ other: Self) -> Self { replacing(with: other, where: other .< self) }
}
