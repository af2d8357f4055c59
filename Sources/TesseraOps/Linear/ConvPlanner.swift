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
        guard target.tiles > 0, target.bytesPerTile > 0 else {
            throw .badParameter(op: op, detail: "target '\(target.name)' has \(target.tiles) tiles of \(target.bytesPerTile) bytes")
        }
        let parameters = parameters.strideFolded ?? parameters
        let budget = try options.temporaryBudget(bytesPerTile: target.bytesPerTile, op: op)
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
        let shape = PlannedShape(p)
        var best: PlanCandidate?, smallest: PlanCandidate?
        func consider(_ plan: PlanCandidate) {
            if plan.temporaryBytesPerTile <= budget,
               best.map({ (plan.totalCycles, plan.temporaryBytesPerTile, plan.tilesUsed) < ($0.totalCycles, $0.temporaryBytesPerTile, $0.tilesUsed) }) ?? true {
                best = plan
            }
            if smallest.map({ (plan.temporaryBytesPerTile, plan.totalCycles) < ($0.temporaryBytesPerTile, $0.totalCycles) }) ?? true {
                smallest = plan
            }
        }
        let workerAxes: [ConvAxis] = [.row, .batch, .column, .outputChannel, .group]
        let axisSizes = AxisSizes(sizes)
        var splits = AxisSizes([1, 1, 1, 1, 1, 1])
        func descend(_ axis: Int, tiles: Int) {
            guard axis < 6 else {
                // Worker axes with a part of one element leave the vertex whole; with none longer, the vertex stays whole.
                for method in ConvMethod.allCases {
                    var tried = false
                    for workerAxis in workerAxes where convCeilDiv(axisSizes[workerAxis], splits[workerAxis]) > 1 {
                        tried = true
                        consider(evaluate(shape, sizes: axisSizes, splits: splits, method: method, workerAxis: workerAxis, target: target))
                    }
                    if !tried { consider(evaluate(shape, sizes: axisSizes, splits: splits, method: method, workerAxis: .row, target: target)) }
                }
                return
            }
            for split in candidates[axis] {
                guard tiles * split <= target.tiles else { break }
                splits[ConvAxis.allCases[axis]] = split
                descend(axis + 1, tiles: tiles * split)
            }
        }
        descend(0, tiles: 1)
        return Outcome(fastest: best.map { $0.plan(p) }, smallest: smallest!.plan(p))
    }

    /// The candidate with these tile splits, method and worker axis, with its costs modelled.
    private static func evaluate(_ p: PlannedShape, sizes: AxisSizes, splits: AxisSizes, method: ConvMethod,
                                 workerAxis: ConvAxis, target: Target) -> PlanCandidate {
        var plan = PlanCandidate(splits: splits, method: method, workerAxis: workerAxis)
        let part = sizes.parts(splits)
        func work(_ box: AxisSizes) -> ConvVertexWork {
            ConvVertexWork(groups: box[.group], inputChannelsPerGroup: box[.inputChannel], outputChannelsPerGroup: box[.outputChannel],
                           positions: box[.batch] * box[.row] * box[.column], kernelPositions: p.taps)
        }
        // Worker split: the tile's part cut along `workerAxis` over the contexts.
        let count = min(target.workerContexts, part[workerAxis])
        var workerBox = part
        workerBox[workerAxis] = convCeilDiv(part[workerAxis], count)
        plan.workerSplit = convCeilDiv(part[workerAxis], workerBox[workerAxis])
        let workerCycles = ConvCycleModel.vertexCycles(method, work(workerBox), type: p.elementType, target: target)
        // One vertex per tile receives the input window of the tile's whole part, shared by its workers.
        let inputBytes = part[.batch] * part[.group] * part[.inputChannel] * p.bytes * p.window(part[.row], 0) * p.window(part[.column], 1)
        let weightBytes = part[.group] * part[.outputChannel] * part[.inputChannel] * p.taps * p.bytes
        let biasBytes = p.hasBias && splits[.inputChannel] == 1 ? part[.group] * part[.outputChannel] * p.bytes : 0
        let outputs = part[.batch] * part[.group] * part[.outputChannel] * part[.row] * part[.column]
        let stages = splits[.inputChannel]
        plan.exchangeCycles = target.exchangeFixedCycles + convCeilDiv(inputBytes + weightBytes + biasBytes, target.exchangeBytesPerCycle)
            + target.syncCycles
        // The vertex writes its part in place (output and partials are stored tile part by tile part).
        plan.computeCycles = workerCycles * target.workerContexts + target.syncCycles
        var temporary = inputBytes + weightBytes + biasBytes + (stages > 1 ? outputs * 4 : 0)
        if stages > 1 {
            let rowLength = part[.column]
            let chunk = min(outputs, ConvPlan.reductionChunkRows(rows: outputs / rowLength, rowLength: rowLength, stages: stages) * rowLength)
            // The other stages' partials of the chunk and the part's channels of the bias; the
            // tile's own stage is read in place.
            let channelBias = p.hasBias ? part[.group] * part[.outputChannel] * p.bytes : 0
            let received = (stages - 1) * chunk * 4 + channelBias
            let reduce = ConvCycleModel.reduceCycles(stages: stages, count: convCeilDiv(chunk, target.workerContexts), target: target)
            plan.reductionCycles = 2 * target.syncCycles + target.exchangeFixedCycles + convCeilDiv(received, target.exchangeBytesPerCycle)
                + reduce * target.workerContexts
            temporary = max(temporary, outputs * 4 + received)
        }
        plan.temporaryBytesPerTile = temporary
        return plan
    }
}

