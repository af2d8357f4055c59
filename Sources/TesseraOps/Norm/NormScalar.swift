import TesseraGraph

/// An activation element type the normalisation and pooling codelets compute on in float32:
/// float32 as is, float16 widened on load and rounded to nearest even on store.
protocol NormScalar: DeviceScalar {
    /// Sixteen elements from `pointer`, widened to float32.
    static func load16(_ pointer: UnsafePointer<Self>) -> SIMD16<Float>
    /// Stores sixteen float32 values at `pointer`, rounded to this type.
    static func store16(_ values: SIMD16<Float>, _ pointer: UnsafeMutablePointer<Self>)
    /// The element widened to float32.
    var float: Float { get }
    /// `value` rounded to this type.
    init(float value: Float)
}

extension Float: NormScalar {
    @inline(__always) static func load16(_ pointer: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(pointer).loadUnaligned(as: SIMD16<Float>.self)
    }
    @inline(__always) static func store16(_ values: SIMD16<Float>, _ pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: values, as: SIMD16<Float>.self)
    }
    @inline(__always) var float: Float { self }
    @inline(__always) init(float value: Float) { self = value }
}

extension Float16: NormScalar {
    @inline(__always) static func load16(_ pointer: UnsafePointer<Float16>) -> SIMD16<Float> {
        SIMD16<Float>(UnsafeRawPointer(pointer).loadUnaligned(as: SIMD16<Float16>.self))
    }
    @inline(__always) static func store16(_ values: SIMD16<Float>, _ pointer: UnsafeMutablePointer<Float16>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: SIMD16<Float16>(values), as: SIMD16<Float16>.self)
    }
    @inline(__always) var float: Float { Float(self) }
    @inline(__always) init(float value: Float) { self = Float16(value) }
}

extension VertexFields {
    /// Field `field` of floating-point type `type`, widened to float32 (for the short per-channel vectors).
    func floats(_ field: Int, _ type: ElementType) -> [Float] {
        type == .float16 ? input(field, as: Float16.self).map(Float.init) : Array(input(field, as: Float.self))
    }
}
