import TesseraGraph

/// One vertex's share of a normalisation or pooling step: contiguous flattened positions of the
/// tensor the work follows, all held by one tile.
struct NormPiece {
    /// The tile holding the positions and running the vertex.
    var tile: Int
    /// Flattened positions.
    var positions: Range<Int>

    /// `indices` as runs of consecutive values, in order.
    static func consecutiveRuns(_ indices: [Int]) -> [Range<Int>] {
        var runs: [Range<Int>] = []
        for index in indices {
            if let last = runs.last, last.upperBound == index {
                runs[runs.count - 1] = last.lowerBound..<index + 1
            } else {
                runs.append(index..<index + 1)
            }
        }
        return runs
    }
}

extension OpBuilder {
    /// The positions of `tensor` as one piece per contiguous tile region: one vertex per tile
    /// (per region), whose codelet splits the work over the worker contexts itself. Throws when
    /// some element of `tensor` is not mapped.
    func normPieces(of tensor: Tensor, op: String) throws(OpError) -> [NormPiece] {
        let regions = try tileRegions(of: tensor)
        let mapped = regions.reduce(0) { $0 + $1.ranges.reduce(0) { $0 + $1.count } }
        guard mapped == tensor.elementCount else {
            throw .badParameter(op: op, detail: "only \(mapped) of the \(tensor.elementCount) elements of the operand \(tensor.shape) are mapped to tiles")
        }
        return regions.flatMap { region in region.ranges.map { NormPiece(tile: region.tile, positions: $0) } }
    }

    /// `count` items (channels, statistics, output rows) spread in equal consecutive blocks over
    /// the tiles that hold `tensor`, one block (one vertex) per tile.
    func normBlockPieces(count: Int, over tensor: Tensor) throws(OpError) -> [NormPiece] {
        let tiles = try tileRegions(of: tensor).map(\.tile)
        guard !tiles.isEmpty, count > 0 else { return [] }
        let used = min(tiles.count, count)
        return (0..<used).map { k in NormPiece(tile: tiles[k], positions: (count * k / used)..<(count * (k + 1) / used)) }
    }

    /// Maps `flat` (a one-dimensional view) piece by piece.
    func mapNormPieces(_ flat: Tensor, _ pieces: [NormPiece], op: String) throws(OpError) {
        try building(op) { () throws(GraphError) in
            for piece in pieces { try graph.setTileMapping(flat.slice(piece.positions), tile: piece.tile) }
        }
    }
}
