import TesseraGraph

extension OpBuilder {
    /// A 2-D convolution: input `[N, C, H, W]`, weights `[O, C / groups, kH, kW]`, optional bias `[O]`
    /// (given exactly when `parameters.hasBias`), all of `parameters.elementType`; returns a new output
    /// `[N, O, oH, oW]` mapped as the plan computes it: a view of one new variable `name` stored tile part
    /// by tile part, so each tile's part is one contiguous block.
    ///
    /// Planned by ``ConvPlanner`` under `options` (default: the builder's); float16 is accumulated in
    /// float32 and rounded once. Throws `shapeMismatch`/`typeMismatch` for operands that do not match the
    /// parameters, `badParameter` for invalid parameters, `doesNotFit` when no plan fits the budget.
    ///
    /// With `activation`, the vertices that write the output apply it to what they wrote while it is in
    /// cache (the results of a separate activation step, roundings included, without a step of its own).
    public func conv2d(_ input: Tensor, weights: Tensor, bias: Tensor? = nil, parameters: ConvParameters,
                       activation: Activation? = nil, options: OpOptions? = nil, name: String) throws(OpError) -> Tensor {
        try convolution(input, weights: weights, bias: bias, parameters: parameters, activation: activation, options: options,
                        kind: "conv", name: name)
    }

    /// ``conv2d(_:weights:bias:parameters:activation:options:name:)``, recorded as an operation of `kind`.
    func convolution(_ input: Tensor, weights: Tensor, bias: Tensor?, parameters: ConvParameters, activation: Activation? = nil,
                     options: OpOptions?, kind: String, name: String) throws(OpError) -> Tensor {
        let p = parameters
        try p.validate(op: name)
        try checkConvOperand(name, "input", input, shape: p.inputShape, type: p.elementType)
        try checkConvOperand(name, "weights", weights, shape: p.weightsShape, type: p.elementType)
        guard (bias != nil) == p.hasBias else {
            throw .badParameter(op: name, detail: p.hasBias ? "parameters have a bias but no bias tensor was given"
                                                       : "a bias tensor \(bias!.shape) was given but the parameters have no bias")
        }
        if let bias { try checkConvOperand(name, "bias", bias, shape: [p.outputChannels], type: p.elementType) }
        let plan = try ConvPlanner.shared.plan(p, target: graph.target, options: options ?? self.options, op: name)
        let (g, cg, og) = (p.groups, p.inputChannelsPerGroup, p.outputChannelsPerGroup)
        let built = try building(name) { () throws(GraphError) in
            // The input the plan's (stride-folded) parameters read.
            var planned = input
            for d in 0..<2 where plan.parameters.stride[d] != p.stride[d] { planned = try planned.subSample(p.stride[d], dimension: 2 + d) }
            return try buildConvolution(
                plan, input: planned.reshape([p.batch, g, cg] + plan.parameters.inputField),
                weights: weights.reshape([g, og, cg] + p.kernel),
                bias: bias?.reshape([g, og]), activation: activation?.function, name: name).reshape(p.outputShape)
        }
        var output = built
        if p.outputField.allSatisfy({ $0 == 1 }), try isScattered(built) { output = try regrouped(built, name: "\(name)/regrouped") }
        record(OperationPlan(name: name, kind: kind, partition: plan.summary + activationNote(activation), tilesUsed: plan.tilesUsed,
                             modelledCycles: plan.totalCycles, temporaryBytesPerTile: plan.temporaryBytesPerTile))
        return output
    }

    /// Whether `tensor` lies on its tiles in pieces of fewer than ``NormCost/minimumBlockItems``
    /// elements on average.
    private func isScattered(_ tensor: Tensor) throws(OpError) -> Bool {
        let pieces = try tileRegions(of: tensor).reduce(0) { $0 + $1.ranges.count }
        return pieces * NormCost.minimumBlockItems > tensor.elementCount
    }

