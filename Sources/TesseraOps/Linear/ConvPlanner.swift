import Synchronization
import TesseraGraph

/// Chooses a ``ConvPlan`` for a convolution (and for a matmul, planned as a 1-D convolution) by
/// searching every split of batch, groups, output channels, input channels and output rows over the
/// tiles (output columns stay whole on a tile, so its output part is runs of whole rows), both vertex methods and every worker-context split, for the least
/// modelled cycles whose temporary bytes per tile fit `availableMemoryProportion × bytesPerTile`.
///
/// Plans are cached by parameters, target and options: planning the same convolution twice
/// searches once.
public final class ConvPlanner: Sendable {
    /// The planner the `OpBuilder` operations use.
    public static let shared = ConvPlanner()

    private struct Key: Hashable {
        var parameters: ConvParameters
        var target: Target
        var options: OpOptions
    }

    /// The fastest plan within the budget (if any) and the plan needing the least temporary memory.
    private struct Outcome {
        var fastest: ConvPlan?
        var smallest: ConvPlan
    }

    private struct State {
        var cache: [Key: Outcome] = [:]
        var hits = 0
        var searches = 0
    }

    private let state = Mutex(State())

    /// A planner with an empty cache.
    public init() {}

    /// Plans answered from the cache so far.
    public var cacheHits: Int { state.withLock { $0.hits } }
    /// Searches run so far (cache misses).
    public var searches: Int { state.withLock { $0.searches } }

    /// The fastest modelled plan for `parameters` on `target` within `options`' temporary-memory budget;
    /// with `availableMemoryProportion` 0, the plan needing the least temporary memory (as poplin).
    ///
    /// A convolution that ``ConvParameters/strideFolded`` folds is planned as the folded one, whose
    /// parameters the plan holds.
    ///
    /// Throws `badParameter` for invalid parameters, and `doesNotFit` (naming the plan that needs the
    /// least memory and its bytes) when no plan fits.
    public func plan(_ parameters: ConvParameters, target: Target, options: OpOptions, op: String) throws(OpError) -> ConvPlan {
        try parameters.validate(op: op)
        let parameters = parameters.strideFolded ?? parameters
        let budget = Int(Double(target.bytesPerTile) * options.availableMemoryProportion)
        let key = Key(parameters: parameters, target: target, options: options)
        let cached: Outcome? = state.withLock { state in
            let found = state.cache[key]
            if found != nil { state.hits += 1 }
            return found
        }
        let outcome = cached ?? {
            let found = ConvPlanner.search(parameters, target: target, budget: budget)
            state.withLock { state in
                state.searches += 1
                state.cache[key] = found
            }
            return found
        }()
        if options.availableMemoryProportion == 0 { return outcome.smallest }
        guard let fastest = outcome.fastest else {
            throw .doesNotFit(op: op, neededBytes: outcome.smallest.temporaryBytesPerTile, availableBytes: budget,
                              bestPlan: outcome.smallest.summary)
        }
        return fastest
    }

    /// Split counts worth trying for an axis of `size`: every `⌈size / part⌉` for part sizes
    /// `⌈size / k⌉`, so that every part is non-empty (O(√size) values), at most `limit`.
    public static func splitCandidates(_ size: Int, limit: Int) -> [Int] {
        var splits = Set<Int>()
        var k = 1
        while k <= size {
            let part = convCeilDiv(size, k)
            let split = convCeilDiv(size, part)
            if split <= limit { splits.insert(split) }
            // Jump to the next k with a smaller part size.
            k = part == 1 ? size + 1 : max(k + 1, convCeilDiv(size, part - 1))
        }
        return splits.sorted()
    }

    private static func search(_ p: ConvParameters, target: Target, budget: Int) -> Outcome {
        let sizes = [p.batch, p.groups, p.outputChannelsPerGroup, p.inputChannelsPerGroup, p.outputField[0], p.outputField[1]]
        // Output columns are never split across tiles: every tile's part is whole output rows, runs of
        // `rows · oW` elements of the `[N, O, oH, oW]` output, which keeps its tile regions (and the
        // windows and element-wise vertices of the operations that read it) long.
        var candidates = sizes.map { splitCandidates($0, limit: target.tiles) }
        candidates[5] = [1]
        let axisSizes = AxisSizes(sizes), dilatedKernel = p.dilatedKernel
        var best: ConvPlan?, smallest: ConvPlan?
        func consider(_ plan: ConvPlan) {
            if plan.temporaryBytesPerTile <= budget,
               best.map({ (plan.totalCycles, plan.temporaryBytesPerTile, plan.tilesUsed) < ($0.totalCycles, $0.temporaryBytesPerTile, $0.tilesUsed) }) ?? true {
                best = plan
            }
            if smallest.map({ (plan.temporaryBytesPerTile, plan.totalCycles) < ($0.temporaryBytesPerTile, $0.totalCycles) }) ?? true {
                smallest = plan
            }
        }
        let workerAxes: [(axis: ConvAxis, index: Int)] = [(.row, 4), (.batch, 0), (.column, 5), (.outputChannel, 2), (.group, 1)]
        var splits = [Int](repeating: 1, count: 6)
        func descend(_ axis: Int, tiles: Int) {
            guard axis < 6 else {
                // Worker axes with a part of one element leave the vertex whole; with none longer, the vertex stays whole.
                for method in ConvMethod.allCases {
                    var tried = false
                    for (axis, index) in workerAxes where convCeilDiv(sizes[index], splits[index]) > 1 {
                        tried = true
                        consider(evaluate(p, sizes: axisSizes, dilatedKernel: dilatedKernel, splits: splits, method: method,
                                          workerAxis: axis, target: target))
                    }
                    if !tried {
                        consider(evaluate(p, sizes: axisSizes, dilatedKernel: dilatedKernel, splits: splits, method: method,
                                          workerAxis: .row, target: target))
                    }
                }
                return
            }
            for split in candidates[axis] {
                guard tiles * split <= target.tiles else { break }
                splits[axis] = split
                descend(axis + 1, tiles: tiles * split)
            }
        }
        descend(0, tiles: 1)
        return Outcome(fastest: best, smallest: smallest!)
    }

