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
    // Held in 32 bits each: a large model's normalisation vertices hold millions of segments.
    private var storedCount: Int32, storedOffset: Int32, storedFirst: Int32

    init(count: Int, offset: Int, first: Int) {
        (storedCount, storedOffset, storedFirst) = (Int32(count), Int32(offset), Int32(first))
    }

    var count: Int { Int(storedCount) }
    var offset: Int { Int(storedOffset) }
    var first: Int { Int(storedFirst) }

    /// Rows of `rowLength` that elements `range` of this segment touch.
    func rows(_ range: Range<Int>, rowLength: Int) -> Int { NormCost.rows(range, offset: offset, rowLength: rowLength) }

    /// Rows of `rowLength` that the segment touches.
    func rows(rowLength: Int) -> Int { rows(0..<count, rowLength: rowLength) }
}

/// The vertices of a normalisation step that follows a tensor: each vertex takes regions of one
/// tile that the tile stores one after another.
struct NormRegionGroup {
    /// The tile holding the regions and running the vertex.
    var tile: Int
    /// Flattened positions, in order.
    var regions: [Range<Int>]
}

extension OpBuilder {
    /// The positions of `tensor` in vertex groups: each tile's regions joined into the runs the
    /// tile stores one after another (``storedRuns(_:of:tile:)``), a group each. Throws when some
    /// element of `tensor` is not mapped.
    func normRegionGroups(of tensor: Tensor, op: String) throws(OpError) -> [NormRegionGroup] {
        let pieces = try normPieces(of: tensor, op: op)
        var groups: [NormRegionGroup] = []
        var start = 0
        while start < pieces.count {
            let tile = pieces[start].tile
            var end = start + 1
            while end < pieces.count && pieces[end].tile == tile { end += 1 }
            for run in storedRuns(pieces[start..<end].map { $0.positions }, of: [tensor], tile: tile) {
                groups.append(NormRegionGroup(tile: tile, regions: run))
            }
            start = end
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
    /// tiles spaced evenly among those that hold `tensor`, one block (one vertex) per tile, with at
    /// least ``NormCost/minimumBlockItems`` items a block (as Poplar's linear mapping keeps 128
    /// bytes on a tile): the tiles reading the results then gather them from a few tiles.
    func normBlockPieces(count: Int, over tensor: Tensor) throws(OpError) -> [NormPiece] {
        // The tiles holding a permutation's range are those holding the view, found from fewer intervals.
        let tiles = try tileRegions(of: try storagePermutation(of: tensor)?.storage ?? tensor).map { $0.tile }
        guard !tiles.isEmpty, count > 0 else { return [] }
        let used = min(tiles.count, max(1, count / NormCost.minimumBlockItems))
        return (0..<used).map { k in
            NormPiece(tile: tiles[k * tiles.count / used], positions: (count * k / used)..<(count * (k + 1) / used))
        }
    }

    /// Maps `flat` (a one-dimensional view) piece by piece.
    func mapNormPieces(_ flat: Tensor, _ pieces: [NormPiece], op: String) throws(OpError) {
        try building(op) { () throws(GraphError) in
            for piece in pieces { try graph.setTileMapping(flat.slice(piece.positions), tile: piece.tile) }
        }
    }
}