    /// `tensor` copied into a new variable `name` of consecutive blocks of at least
    /// ``NormCost/minimumBlockItems`` elements on tiles spread among those holding it. A fully
    /// connected layer's output stored tile part by tile part is a run of a few channels per image
    /// and part; its readers (the next layer's tiles, a channel scale's) would each gather it in
    /// hundreds of tiny copies, as poplin regroups an operand before a layer that needs another layout.
    private func regrouped(_ tensor: Tensor, name: String) throws(OpError) -> Tensor {
        let copy = graph.addVariable(tensor.elementType, tensor.shape, name: name)
        try mapNormPieces(copy.flatten(), try normBlockPieces(count: tensor.elementCount, over: tensor), op: name)
        append(.copy(from: tensor, to: copy))
        return copy
    }

    /// Throws `shapeMismatch`/`typeMismatch` naming `op` and `role` unless `tensor` has `shape` and `type`.
    func checkConvOperand(_ op: String, _ role: String, _ tensor: Tensor, shape: [Int], type: ElementType) throws(OpError) {
        guard tensor.shape == shape else {
            throw .shapeMismatch(op: op, detail: "\(role) has shape \(tensor.shape), expected \(shape)")
        }
        guard tensor.elementType == type else {
            throw .typeMismatch(op: op, detail: "\(role) is \(tensor.elementType), expected \(type)")
        }
    }

    /// Adds the vertices of `plan`, appends its steps and returns the new output `[N, G, O/G, oH, oW]`.
    ///
    /// Views: `input [N, G, C/G, H, W]`, `weights [G, O/G, C/G, kH, kW]`, `bias [G, O/G]`. The output is
    /// a view of one variable `name` stored part by part in tile order (each tile's output part one
    /// contiguous block), so every vertex writes its part in place. With an input-channel split the
    /// first step writes float32 partials (variable `name/partials`, each tile's part one block) and the
    /// second sums them on the neighbouring tiles that made them.
    func buildConvolution(_ plan: ConvPlan, input: Tensor, weights: Tensor, bias: Tensor?, activation: UnaryFunction? = nil,
                          name: String) throws(GraphError) -> Tensor {
        let p = plan.parameters
        let stages = plan.inputChannelSplit
        let outputShape = [p.batch, p.groups, p.outputChannelsPerGroup] + p.outputField
        let storage = graph.addVariable(p.elementType, [outputShape.reduce(1, *)], name: name)
        let partials = stages > 1 ? graph.addVariable(.float32, [stages * storage.elementCount], name: "\(name)/partials") : nil
        let convSet = graph.addComputeSet("\(name)/conv")
        let reduceSet = stages > 1 ? graph.addComputeSet("\(name)/reduce") : nil
        let axes: [ConvAxis] = [.batch, .group, .outputChannel, .row, .column]
        let parts = axes.map { plan.parts($0) }, inputChannelParts = plan.parts(.inputChannel)
        let boxes = parts.map { $0.count }.reduce(1, *)
        var boxIndex = 0, offset = 0, boxOffsets: [Int] = []
        // Every part vertex of the convolution has the same fields (types and bias alike), and
        // neighbouring parts mostly the same codelet.
        var convFields: [Field]?, lastCodelet: (value: ConvPartialCodelet, boxed: any Codelet)?
        /// Adds the boxes under `prefix` (ranges of the first `prefix.count` axes), box by box in tile order.
        func addBoxes(_ prefix: [Range<Int>]) throws(GraphError) {
            guard prefix.count == axes.count else {
                for part in parts[prefix.count] { try addBoxes(prefix + [part]) }
                return
            }
            let tile = plan.firstTile(ofBox: boxIndex, of: boxes, target: graph.target)
            boxIndex += 1
            let box = prefix, count = box.reduce(1) { $0 * $1.count }
            for (stage, i) in inputChannelParts.enumerated() {
                // The box's part of the output, or its stage's of the partials (`[stages, count]` from
                // `offset · stages`), one block on tile `tile + stage`, in the box's row-major order.
                let (destination, start) = partials.map { ($0, (offset * stages) + stage * count) } ?? (storage, offset)
                let part = start..<(start + count)
                try graph.setTileMapping(destination, positions: [part], tile: tile + stage)
                try addConvVertex(convSet, plan, tile: tile + stage, input: input, weights: weights, bias: stages == 1 ? bias : nil,
                                  activation: stages == 1 ? activation : nil, output: (destination, part), box: box, i: i,
                                  fields: &convFields, lastCodelet: &lastCodelet)
            }
            if let partials, let reduceSet {
                try addReduction(reduceSet, tiles: tile..<(tile + stages), box: box, partials: partials, storage: storage, offset: offset,
                                 bias: bias, activation: activation)
            }
            boxOffsets.append(offset)
            offset += count
        }
        try addBoxes([])
        append(.execute(convSet))
        if let reduceSet { append(.execute(reduceSet)) }
        return Self.outputView(of: storage, parts: parts, boxOffsets: boxOffsets, shape: outputShape)
    }