    /// The plan with these tile splits, method and worker axis, with its costs modelled.
    private static func evaluate(_ p: ConvParameters, sizes: AxisSizes, dilatedKernel: [Int], splits: [Int], method: ConvMethod,
                                 workerAxis: ConvAxis, target: Target) -> ConvPlan {
        var plan = ConvPlan(parameters: p, method: method, batchSplit: splits[0], groupSplit: splits[1],
                            outputChannelSplit: splits[2], inputChannelSplit: splits[3], rowSplit: splits[4], columnSplit: splits[5],
                            workerAxis: workerAxis, workerSplit: 1, tilesUsed: splits.reduce(1, *),
                            computeCycles: 0, exchangeCycles: 0, reductionCycles: 0, temporaryBytesPerTile: 0)
        var part = sizes
        for (index, axis) in ConvAxis.allCases.enumerated() { part[axis] = convCeilDiv(sizes[axis], splits[index]) }
        let bytes = p.elementType.byteSize, taps = p.kernel[0] * p.kernel[1]
        func work(_ box: AxisSizes) -> ConvVertexWork {
            ConvVertexWork(groups: box[.group], inputChannelsPerGroup: box[.inputChannel], outputChannelsPerGroup: box[.outputChannel],
                           positions: box[.batch] * box[.row] * box[.column], kernelPositions: taps)
        }
        // Worker split: the tile's part cut along `workerAxis` over the contexts.
        let count = min(target.workerContexts, part[workerAxis])
        var workerBox = part
        workerBox[workerAxis] = convCeilDiv(part[workerAxis], count)
        plan.workerSplit = convCeilDiv(part[workerAxis], workerBox[workerAxis])
        let workerCycles = ConvCycleModel.vertexCycles(method, work(workerBox), type: p.elementType, target: target)
        // Input window rows/columns for a run of output rows/columns.
        func window(_ outputs: Int, _ dim: Int) -> Int { min(p.inputField[dim], (outputs - 1) * p.stride[dim] + dilatedKernel[dim]) }
        // One vertex per tile receives the input window of the tile's whole part, shared by its workers.
        let inputBytes = part[.batch] * part[.group] * part[.inputChannel] * bytes * window(part[.row], 0) * window(part[.column], 1)
        let weightBytes = part[.group] * part[.outputChannel] * part[.inputChannel] * taps * bytes
        let biasBytes = p.hasBias && plan.inputChannelSplit == 1 ? part[.group] * part[.outputChannel] * bytes : 0
        let outputs = part[.batch] * part[.group] * part[.outputChannel] * part[.row] * part[.column]
        let stages = plan.inputChannelSplit
        plan.exchangeCycles = target.exchangeFixedCycles + convCeilDiv(inputBytes + weightBytes + biasBytes, target.exchangeBytesPerCycle)
            + target.syncCycles
        // The vertex writes its part in place (output and partials are stored tile part by tile part).
        plan.computeCycles = workerCycles * target.workerContexts + target.syncCycles
        var temporary = inputBytes + weightBytes + biasBytes + (stages > 1 ? outputs * 4 : 0)
        if stages > 1 {
            let rowLength = part[.column]
            let chunk = min(outputs, ConvPlan.reductionChunkRows(rows: outputs / rowLength, rowLength: rowLength, stages: stages) * rowLength)
            let received = (stages - 1) * chunk * 4 + (p.hasBias ? chunk * bytes : 0)
            let reduce = ConvCycleModel.reduceCycles(stages: stages, count: convCeilDiv(chunk, target.workerContexts), target: target)
            plan.reductionCycles = 2 * target.syncCycles + target.exchangeFixedCycles + convCeilDiv(received, target.exchangeBytesPerCycle)
                + reduce * target.workerContexts
            temporary = max(temporary, outputs * 4 + stages * chunk * 4 + (p.hasBias ? chunk * bytes : 0))
        }
        plan.temporaryBytesPerTile = temporary
        return plan
    }
}

/// A size per ``ConvAxis``, without allocating (the planner evaluates many thousands of plans).
private struct AxisSizes {
    private var batch = 0, group = 0, outputChannel = 0, inputChannel = 0, row = 0, column = 0

    /// Sizes in ``ConvAxis`` case order.
    init(_ values: [Int]) {
        for (axis, value) in zip(ConvAxis.allCases, values) { self[axis] = value }
    }

    subscript(axis: ConvAxis) -> Int {
        get {
            switch axis {
            case .batch: batch
            case .group: group
            case .outputChannel: outputChannel
            case .inputChannel: inputChannel
            case .row: row
            case .column: column
            }
        }
        set {
            switch axis {
            case .batch: batch = newValue
            case .group: group = newValue
            case .outputChannel: outputChannel = newValue
            case .inputChannel: inputChannel = newValue
            case .row: row = newValue
            case .column: column = newValue
            }
        }
    }
}
