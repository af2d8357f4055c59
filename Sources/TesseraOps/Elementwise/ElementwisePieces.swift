import TesseraGraph

/// One worker's share of an element-wise operation: a contiguous range of flat positions held by one tile.
struct ElementwisePiece {
    /// The tile holding the positions.
    var tile: Int
    /// Flat positions of the tensor the work follows.
    var positions: Range<Int>
}

/// One worker context's share of a tile's regions: positions `offsets` (counted from the start of
/// region `region`).
struct WorkerShare: Equatable {
    /// Index of the region the share lies in.
    var region: Int
    /// Positions within the region.
    var offsets: Range<Int>
}

/// Splits regions of `regionSizes` elements into about `contexts` shares of whole `grain`-element
/// vectors, each within one region, so that all worker contexts of a tile get a similar share
/// (the split a MultiVertex codelet makes over its tile's six workers).
func workerShares(regionSizes: [Int], grain: Int, contexts: Int) -> [WorkerShare] {
    let total = regionSizes.reduce(0, +)
    let grains = (total + grain - 1) / grain
    let share = max(1, (grains + contexts - 1) / contexts) * grain
    var shares: [WorkerShare] = []
    for (region, size) in regionSizes.enumerated() {
        var begin = 0
        while begin < size {
            let end = min(begin + share, size)
            shares.append(WorkerShare(region: region, offsets: begin..<end))
            begin = end
        }
    }
    return shares
}

/// How a MultiVertex codelet splits its tile's regions over the worker contexts when it computes
/// (the same split its cycle estimate assumes).
struct WorkerSplit: Hashable {
    /// Elements per vector of the split's grain type.
    var grain: Int
    /// Worker contexts of the tile.
    var contexts: Int

    /// The split of `target` in whole vectors of `type`.
    init(_ target: Target, _ type: ElementType) {
        grain = target.vectorWidth(type)
        contexts = target.workerContexts
    }

    /// Shares of regions of `regionSizes` elements.
    func shares(_ regionSizes: [Int]) -> [WorkerShare] { workerShares(regionSizes: regionSizes, grain: grain, contexts: contexts) }
}

/// Worker-context cycles of the slowest of `contexts` workers when the shares' `cycles` are
/// scheduled greedily, longest first, each onto the least-loaded worker.
func slowestWorkerCycles(_ cycles: [Int], contexts: Int) -> Int {
    var loads = [Int](repeating: 0, count: contexts)
    for value in cycles.sorted(by: >) {
        let slot = loads.indices.min { loads[$0] < loads[$1] }!
        loads[slot] += value
    }
    return loads.max() ?? 0
}

/// The regions one tile holds of the tensor an element-wise operation follows: one MultiVertex per tile.
struct TileWork {
    /// The tile running the vertex.
    var tile: Int
    /// Contiguous flat position ranges the tile holds, in increasing order.
    var regions: [Range<Int>]
}

extension OpBuilder {
    /// The regions of `tensor` each tile holds (one tile-mapping lookup for the whole operation).
    func tileWork(of tensor: Tensor) throws(OpError) -> [TileWork] {
        try tileRegions(of: tensor).map { TileWork(tile: $0.tile, regions: $0.ranges) }
    }

    /// Splits the positions of `tensor` on each tile into worker shares of whole vectors of
    /// `grainType` (``workerShares(regionSizes:grain:contexts:)``), as flat position ranges.
    func elementwisePieces(of tensor: Tensor, grainType: ElementType) throws(OpError) -> [ElementwisePiece] {
        let grain = graph.target.vectorWidth(grainType)
        var pieces: [ElementwisePiece] = []
        for work in try tileWork(of: tensor) {
            for share in workerShares(regionSizes: work.regions.map { $0.count }, grain: grain, contexts: graph.target.workerContexts) {
                let begin = work.regions[share.region].lowerBound
                pieces.append(ElementwisePiece(tile: work.tile, positions: (begin + share.offsets.lowerBound)..<(begin + share.offsets.upperBound)))
            }
        }
        return pieces
    }
}
