import TesseraGraph

extension ConvPlan {
    /// The first tile of output box `index` of the plan's `boxes` (in row-major order of its batch,
    /// group, output-channel, row and column parts): boxes spread evenly over the whole chip, each
    /// on `inputChannelSplit` neighbouring tiles, so that idle tiles are scattered rather than in
    /// one block and the host threads (which own contiguous blocks of tiles) get equal shares.
    func firstTile(ofBox index: Int, of boxes: Int, target: Target) -> Int {
        index * (target.tiles / inputChannelSplit) / boxes * inputChannelSplit
    }
}

extension OpBuilder {
    /// Fewest bytes of a chunk of weights that ``createConvWeights(parameters:options:name:)`` puts on one tile.
    static let minimumWeightChunkBytes = 2048

    /// New weights `[O, C / groups, kH, kW]` (variable `name`) for a convolution of `parameters`,
    /// mapped where its plan under `options` reads them, as poplin's `createWeights` does: the part
    /// of the weights that a set of tiles reads (one group, output-channel and input-channel part)
    /// is spread over those tiles in consecutive chunks of at least 2 KiB, so each tile gathers its
    /// weights from a few tiles instead of a slice from every tile of a linear mapping.
    public func createConvWeights(parameters p: ConvParameters, options: OpOptions? = nil, name: String) throws(OpError) -> Tensor {
        try p.validate(op: name)
        let plan = try ConvPlanner.shared.plan(p, target: graph.target, options: options ?? self.options, op: name)
        let weights = graph.addVariable(p.elementType, p.weightsShape, name: name)
        let (batch, rows, columns) = (plan.parts(.batch).count, plan.parts(.row).count, plan.parts(.column).count)
        let groups = plan.parts(.group), outputs = plan.parts(.outputChannel), inputs = plan.parts(.inputChannel)
        let boxes = batch * groups.count * outputs.count * rows * columns
        let taps = p.kernel.reduce(1, *), cg = p.inputChannelsPerGroup, og = p.outputChannelsPerGroup
        var rotation = graph.data.count
        try building(name) { () throws(GraphError) in
            for (gi, g) in groups.enumerated() {
                for (oi, o) in outputs.enumerated() {
                    // The first tiles of the boxes that read this group and output-channel part.
                    var users: [Int] = []
                    for b in 0..<batch {
                        for r in 0..<(rows * columns) {
                            let index = ((b * groups.count + gi) * outputs.count + oi) * rows * columns + r
                            users.append(plan.firstTile(ofBox: index, of: boxes, target: graph.target))
                        }
                    }
                    for (stage, i) in inputs.enumerated() {
                        // The part's weights, output channel after output channel: input channels `i` × taps each.
                        let ranges = g.flatMap { group in
                            o.map { channel in ((group * og + channel) * cg + i.lowerBound) * taps..<((group * og + channel) * cg + i.upperBound) * taps }
                        }
                        let total = ranges.count * i.count * taps
                        let chunks = max(1, min(users.count, total * p.elementType.byteSize / Self.minimumWeightChunkBytes))
                        // Chunks start at a user that moves on from part to part and layer to layer,
                        // so that no tile collects the first chunk of every part.
                        rotation += 1
                        for k in 0..<chunks {
                            let positions = Self.subranges(of: ranges, each: i.count * taps, from: total * k / chunks, to: total * (k + 1) / chunks)
                            let user = (k * users.count / chunks + rotation * 7919) % users.count
                            try graph.setTileMapping(weights, positions: positions, tile: users[user] + stage)
                        }
                    }
                }
            }
        }
        return weights
    }

    /// Positions `begin..<end` of the concatenation of `ranges` (each `length` long), as ranges of the originals.
    private static func subranges(of ranges: [Range<Int>], each length: Int, from begin: Int, to end: Int) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var position = begin
        while position < end {
            let range = ranges[position / length], offset = position % length
            let count = min(length - offset, end - position)
            result.append(range.lowerBound + offset..<range.lowerBound + offset + count)
            position += count
        }
        return result
    }
}
