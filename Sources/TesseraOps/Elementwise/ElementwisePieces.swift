import TesseraGraph

/// One vertex's share of an element-wise operation: a contiguous range of flat positions held by one tile.
struct ElementwisePiece {
    /// The tile holding the positions and running the vertex.
    var tile: Int
    /// Flat positions of the tensor the work follows.
    var positions: Range<Int>
}

extension OpBuilder {
    /// Splits the positions of `tensor` on each tile into at most about `workerContexts` pieces of
    /// whole vectors of `type`, each within one contiguous tile region, so that all worker
    /// contexts of a tile get a similar share.
    func elementwisePieces(of tensor: Tensor, grainType: ElementType) throws(OpError) -> [ElementwisePiece] {
        let grain = graph.target.vectorWidth(grainType)
        var pieces: [ElementwisePiece] = []
        for (tile, ranges) in try tileRegions(of: tensor) {
            let total = ranges.reduce(0) { $0 + $1.count }
            let grains = (total + grain - 1) / grain
            let share = max(1, (grains + graph.target.workerContexts - 1) / graph.target.workerContexts) * grain
            for range in ranges {
                var begin = range.lowerBound
                while begin < range.upperBound {
                    let end = min(begin + share, range.upperBound)
                    pieces.append(ElementwisePiece(tile: tile, positions: begin..<end))
                    begin = end
                }
            }
        }
        return pieces
    }
}
