import TesseraGraph

/// One operand of the coefficient step: a one-dimensional view holding `width` values per
/// coefficient row, the tensor it reads, and which positions of that tensor a block of rows reads.
struct CoefficientInput {
    /// Field of `NormCoefficientsCodelet` the view connects to.
    var field: String
    /// `rows · width` values in row order (possibly a broadcast view of `base`).
    var view: Tensor
    /// The tensor the view reads, as mapped by its owner.
    var base: Tensor
    /// Positions of `base` that rows `range` read.
    var positions: (Range<Int>) -> [Range<Int>]

    /// The positions `range mod modulus` as at most two ranges (all of `0..<modulus` when `range` covers it).
    static func wrapped(_ range: Range<Int>, modulo modulus: Int) -> [Range<Int>] {
        if range.count >= modulus { return [0..<modulus] }
        let begin = range.lowerBound % modulus, end = (range.upperBound - 1) % modulus + 1
        return begin < end ? [begin..<end] : [begin..<modulus, 0..<end]
    }
}

extension OpBuilder {
    /// Adds the coefficient step `<name>/coefficients`: `rows` coefficient pairs `a`, `b` (float32,
    /// spread in blocks over the tiles holding `x`), and with `writesMoments` the float32 mean and
    /// variance they came from, from the operands `inputs`.
    func normCoefficients(rows: Int, over x: Tensor, source: MomentSource, parameterType: ElementType, epsilon: Float,
                          writesMoments: Bool, inputs: [CoefficientInput], name: String, op: String, steps: inout NormSteps)
        throws(OpError) -> (a: Tensor, b: Tensor, mean: Tensor?, variance: Tensor?) {
        let a = graph.addVariable(.float32, [rows], name: "\(name)/a"), b = graph.addVariable(.float32, [rows], name: "\(name)/b")
        let mean = writesMoments ? graph.addVariable(.float32, [rows], name: "\(name)/mean") : nil
        let variance = writesMoments ? graph.addVariable(.float32, [rows], name: "\(name)/variance") : nil
        let outputs = [("a", a), ("b", b)] + [("meanOut", mean), ("varianceOut", variance)].compactMap { pair in pair.1.map { (pair.0, $0) } }
        let pieces = try normBlockPieces(count: rows, over: x.flatten())
        for (_, tensor) in outputs { try mapNormPieces(tensor, pieces, op: op) }
        var owners: [NormOwners] = []
        for input in inputs { owners.append(try normOwners(input.base, &steps)) }
        let codelet = NormCoefficientsCodelet(source: source, parameterType: parameterType, epsilon: epsilon, writesMoments: writesMoments)
        // Where each of the codelet's fields is among the inputs and then the outputs.
        let named = inputs.map { $0.field } + outputs.map { $0.0 }
        let fieldOrder = codelet.fields.map { field in named.firstIndex(of: field.name)! }
        let cs = graph.addComputeSet("\(name)/coefficients")
        var cost = NormStepCost(target: graph.target)
        for piece in pieces {
            let range = piece.positions
            var views: [(of: Tensor, positions: [Range<Int>])] = []
            for input in inputs {
                let width = input.view.elementCount / rows
                views.append((input.view, [width * range.lowerBound..<width * range.upperBound]))
            }
            for (_, tensor) in outputs { views.append((tensor, [range])) }
            let connections = fieldOrder.map { views[$0] }
            for (input, owner) in zip(inputs, owners) {
                for positions in input.positions(range) { cost.read(owner, positions, on: piece.tile) }
            }
            try addNormVertex(cs, codelet, tile: piece.tile, regions: connections, cost: &cost, op: op)
        }
        appendNormStep(cs, cost, to: &steps)
        let perTile = (rows + max(1, cost.tiles.count) - 1) / max(1, cost.tiles.count)
        steps.temporaryBytesPerTile = max(steps.temporaryBytesPerTile, perTile * 8)
        return (a, b, mean, variance)
    }

    /// Adds the normalisation step `<name>/normalise`: `y = a[row]·x + b[row]` with rows of
    /// `rowLength` elements of flattened `x`; `a` and `b` are float32 `[R]` coefficient vectors and
    /// row `r` uses coefficient `r mod R` (R = C for batch norm's per-channel coefficients read
    /// through the batch, R = N·C for group norm). `y` has the type, shape and tile mapping of `x`.
    /// A tile's vertex takes its regions of `x` together (``normLayout(of:op:)``) while the
    /// coefficients they use are one range, which the tile receives once. With `activation`, the
    /// vertices apply it to `y` as they write it.
    func normApply(_ x: Tensor, rowLength: Int, a: Tensor, b: Tensor, activation: Activation? = nil, name: String, op: String,
                   steps: inout NormSteps) throws(OpError) -> Tensor {
        let aOwners = try normOwners(a, &steps), bOwners = try normOwners(b, &steps)
        let cs = graph.addComputeSet("\(name)/normalise")
        var cost = NormStepCost(target: graph.target)
        let layout = try normLayout(of: x, op: op)
        let y = try normOutput(layout, like: x, name: name)
        for group in layout.groups {
            for vertex in AffineVertex.split(group.regions, rowLength: rowLength, coefficients: a.elementCount) {
                cost.read(aOwners, vertex.coefficients, on: group.tile)
                cost.read(bOwners, vertex.coefficients, on: group.tile)
                let codelet = SegmentAffineCodelet(elementType: x.elementType, rowLength: rowLength, segments: vertex.segments,
                                                   activation: activation?.function)
                let stored = layout.fieldPositions(vertex.regions, in: group)
                let connections = [(of: layout.source, positions: stored), (of: a, positions: [vertex.coefficients]),
                                   (of: b, positions: [vertex.coefficients]), (of: y.field, positions: stored)]
                try addNormVertex(cs, codelet, tile: group.tile, regions: connections, cost: &cost, op: op)
            }
        }
        appendNormStep(cs, cost, to: &steps)
        return y.view
    }

    /// Appends the steps of a normalisation or pooling operation and records its plan, after
    /// checking that its busiest tile's temporaries fit the temporary-memory budget (when they do
    /// not, no step is appended).
    func finishNorm(_ name: String, op: String, kind: String, partition: String, _ steps: NormSteps) throws(OpError) {
        let budget = try temporaryBudget(op: op)
        guard steps.temporaryBytesPerTile <= budget else {
            throw .doesNotFit(op: op, neededBytes: steps.temporaryBytesPerTile, availableBytes: budget, bestPlan: partition)
        }
        for program in steps.programs { append(program) }
        record(OperationPlan(name: name, kind: kind, partition: partition, tilesUsed: steps.tiles.count,
                             modelledCycles: steps.cycles, temporaryBytesPerTile: steps.temporaryBytesPerTile))
    }
}
