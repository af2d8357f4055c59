import TesseraGraph

/// Where the vertices of a normalisation or pooling step find their tile's elements of `x`.
///
/// The fields connect to `x` flattened or, when `x` permutes one variable range (a convolution's
/// output seen as `[N, C, H, W]` while stored box by box), to that range in storage order: each
/// tile's groups then come from its few intervals of the range instead of every run of the view,
/// and name the same elements.
struct NormLayout {
    /// A tile's positions of `x` that it stores one after another: one vertex's, or a few's.
    struct Group {
        /// The tile holding the positions.
        var tile: Int
        /// Flattened positions of `x`, in the order the tile stores them.
        var regions: [Range<Int>]
        /// Where the regions are in storage order (with a permutation; empty without).
        var pieces: [StoragePiece]
    }

    /// The one-dimensional tensor the fields over `x`'s positions connect to.
    var source: Tensor
    /// The permutation `x` is of `source`, when it is one.
    var permutation: StoragePermutation?
    /// The groups, tile after tile.
    var groups: [Group]

    /// The positions of `source` that hold `regions` (positions of `x` in `group`, in its order).
    func fieldPositions(_ regions: [Range<Int>], in group: Group) -> [Range<Int>] {
        permutation == nil ? regions : StoragePiece.storageRanges(of: regions, in: group.pieces)
    }
}

extension OpBuilder {
    /// The layout of `x`'s elements for a normalisation or pooling step; throws when some element
    /// of `x` is not mapped.
    func normLayout(of x: Tensor, op: String) throws(OpError) -> NormLayout {
        if x.elements.runs.count > 1, let permutation = try storagePermutation(of: x) {
            let groups = try normRegionGroups(of: permutation.storage, op: op).map { group in
                let pieces = permutation.pieces(inStorage: group.regions)
                return NormLayout.Group(tile: group.tile, regions: pieces.map { $0.positions }, pieces: pieces)
            }
            return NormLayout(source: permutation.storage, permutation: permutation, groups: groups)
        }
        let flat = x.flatten()
        let groups = try normRegionGroups(of: flat, op: op).map { NormLayout.Group(tile: $0.tile, regions: $0.regions, pieces: []) }
        return NormLayout(source: flat, permutation: nil, groups: groups)
    }

    /// A new variable of `x`'s type and mapping, as the tensor fields connect to in `layout`
    /// and as a view of `x`'s shape.
    func normOutput(_ layout: NormLayout, like x: Tensor, name: String) throws(OpError) -> (field: Tensor, view: Tensor) {
        guard let permutation = layout.permutation else {
            let y = try variable(like: x, name: name)
            return (y.flatten(), y)
        }
        let stored = try variable(like: layout.source, name: name)
        return (stored, relabel(permutation, onto: stored))
    }
}
