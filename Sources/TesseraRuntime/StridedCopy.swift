import Glibc

/// Copies `count` elements of `elementBytes` bytes between strided addresses (strides in bytes).
@inline(__always)
func stridedCopy(from source: UnsafeRawPointer, stride sourceStride: Int, to destination: UnsafeMutableRawPointer,
                 stride destinationStride: Int, count: Int, elementBytes: Int) {
    if sourceStride == elementBytes && destinationStride == elementBytes {
        memmove(destination, source, count &* elementBytes)
        return
    }
    if sourceStride == 2 * elementBytes && destinationStride == elementBytes && (elementBytes == 4 || elementBytes == 2) {
        return copyEvenElements(from: source, to: destination, count: count, elementBytes: elementBytes)
    }
    switch elementBytes {
    case 4:
        for i in 0..<count {
            (destination + i * destinationStride).storeBytes(of: (source + i * sourceStride).loadUnaligned(as: UInt32.self), as: UInt32.self)
        }
    case 2:
        for i in 0..<count {
            (destination + i * destinationStride).storeBytes(of: (source + i * sourceStride).loadUnaligned(as: UInt16.self), as: UInt16.self)
        }
    default:
        for i in 0..<count {
            memmove(destination + i * destinationStride, source + i * sourceStride, elementBytes)
        }
    }
}

/// Every other element of `source` (elements of 4 or 2 bytes), `count` of them, to consecutive
/// elements from `destination`: a subsampled row, as a stride-folded convolution gathers it.
@inline(__always)
private func copyEvenElements(from source: UnsafeRawPointer, to destination: UnsafeMutableRawPointer, count: Int, elementBytes: Int) {
    if elementBytes == 4 {
        copyEvenElements(UInt32.self, from: source, to: destination, count: count)
    } else {
        copyEvenElements(UInt16.self, from: source, to: destination, count: count)
    }
}

/// Elements `0, 2, …, 2 · (count − 1)` of `source` to `destination`, in blocks of 8 (4 for a row of
/// 5 to 8) that read only within the row: the first block takes the even lanes of the vector at the
/// row's start, every later one the odd lanes of the vector starting one element before its first,
/// and the last block ends at the row's end, overlapping the one before it.
@inline(__always)
private func copyEvenElements<T: SIMDScalar & FixedWidthInteger>(_: T.Type, from source: UnsafeRawPointer,
                                                                   to destination: UnsafeMutableRawPointer, count: Int) {
    let size = MemoryLayout<T>.size
    @inline(__always) func block8(_ i: Int) {
        let values = i == 0 ? source.loadUnaligned(as: SIMD16<T>.self).evenHalf
                            : source.loadUnaligned(fromByteOffset: (2 * i - 1) * size, as: SIMD16<T>.self).oddHalf
        destination.storeBytes(of: values, toByteOffset: i * size, as: SIMD8<T>.self)
    }
    @inline(__always) func block4(_ i: Int) {
        let values = i == 0 ? source.loadUnaligned(as: SIMD8<T>.self).evenHalf
                            : source.loadUnaligned(fromByteOffset: (2 * i - 1) * size, as: SIMD8<T>.self).oddHalf
        destination.storeBytes(of: values, toByteOffset: i * size, as: SIMD4<T>.self)
    }
    if count >= 9 {
        var i = 0
        while i + 8 <= count {
            block8(i)
            i += 8
        }
        if i < count { block8(count - 8) }
    } else if count >= 5 {
        block4(0)
        block4(count - 4)
    } else {
        for j in 0..<count { destination.storeBytes(of: source.loadUnaligned(fromByteOffset: 2 * j * size, as: T.self), toByteOffset: j * size, as: T.self) }
    }
}
