import TesseraCompiler
import TesseraGraph

/// A ring of equally sized chunks of host memory behind a stream: each stream copy uses the next chunk.
final class StreamRing: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let chunks: Int
    let chunkBytes: Int

    init(chunks: Int, chunkBytes: Int) {
        self.chunks = chunks
        self.chunkBytes = chunkBytes
        base = .allocate(byteCount: max(1, chunks * chunkBytes), alignment: 16)
        base.initializeMemory(as: UInt8.self, repeating: 0, count: max(1, chunks * chunkBytes))
    }

    deinit { base.deallocate() }
}

extension Engine {
    // MARK: - Tensors

    /// Writes `values` (row-major) into the elements of `tensor` in replica `replica`, or in every replica if nil.
    public func write<T: DeviceScalar>(_ tensor: Tensor, _ values: [T], replica: Int? = nil) throws(RuntimeError) {
        try check(tensor, T.self, count: values.count)
        for replica in try replicas(replica) {
            var position = 0
            try forEachLocation(of: tensor) { tile, offset, stride, count in
                values.withUnsafeBytes { source in
                    stridedCopy(from: source.baseAddress! + position * T.elementType.byteSize, stride: T.elementType.byteSize,
                                to: tileBase[replica * executable.target.tiles + tile] + offset, stride: stride, count: count,
                                elementBytes: T.elementType.byteSize)
                }
                position += count
            }
        }
    }

    /// The elements of `tensor` in replica `replica`, row-major.
    public func read<T: DeviceScalar>(_ tensor: Tensor, as type: T.Type = T.self, replica: Int = 0) throws(RuntimeError) -> [T] {
        try check(tensor, T.self, count: tensor.elementCount)
        let base = try replicas(replica).lowerBound * executable.target.tiles
        var result: [T] = []
        result.reserveCapacity(tensor.elementCount)
        try forEachLocation(of: tensor) { tile, offset, stride, count in
            for i in 0..<count { result.append((tileBase[base + tile] + offset + i * stride).loadUnaligned(as: T.self)) }
        }
        return result
    }

    /// The elements of `tensor` in every replica, in replica order.
    public func readAllReplicas<T: DeviceScalar>(_ tensor: Tensor, as type: T.Type = T.self) throws(RuntimeError) -> [[T]] {
        var result: [[T]] = []
        for replica in 0..<executable.replicas { result.append(try read(tensor, as: type, replica: replica)) }
        return result
    }

    private func replicas(_ replica: Int?) throws(RuntimeError) -> Range<Int> {
        guard let replica else { return 0..<executable.replicas }
        guard (0..<executable.replicas).contains(replica) else {
            throw .sizeMismatch(object: "replica \(replica)", detail: "the executable runs \(executable.replicas) replica(s)")
        }
        return replica..<(replica + 1)
    }

    private func check<T: DeviceScalar>(_ tensor: Tensor, _ type: T.Type, count: Int) throws(RuntimeError) {
        guard tensor.graphID == executable.graphID else { throw .foreignObject(kind: "tensor", name: "\(tensor)") }
        guard tensor.elementType == T.elementType, count == tensor.elementCount else {
            throw .sizeMismatch(object: "tensor \(name(of: tensor))", detail: "host data is \(count) \(T.elementType) values")
        }
    }

    /// `tensor` as an error names it: the variables its elements come from (the first few), then its type and shape.
    private func name(of tensor: Tensor) -> String {
        var names: [String] = []
        for run in tensor.elements.runs where names.count < 4 {
            if let name = executable.data[run.data]?.name, !names.contains(name) { names.append(name) }
        }
        return names.map { "'\($0)' " }.joined() + "\(tensor)"
    }