    /// The output `[N, G, O/G, oH, oW]` as a view of `storage`, in which the box of the plan's parts
    /// (`parts`, per axis) numbered `b` in row-major order of their indices starts at `boxOffsets[b]`:
    /// a run per image, channel and row part of each box (per output row and column part when the
    /// columns are split), made directly rather than by concatenating every box's view.
    private static func outputView(of storage: Tensor, parts: [[Range<Int>]], boxOffsets: [Int], shape: [Int]) -> Tensor {
        // For the batch, group and channel axes and each position, the index of the part holding it.
        let partOf = parts[..<3].map { axisParts in axisParts.enumerated().flatMap { k, part in [Int](repeating: k, count: part.count) } }
        var builder = ElementRunBuilder()
        guard let base = storage.elements.runs.first else {
            return Tensor(graphID: storage.graphID, elementType: storage.elementType, shape: shape, elements: builder.build())
        }
        let columns = parts[4]
        for n in 0..<shape[0] {
            let (pn, rn) = (partOf[0][n], parts[0][partOf[0][n]])
            for g in 0..<shape[1] {
                let (pg, rg) = (partOf[1][g], parts[1][partOf[1][g]])
                for o in 0..<shape[2] {
                    let (po, ro) = (partOf[2][o], parts[2][partOf[2][o]])
                    for (pr, rr) in parts[3].enumerated() {
                        let box = ((pn * parts[1].count + pg) * parts[2].count + po) * parts[3].count + pr
                        let firstRow = (((n - rn.lowerBound) * rg.count + g - rg.lowerBound) * ro.count + o - ro.lowerBound) * rr.count
                        // Whole rows lie one after another in the box and in the view: one run for the part's rows.
                        if columns.count == 1 {
                            let start = base.start + boxOffsets[box] + firstRow * columns[0].count
                            builder.append(ElementRun(data: base.data, start: start, count: rr.count * columns[0].count, stride: 1))
                            continue
                        }
                        for row in firstRow..<(firstRow + rr.count) {
                            for (c, part) in columns.enumerated() {
                                let start = base.start + boxOffsets[box * columns.count + c] + row * part.count
                                builder.append(ElementRun(data: base.data, start: start, count: part.count, stride: 1))
                            }
                        }
                    }
                }
            }
        }
        return Tensor(graphID: storage.graphID, elementType: storage.elementType, shape: shape, elements: builder.build())
    }

