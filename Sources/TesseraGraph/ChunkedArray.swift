/// An array that grows by whole chunks of 65,536 elements: appending never copies what is stored
/// and leaves at most one chunk of spare capacity, where an `Array` doubles its storage (holding the
/// old and the new copy while it grows, and up to twice what it needs after). The graph keeps its
/// vertex and connection tables, and the compiler its memory blocks, in these: millions of
/// entries for a model.
public struct ChunkedArray<Element>: RandomAccessCollection, MutableCollection {
    @inlinable static var chunkShift: Int { 16 }
    @inlinable static var chunkSize: Int { 1 << chunkShift }
    @usableFromInline var chunks: [[Element]] = []
    @usableFromInline var elementCount = 0
    /// The number of elements.
    @inlinable public var count: Int { elementCount }

    /// An empty array.
    @inlinable public init() {}

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { count }

    /// The element at `index` (the chunks check the bounds), read in place: reading one property of
    /// an element (a vertex's tile) copies nothing else of it.
    @inlinable public subscript(index: Int) -> Element {
        _read { yield chunks[index >> Self.chunkShift][index & (Self.chunkSize - 1)] }
        _modify { yield &chunks[index >> Self.chunkShift][index & (Self.chunkSize - 1)] }
    }

    /// Appends `element`, starting a chunk when the last one is full.
    @inlinable public mutating func append(_ element: Element) {
        chunks[roomyChunk()].append(element)
        elementCount += 1
    }

    /// Appends `elements` in order, a chunk's worth at a time.
    @inlinable public mutating func append<Elements: Collection<Element>>(contentsOf elements: Elements) {
        var index = elements.startIndex, left = elements.count
        while left > 0 {
            let chunk = roomyChunk()
            let taken = Swift.min(left, Self.chunkSize - chunks[chunk].count)
            let end = elements.index(index, offsetBy: taken)
            chunks[chunk].append(contentsOf: elements[index..<end])
            elementCount += taken
            index = end
            left -= taken
        }
    }

    /// The index of the last chunk, after starting one if it is full (the first chunk grows as an
    /// array does, so that a small graph takes little memory).
    @inlinable mutating func roomyChunk() -> Int {
        if chunks.isEmpty || chunks[chunks.count - 1].count == Self.chunkSize {
            var chunk: [Element] = []
            if !chunks.isEmpty { chunk.reserveCapacity(Self.chunkSize) }
            chunks.append(chunk)
        }
        return chunks.count - 1
    }

    /// Removes the last `k` elements.
    @inlinable public mutating func removeLast(_ k: Int) {
        precondition(k >= 0 && k <= count, "cannot remove \(k) of \(count) elements")
        var left = k
        while left > 0 {
            let last = chunks.count - 1
            let taken = Swift.min(left, chunks[last].count)
            chunks[last].removeLast(taken)
            if chunks[last].isEmpty { chunks.removeLast() }
            left -= taken
        }
        elementCount -= k
    }

    /// Appends the elements at `range` to `array`, chunk by chunk.
    @inlinable public func append(_ range: Range<Int>, to array: inout [Element]) {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "range \(range) out of range 0..<\(count)")
        var start = range.lowerBound
        while start < range.upperBound {
            let chunk = start >> Self.chunkShift, offset = start & (Self.chunkSize - 1)
            let taken = Swift.min(range.upperBound - start, Self.chunkSize - offset)
            chunks[chunk].withUnsafeBufferPointer { array.append(contentsOf: UnsafeBufferPointer(rebasing: $0[offset..<(offset + taken)])) }
            start += taken
        }
    }
}

extension ChunkedArray: Sendable where Element: Sendable {}