    /// Calls `body(tile, byteOffset, byteStride, count)` for the tile locations of `tensor`'s elements, in order.
    private func forEachLocation(of tensor: Tensor, _ body: (Int, Int, Int, Int) -> Void) throws(RuntimeError) {
        for run in tensor.elements.runs {
            guard let placement = executable.data[run.data] else {
                throw .notPlaced(tensor: "data #\(run.data)")
            }
            guard placement.alwaysLive else { throw .notHostVisible(tensor: placement.name) }
            let bytes = placement.elementType.byteSize
            var element = run.start
            var remaining = run.count
            while remaining > 0 {
                guard let index = TileMappingIndex.index(containing: element, in: placement.intervals) else {
                    throw .notPlaced(tensor: placement.name)
                }
                let interval = placement.intervals[index]
                let taken = progressionCount(from: element, stride: run.stride, limit: remaining, within: interval.begin..<interval.end)
                body(interval.tile, Int(placement.byteOffsets[index]) + (element - interval.begin) * bytes, run.stride * bytes, taken)
                element += taken * run.stride
                remaining -= taken
            }
        }
    }

    // MARK: - Streams

    /// Connects a host-to-device stream to `values`: one equal part per replica, in replica order,
    /// each a whole number of the stream's chunks; copy number `k` of a run takes chunk `k` modulo
    /// the number of chunks of its replica's part.
    public func connect<T: DeviceScalar>(_ stream: HostStream, _ values: [T]) throws(RuntimeError) {
        try checkStream(stream, .hostToDevice, T.self)
        let replicas = executable.replicas, chunk = max(1, stream.elementCount)
        guard !values.isEmpty, values.count % (chunk * replicas) == 0 else {
            throw .sizeMismatch(object: "stream '\(stream.name)'",
                                detail: "\(values.count) values are not \(replicas) equal part(s) of whole \(stream.elementCount)-element chunks")
        }
        let partBytes = values.count / replicas * T.elementType.byteSize
        streamRings[stream.index] = (0..<replicas).map { replica in
            let ring = StreamRing(chunks: values.count / replicas / chunk, chunkBytes: stream.elementCount * T.elementType.byteSize)
            values.withUnsafeBytes { ring.base.copyMemory(from: $0.baseAddress! + replica * partBytes, byteCount: partBytes) }
            return ring
        }
        streamCursors[stream.index] = 0
    }

    /// Connects a device-to-host stream to a ring of `chunks` chunks, which the host reads with ``streamed(_:as:)``.
    public func connect(_ stream: HostStream, chunks: Int = 1) throws(RuntimeError) {
        guard stream.graphID == executable.graphID else { throw .foreignObject(kind: "stream", name: stream.name) }
        guard stream.direction == .deviceToHost, chunks >= 1 else {
            throw .sizeMismatch(object: "stream '\(stream.name)'", detail: "a device-to-host ring needs ≥ 1 chunk (direction \(stream.direction))")
        }
        streamRings[stream.index] = (0..<executable.replicas).map { _ in
            StreamRing(chunks: chunks, chunkBytes: stream.elementCount * stream.elementType.byteSize)
        }
        streamCursors[stream.index] = 0
    }

    /// The contents of a device-to-host stream's ring in replica `replica`, all chunks in ring order.
    public func streamed<T: DeviceScalar>(_ stream: HostStream, as type: T.Type = T.self, replica: Int = 0) throws(RuntimeError) -> [T] {
        try checkStream(stream, .deviceToHost, T.self)
        let replica = try replicas(replica).lowerBound
        guard streamRings[stream.index].count > replica else { throw .streamNotConnected(stream: stream.name) }
        let ring = streamRings[stream.index][replica]
        let count = ring.chunks * stream.elementCount
        return (0..<count).map { (ring.base + $0 * T.elementType.byteSize).loadUnaligned(as: T.self) }
    }

    private func checkStream<T: DeviceScalar>(_ stream: HostStream, _ direction: StreamDirection, _ type: T.Type) throws(RuntimeError) {
        guard stream.graphID == executable.graphID else { throw .foreignObject(kind: "stream", name: stream.name) }
        guard stream.direction == direction, stream.elementType == T.elementType else {
            throw .sizeMismatch(object: "stream '\(stream.name)'", detail: "is a \(stream.direction) stream of \(stream.elementType), used as \(direction) with \(T.elementType)")
        }
    }
}