/// What the planner's cost model reads of a convolution's parameters, as plain values: the
/// search evaluates many thousands of candidates, and copying the parameters' arrays into each
/// costs more than modelling it.
private struct PlannedShape {
    var elementType: ElementType
    var bytes: Int
    var taps: Int
    var hasBias: Bool
    private var field: (Int, Int), stride: (Int, Int), dilatedKernel: (Int, Int)

    init(_ p: ConvParameters) {
        elementType = p.elementType
        bytes = p.elementType.byteSize
        taps = p.kernel[0] * p.kernel[1]
        hasBias = p.hasBias
        field = (p.inputField[0], p.inputField[1])
        stride = (p.stride[0], p.stride[1])
        dilatedKernel = (p.dilatedKernel[0], p.dilatedKernel[1])
    }

    /// Input rows (`dim` 0) or columns (1) of the window of a run of `outputs` output rows or columns.
    func window(_ outputs: Int, _ dim: Int) -> Int {
        dim == 0 ? min(field.0, (outputs - 1) * stride.0 + dilatedKernel.0) : min(field.1, (outputs - 1) * stride.1 + dilatedKernel.1)
    }
}

/// A plan the search considers: its splits, method and modelled costs, made a ``ConvPlan`` only
/// when chosen.
private struct PlanCandidate {
    var splits: AxisSizes
    var method: ConvMethod
    var workerAxis: ConvAxis
    var workerSplit = 1
    var computeCycles = 0, exchangeCycles = 0, reductionCycles = 0, temporaryBytesPerTile = 0

    init(splits: AxisSizes, method: ConvMethod, workerAxis: ConvAxis) {
        self.splits = splits
        self.method = method
        self.workerAxis = workerAxis
    }

    var totalCycles: Int { computeCycles + exchangeCycles + reductionCycles }
    var tilesUsed: Int { splits.product }

    /// The plan of convolution `p`.
    func plan(_ p: ConvParameters) -> ConvPlan {
        ConvPlan(parameters: p, method: method, batchSplit: splits[.batch], groupSplit: splits[.group],
                 outputChannelSplit: splits[.outputChannel], inputChannelSplit: splits[.inputChannel], rowSplit: splits[.row],
                 columnSplit: splits[.column], workerAxis: workerAxis, workerSplit: workerSplit, tilesUsed: tilesUsed,
                 computeCycles: computeCycles, exchangeCycles: exchangeCycles, reductionCycles: reductionCycles,
                 temporaryBytesPerTile: temporaryBytesPerTile)
    }
}

/// A size per ``ConvAxis``, without allocating (the planner evaluates many thousands of plans).
private struct AxisSizes {
    private var batch = 0, group = 0, outputChannel = 0, inputChannel = 0, row = 0, column = 0

    /// Sizes in ``ConvAxis`` case order.
    init(_ values: [Int]) {
        for (axis, value) in zip(ConvAxis.allCases, values) { self[axis] = value }
    }

    /// The product of the sizes.
    var product: Int { batch * group * outputChannel * inputChannel * row * column }

    /// Each size divided by the one of `splits`, rounded up: a tile's part.
    func parts(_ splits: AxisSizes) -> AxisSizes {
        var part = self
        (part.batch, part.group) = (convCeilDiv(batch, splits.batch), convCeilDiv(group, splits.group))
        (part.outputChannel, part.inputChannel) = (convCeilDiv(outputChannel, splits.outputChannel), convCeilDiv(inputChannel, splits.inputChannel))
        (part.row, part.column) = (convCeilDiv(row, splits.row), convCeilDiv(column, splits.column))
        return part
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
