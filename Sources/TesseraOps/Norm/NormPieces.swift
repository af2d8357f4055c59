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

/// One run of a multi-region vertex's field: `count` elements in consecutive rows of `rowLength`,
/// starting `offset` elements into their first row, whose rows use per-row values (coefficients)
/// from index `first` of the vertex's coefficient fields on, one per row.
struct NormSegment: Sendable {
    var count: Int
    var offset: Int
    var first: Int

    /// Rows of `rowLength` that elements `range` of this segment touch.
    func rows(_ range: Range<Int>, rowLength: Int) -> Int { NormCost.rows(range, offset: offset, rowLength: rowLength) }

    /// Rows of `rowLength` that the segment touches.
    func rows(rowLength: Int) -> Int { rows(0..<count, rowLength: rowLength) }
}

/// The vertices of a normalisation step that follows a tensor: each vertex takes consecutive
/// regions of one tile (all of them, when they lie one after another in the tile's memory).
struct NormRegionGroup {
    /// The tile holding the regions and running the vertex.
    var tile: Int
    /// Flattened positions, in order.
    var regions: [Range<Int>]
}

extension OpBuilder {
    /// The positions of `tensor` in vertex groups: a tile's consecutive regions in one group while
    /// each is consecutive elements of one variable following the last (with no element of that
    /// variable on the tile between them), as the compiler stores a variable's elements on a tile
    /// one after another, so that a field covering the group is connected to tile memory directly
    /// (regions of a view that are not would be gathered into a buffer). Throws when some element
    /// of `tensor` is not mapped.
    func normRegionGroups(of tensor: Tensor, op: String) throws(OpError) -> [NormRegionGroup] {
        var groups: [NormRegionGroup] = []
        var next: (data: Int, element: Int)? = nil, hint = 0
        for piece in try normPieces(of: tensor, op: op) {
            let start = tensor.elements.consecutiveElements(piece.positions, hint: &hint)
            if let start, let next, let last = groups.last, last.tile == piece.tile, next.data == start.data, next.element <= start.start,
               graph.tileHoldsNone(of: start.data, in: next.element..<start.start, tile: piece.tile) {
                groups[groups.count - 1].regions.append(piece.positions)
            } else {
                groups.append(NormRegionGroup(tile: piece.tile, regions: [piece.positions]))
            }
            next = start.map { ($0.data, $0.start + piece.positions.count) }
        }
        return groups
    }

    /// The positions of `tensor` as one piece per contiguous tile region, tile after tile (a
    /// pooling step's vertices). Throws when some element of `tensor` is not mapped.
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