    /// The one convolution vertex of a tile: outputs `box` (`[batch, group, outputChannel, row, column]`
    /// ranges) over input channels `i` (of each group), its work divided among the plan's worker contexts.
    /// `fields` keeps the codelet's fields from the first vertex for the others, and `lastCodelet`
    /// the last codelet added: a vertex whose codelet equals it shares its box (a convolution's
    /// interior parts have the same sizes, and a model hundreds of thousands of such vertices).
    private func addConvVertex(_ computeSet: ComputeSet, _ plan: ConvPlan, tile: Int, input: Tensor, weights: Tensor, bias: Tensor?,
                               activation: UnaryFunction?, output: (of: Tensor, part: Range<Int>), box: [Range<Int>], i: Range<Int>,
                               fields: inout [Field]?, lastCodelet: inout (value: ConvPartialCodelet, boxed: any Codelet)?) throws(GraphError) {
        let p = plan.parameters
        let (n, g, o, r, c) = (box[0], box[1], box[2], box[3], box[4])
        let rows = p.inputWindow(of: r, dimension: 0), columns = p.inputWindow(of: c, dimension: 1)
        let geometry = ConvVertexGeometry(p, batch: n, groups: g, outputChannels: o, inputChannels: i, rows: r, columns: c)
        var codelet = ConvPartialCodelet(geometry: geometry, method: plan.method, workerAxis: plan.workerAxis, workers: plan.workerSplit,
                                         inputType: p.elementType, outputType: output.of.elementType, hasBias: bias != nil)
        codelet.activation = activation
        // The boxes of the fields, in the codelet's field order: the graph keeps them as boxes.
        var boxes = [(of: input, box: [n, g, i, rows.field, columns.field]), (of: weights, box: [g, o, i, 0..<p.kernel[0], 0..<p.kernel[1]])]
        if let bias { boxes.append((bias, [g, o])) }
        boxes.append((output.of, [output.part]))
        if fields == nil { fields = codelet.fields }
        if lastCodelet?.value != codelet { lastCodelet = (codelet, codelet) }
        try graph.addVertex(computeSet, lastCodelet!.boxed, tile: tile, fields: fields!, boxes: boxes)
    }

    /// The reduction of output `box`'s partials into its output, which `storage` holds from `offset`
    /// (the box's partials `[stages, count]`, in the box's order, are `partials` from
    /// `offset · stages`): its rows cut into a chunk per tile of `tiles`
    /// (``ConvPlan/reductionChunks(count:rowLength:stages:)``), each chunk mapped to and summed on
    /// its tile by one vertex whose work the worker contexts share.
    private func addReduction(_ computeSet: ComputeSet, tiles: Range<Int>, box: [Range<Int>], partials: Tensor, storage: Tensor,
                              offset: Int, bias: Tensor?, activation: UnaryFunction?) throws(GraphError) {
        let stages = tiles.count
        let shape = box.map { $0.count }, count = shape.reduce(1, *)
        // The box's channels of the bias, `[G, O/G]` flattened: each chunk connects them all.
        // (Without a bias no field reads operand 1, and the partials stand in for it.)
        let biasChannels = bias.map { ViewBox.flatRanges([box[1], box[2]], in: $0.shape) } ?? []
        var connections = VertexRegions(operands: [partials, bias?.flatten() ?? partials, storage])
        // Chunks of whole output rows, so that the next operations' windows and regions meet the
        // tiles' parts along rows (a row cut between two tiles splits every copy that reads it).
        let chunks = ConvPlan.reductionChunks(count: count, rowLength: shape[shape.count - 1], stages: stages)
        var fields: [Field]?
        for (stage, chunk) in chunks.enumerated() {
            let tile = tiles.lowerBound + stage
            let out = (offset + chunk.lowerBound)..<(offset + chunk.upperBound)
            try graph.setTileMapping(storage, positions: [out], tile: tile)
            let workers = ConvPlan.cut(chunk, into: graph.target.workerContexts).count
            let biasLayout = bias == nil ? nil : ConvReduceBias(plane: shape[3] * shape[4], channels: shape[1] * shape[2], first: chunk.lowerBound)
            var codelet = ConvReduceCodelet(stages: stages, ownStage: stage, workers: workers, outputType: storage.elementType, bias: biasLayout)
            codelet.activation = activation
            // Fields in the codelet's order: the other stages' partials of the chunk, the tile's
            // own stage's (which it wrote there), the bias, the output.
            let first = offset * stages + chunk.lowerBound
            let partialsOf = (0..<stages).map { (first + $0 * count)..<(first + $0 * count + chunk.count) }
            connections.removeFields()
            connections.addField(operand: 0, (partialsOf[..<stage] + partialsOf[(stage + 1)...])[...])
            connections.addField(operand: 0, partialsOf[stage])
            if bias != nil { connections.addField(operand: 1, biasChannels[...]) }
            connections.addField(operand: 2, out)
            if fields == nil { fields = codelet.fields }
            try graph.addVertex(computeSet, codelet, tile: tile, fields: fields!, regions: connections)
        }
    }
}
