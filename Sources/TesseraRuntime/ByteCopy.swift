import Glibc

/// Copies `count` bytes from `source` to `destination`. Most exchange copies are a few elements
/// (a batch-norm coefficient, one row of a small feature map), so regions up to 64 bytes are
/// moved inline with two possibly overlapping loads and stores instead of a call to `memmove`.
/// Every load happens before the first store, so overlapping regions are copied correctly too.
@inline(__always)
func copyBytes(from source: UnsafeRawPointer, to destination: UnsafeMutableRawPointer, count: Int) {
    switch count {
    case 4:
        destination.storeBytes(of: source.loadUnaligned(as: UInt32.self), as: UInt32.self)
    case 8:
        destination.storeBytes(of: source.loadUnaligned(as: UInt64.self), as: UInt64.self)
    case 0..<4:
        for i in 0..<count { destination.storeBytes(of: source.load(fromByteOffset: i, as: UInt8.self), toByteOffset: i, as: UInt8.self) }
    case 5..<8:
        copyEnds(UInt32.self, from: source, to: destination, count: count)
    case 9...16:
        copyEnds(UInt64.self, from: source, to: destination, count: count)
    case 17...32:
        copyEnds(SIMD16<UInt8>.self, from: source, to: destination, count: count)
    case 33...64:
        copyEnds(SIMD32<UInt8>.self, from: source, to: destination, count: count)
    default:
        memmove(destination, source, count)
    }
}

/// Copies `count` bytes, `MemoryLayout<Chunk>.size ≤ count ≤ 2 × that`, as the first and the last chunk.
@inline(__always)
private func copyEnds<Chunk>(_: Chunk.Type, from source: UnsafeRawPointer, to destination: UnsafeMutableRawPointer, count: Int) {
    let tail = count - MemoryLayout<Chunk>.size
    let first = source.loadUnaligned(as: Chunk.self), last = source.loadUnaligned(fromByteOffset: tail, as: Chunk.self)
    destination.storeBytes(of: first, as: Chunk.self)
    destination.storeBytes(of: last, toByteOffset: tail, as: Chunk.self)
}
