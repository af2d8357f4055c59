import TesseraGraph

extension OpBuilder {
    /// A 2-D convolution: input `[N, C, H, W]`, weights `[O, C / groups, kH, kW]`, optional bias `[O]`
    /// (given exactly when `parameters.hasBias`), all of `parameters.elementType`; returns a new output
    /// `[N, O, oH, oW]` mapped as the plan computes it.
    ///
    /// Planned by ``ConvPlanner`` under `options` (default: the builder's); float16 is accumulated in
    /// float32 and rounded once. Throws `shapeMismatch`/`typeMismatch` for operands that do not match the
    /// parameters, `badParameter` for invalid parameters, `doesNotFit` when no plan fits the budget.
    public func conv2d(_ input: Tensor, weights: Tensor, bias: Tensor? = nil, parameters: ConvParameters,
                       options: OpOptions? = nil, name: String) throws(OpError) -> Tensor {
        try convolution(input, weights: weights, bias: bias, parameters: parameters, options: options, kind: "conv", name: name)
    }

    /// ``conv2d(_:weights:bias:parameters:options:name:)``, recorded as an operation of `kind`.
    func convolution(_ input: Tensor, weights: Tensor, bias: Tensor?, parameters: ConvParameters,
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
        let output = graph.addVariable(p.elementType, p.outputShape, name: name)
        try building(name) { () throws(GraphError) in
            try buildConvolution(
                plan, input: input.reshape([p.batch, g, cg] + p.inputField),
                weights: weights.reshape([g, og, cg] + p.kernel),
                bias: bias?.reshape([g, og]),
                output: output.reshape([p.batch, g, og] + p.outputField), name: name)
        }
        record(OperationPlan(name: name, kind: kind, partition: plan.summary, tilesUsed: plan.tilesUsed,
                             modelledCycles: plan.totalCycles, temporaryBytesPerTile: plan.temporaryBytesPerTile))
        return output
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

    /// Adds the vertices of `plan` and appends its steps.
    ///
    /// Views: `input [N, G, C/G, H, W]`, `weights [G, O/G, C/G, kH, kW]`, `bias [G, O/G]`,
    /// `output [N, G, O/G, oH, oW]` (not yet mapped: each output part is mapped to the tile that
    /// writes it). With an input-channel split the first step writes float32 partials
    /// `[splits, N, G, O/G, oH, oW]` and the second sums them on the neighbouring tiles that made them.
    func buildConvolution(_ plan: ConvPlan, input: Tensor, weights: Tensor, bias: Tensor?, output: Tensor, name: String) throws(GraphError) {
        let stages = plan.inputChannelSplit
        let partials = stages > 1 ? graph.addVariable(.float32, [stages] + output.shape, name: "\(name)/partials") : nil
        let convSet = graph.addComputeSet("\(name)/conv")
        let reduceSet = stages > 1 ? graph.addComputeSet("\(name)/reduce") : nil
        var tile = 0
        for n in plan.parts(.batch) {
            for g in plan.parts(.group) {
                for o in plan.parts(.outputChannel) {
                    for r in plan.parts(.row) {
                        for c in plan.parts(.column) {
                            let box = [n, g, o, r, c]
                            for (stage, i) in plan.parts(.inputChannel).enumerated() {
                                let destination = try partials?.index(stage) ?? output
                                try graph.setTileMapping(destination.slice(box), tile: tile + stage)
                                for part in workerParts(plan, box) {
                                    try addConvVertex(convSet, plan, tile: tile + stage, input: input, weights: weights,
                                                      bias: stages == 1 ? bias : nil, output: destination,
                                                      n: part[0], g: part[1], o: part[2], i: i, r: part[3], c: part[4])
                                }
                            }
                            if let partials, let reduceSet {
                                try addReduction(reduceSet, plan, tiles: tile..<(tile + stages), box: box,
                                                 partials: partials, bias: bias, output: output)
                            }
                            tile += stages
                        }
                    }
                }
            }
        }
        append(.execute(convSet))
        if let reduceSet { append(.execute(reduceSet)) }
    }

    /// `box` (`[batch, group, outputChannel, row, column]` ranges) cut along the plan's worker axis.
    private func workerParts(_ plan: ConvPlan, _ box: [Range<Int>]) -> [[Range<Int>]] {
        let index: Int
        switch plan.workerAxis {
        case .batch: index = 0
        case .group: index = 1
        case .outputChannel: index = 2
        case .row: index = 3
        case .column, .inputChannel: index = 4
        }
        return ConvPlan.cut(box[index], into: plan.workerSplit).map { range in
            var part = box
            part[index] = range
            return part
        }
    }

    /// One convolution vertex for outputs `n × g × o × r × c` over input channels `i` (of each group).
    private func addConvVertex(_ computeSet: ComputeSet, _ plan: ConvPlan, tile: Int, input: Tensor, weights: Tensor, bias: Tensor?,
                               output: Tensor, n: Range<Int>, g: Range<Int>, o: Range<Int>, i: Range<Int>,
                               r: Range<Int>, c: Range<Int>) throws(GraphError) {
        let p = plan.parameters
        /// Field rows, used rows, window offset of the field and window size along `dim` for outputs `outputs`.
        func window(_ outputs: Range<Int>, _ dim: Int, before: Int) -> (field: Range<Int>, used: Int, offset: Int, size: Int) {
            let start = outputs.lowerBound * p.stride[dim]
            let end = (outputs.upperBound - 1) * p.stride[dim] + p.dilatedKernel[dim]
            let first = max(0, start - before), last = min(p.inputField[dim], end - before)
            guard last > first else { return (0..<1, 0, 0, end - start) }
            return (first..<last, last - first, first + before - start, end - start)
        }
        let rows = window(r, 0, before: p.padding.top), columns = window(c, 1, before: p.padding.left)
        let geometry = ConvVertexGeometry(
            batch: n.count, groups: g.count, inputChannelsPerGroup: i.count, outputChannelsPerGroup: o.count,
            fieldRows: rows.field.count, fieldColumns: columns.field.count, usedRows: rows.used, usedColumns: columns.used,
            rowOffset: rows.offset, columnOffset: columns.offset, windowRows: rows.size, windowColumns: columns.size,
            outputRows: r.count, outputColumns: c.count, kernel: p.kernel, stride: p.stride, dilation: p.dilation)
        let codelet = ConvPartialCodelet(geometry: geometry, method: plan.method, inputType: p.elementType,
                                         outputType: output.elementType, hasBias: bias != nil)
        var fields: [String: Tensor] = [
            "in": try input.slice([n, g, i, rows.field, columns.field]),
            "weights": try weights.slice([g, o, i, 0..<p.kernel[0], 0..<p.kernel[1]]),
            "out": try output.slice([n, g, o, r, c]),
        ]
        if let bias { fields["bias"] = try bias.slice([g, o]) }
        try graph.addVertex(computeSet, codelet, tile: tile, fields)
    }

    /// The reduction of output `box`'s partials: its elements cut into one chunk per tile of `tiles`,
    /// each chunk mapped to and summed on its tile by up to one vertex per worker context.
    private func addReduction(_ computeSet: ComputeSet, _ plan: ConvPlan, tiles: Range<Int>, box: [Range<Int>],
                              partials: Tensor, bias: Tensor?, output: Tensor) throws(GraphError) {
        let stages = tiles.count
        let outputs = try output.slice(box).flatten()
        let sources = try (0..<stages).map { (stage: Int) throws(GraphError) in try partials.index(stage).slice(box).flatten() }
        let shape = box.map(\.count)
        let biasView = try bias.map { (bias: Tensor) throws(GraphError) in
            try bias.slice([box[1], box[2]]).reshape([1, shape[1], shape[2], 1, 1]).broadcast(to: shape).flatten()
        }
        for (stage, chunk) in ConvPlan.cut(0..<outputs.elementCount, into: stages).enumerated() {
            let tile = tiles.lowerBound + stage
            try graph.setTileMapping(outputs.slice(chunk), tile: tile)
            for piece in ConvPlan.cut(chunk, into: graph.target.workerContexts) {
                var fields: [String: Tensor] = [
                    "partials": try Tensor.concatenate(sources.map { (source: Tensor) throws(GraphError) in try source.slice(piece) }),
                    "out": try outputs.slice(piece),
                ]
                if let biasView { fields["bias"] = try biasView.slice(piece) }
                try graph.addVertex(computeSet, ConvReduceCodelet(stages: stages, outputType: output.elementType, hasBias: bias != nil),
                                    tile: tile, fields)
            }
        }
    }
}
