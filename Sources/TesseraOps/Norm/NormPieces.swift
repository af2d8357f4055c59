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
    /// The positions of `tensor` on each tile cut into about `workerContexts` pieces of similar
    /// size (at least `minimum` elements, within one contiguous tile region), so that every worker
    /// context of a tile gets a share. Throws when some element of `tensor` is not mapped.
    func normPieces(of tensor: Tensor, minimum: Int = 16, op: String) throws(OpError) -> [NormPiece] {
        let regions = try tileRegions(of: tensor)
        let mapped = regions.reduce(0) { $0 + $1.ranges.reduce(0) { $0 + $1.count } }
        guard mapped == tensor.elementCount else {
            throw .badParameter(op: op, detail: "only \(mapped) of the \(tensor.elementCount) elements of the operand \(tensor.shape) are mapped to tiles")
        }
        var pieces: [NormPiece] = []
        for (tile, ranges) in regions {
            let total = ranges.reduce(0) { $0 + $1.count }
            let share = max(minimum, (total + graph.target.workerContexts - 1) / graph.target.workerContexts)
            for range in ranges {
                let parts = max(1, (range.count + share / 2) / share)
                for part in 0..<parts {
                    let begin = range.lowerBound + range.count * part / parts
                    let end = range.lowerBound + range.count * (part + 1) / parts
                    pieces.append(NormPiece(tile: tile, positions: begin..<end))
                }
            }
        }
        return pieces
    }

    /// `count` items (channels, statistics, output rows) spread in equal consecutive blocks over
    /// the tiles that hold `tensor`, then each block cut into at most `workerContexts` pieces.
    func normBlockPieces(count: Int, over tensor: Tensor) throws(OpError) -> [NormPiece] {
        let tiles = try tileRegions(of: tensor).map(\.tile)
        guard !tiles.isEmpty, count > 0 else { return [] }
        let used = min(tiles.count, count)
        var pieces: [NormPiece] = []
        for k in 0..<used {
            let begin = count * k / used, end = count * (k + 1) / used
            let parts = min(graph.target.workerContexts, end - begin)
            for part in 0..<parts {
                pieces.append(NormPiece(tile: tiles[k], positions: (begin + (end - begin) * part / parts)..<(begin + (end - begin) * (part + 1) / parts)))
            }
        }
        return pieces
    }

    /// Maps `flat` (a one-dimensional view) piece by piece.
    func mapNormPieces(_ flat: Tensor, _ pieces: [NormPiece], op: String) throws(OpError) {
        try building(op) { () throws(GraphError) in
            for piece in pieces { try graph.setTileMapping(flat.slice(piece.positions), tile: piece.tile) }
        }
    }
}
