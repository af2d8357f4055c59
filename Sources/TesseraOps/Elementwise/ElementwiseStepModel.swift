import TesseraGraph

/// The planners' model of one compute step, as docs/cost-model.md charges it: vertex estimates
/// scheduled greedily over the worker contexts, an exchange phase sized by the busiest tile's
/// received bytes, and a sync per phase.
struct ElementwiseStepModel {
    let target: Target
    private var estimates: [Int: [Int]] = [:]
    private var received: [Int: Int] = [:]

    init(target: Target) { self.target = target }

    /// Adds a vertex of `cycles` worker-context cycles on `tile`.
    mutating func addVertex(tile: Int, cycles: Int) { estimates[tile, default: []].append(cycles) }

    /// Adds `bytes` received by `tile` before compute.
    mutating func receive(tile: Int, bytes: Int) {
        if bytes > 0 { received[tile, default: 0] += bytes }
    }

    /// Tiles that run vertices.
    var tiles: Set<Int> { Set(estimates.keys) }

    /// Modelled cycles of the step.
    var cycles: Int {
        var compute = 0
        for (_, list) in estimates {
            var loads = [Int](repeating: 0, count: target.workerContexts)
            for cycles in list.sorted(by: >) {
                let slot = loads.indices.min { loads[$0] < loads[$1] }!
                loads[slot] += cycles
            }
            compute = max(compute, (loads.max() ?? 0) * target.workerContexts)
        }
        let busiest = received.values.max() ?? 0
        let exchange = busiest == 0 ? 0 : target.exchangeFixedCycles + (busiest + target.exchangeBytesPerCycle - 1) / target.exchangeBytesPerCycle
        return compute + exchange + target.syncCycles * (exchange == 0 ? 1 : 2)
    }
}

extension OpBuilder {
    /// Bytes of `view` that are not held by `tile` (what a vertex there must receive).
    func bytesToReceive(of view: Tensor, on tile: Int) throws(OpError) -> Int {
        let local = try building("bytesToReceive") { () throws(GraphError) in try graph.elementCount(of: view, onTile: tile) }
        return (view.elementCount - local) * view.elementType.byteSize
    }
}

/// Cycle-model constants of the element-wise and reduction codelets (docs/ops-cost.md,
/// "Elementwise and reductions").
enum ElementwiseCost {
    /// Worker cycles of a vertex's fixed set-up: loading field pointers and entering the loop.
    static let setUpCycles = 12
    /// Worker cycles to start each innermost run of a broadcast or reduction pattern.
    static let runCycles = 4

    /// Worker cycles of `elements` elements of `type` at `instructions` per 64-bit vector, in `runs` runs.
    static func cycles(elements: Int, type: ElementType, instructions: Int, runs: Int = 1, target: Target) -> Int {
        let lanes = target.vectorWidth(type)
        return setUpCycles + runs * runCycles + (elements + lanes - 1) / lanes * instructions
    }
}
