import TesseraGraph

extension OpBuilder {
    /// 2-D max pooling (PyTorch's `MaxPool2d` without dilation or ceil mode).
    ///
    /// - `x`: activations `[N, C, H, W]`, float32 or float16, every element mapped.
    /// - `kernel`, `stride`, `padding`: `[height, width]`; `stride` defaults to `kernel`; padding
    ///   is implicit (it never wins the maximum) and at most half the kernel, as in PyTorch.
    /// - Returns `[N, C, Ho, Wo]` of `x`'s type, `Ho = ⌊(H + 2·padding − kernel) / stride⌋ + 1`
    ///   (likewise `Wo`); each output row lives on the tile that holds the centre of its windows.
    public func maxPool2d(_ x: Tensor, kernel: [Int], stride: [Int]? = nil, padding: [Int] = [0, 0], name: String) throws(OpError) -> Tensor {
        try pool2d(x, .max, kernel: kernel, stride: stride, padding: padding, kind: "maxPool2d", name: name)
    }

    /// 2-D average pooling (PyTorch's `AvgPool2d` without ceil mode or divisor override).
    ///
    /// - `x`, `kernel`, `stride`, `padding`, result: as ``maxPool2d(_:kernel:stride:padding:name:)``.
    /// - `countIncludePad`: divide by the whole kernel area, counting padding as zeros (true, the
    ///   default, as PyTorch's), or by the number of input elements under the window (false).
    public func avgPool2d(_ x: Tensor, kernel: [Int], stride: [Int]? = nil, padding: [Int] = [0, 0],
                          countIncludePad: Bool = true, name: String) throws(OpError) -> Tensor {
        try pool2d(x, .average(countIncludePad: countIncludePad), kernel: kernel, stride: stride, padding: padding, kind: "avgPool2d", name: name)
    }

    /// Checks the window, maps the output by window centres and adds one step `<name>/pool`
    /// of vertices that each compute a contiguous run of outputs from the input rows it reads.
    private func pool2d(_ x: Tensor, _ function: PoolFunction, kernel: [Int], stride: [Int]?, padding: [Int],
                        kind: String, name: String) throws(OpError) -> Tensor {
        let op = "\(kind) '\(name)'"
        let s = try checkNormActivations(x, op: op)
        let stride = stride ?? kernel
        for (label, values) in [("kernel", kernel), ("stride", stride), ("padding", padding)] where values.count != 2 {
            throw .badParameter(op: op, detail: "\(label) \(values) must have 2 values [height, width]")
        }
        guard kernel.allSatisfy({ $0 >= 1 }) else { throw .badParameter(op: op, detail: "kernel \(kernel) must be ≥ 1") }
        guard stride.allSatisfy({ $0 >= 1 }) else { throw .badParameter(op: op, detail: "stride \(stride) must be ≥ 1") }
        guard padding.allSatisfy({ $0 >= 0 }), padding[0] <= kernel[0] / 2, padding[1] <= kernel[1] / 2 else {
            throw .badParameter(op: op, detail: "padding \(padding) must be ≥ 0 and at most half of kernel \(kernel)")
        }
        let g = PoolGeometry(kernelH: kernel[0], kernelW: kernel[1], strideH: stride[0], strideW: stride[1],
                             paddingH: padding[0], paddingW: padding[1], inputH: s.h, inputW: s.w)
        guard s.h + 2 * padding[0] >= kernel[0], s.w + 2 * padding[1] >= kernel[1] else {
            throw .badParameter(op: op, detail: "kernel \(kernel) is larger than the padded input \(s.h + 2 * padding[0])×\(s.w + 2 * padding[1]) of x \(x.shape)")
        }
        let flat = x.flatten()
        let y = graph.addVariable(x.elementType, [s.n, s.c, g.outputH, g.outputW], name: name)
        let yFlat = y.flatten()
        var steps = NormSteps()
        let owners = try normOwners(flat, &steps)
        guard owners.mappedCount == flat.elementCount else {
            throw .badParameter(op: op, detail: "only \(owners.mappedCount) of the \(flat.elementCount) elements of the operand \(x.shape) are mapped to tiles")
        }
        try mapByWindowCentres(yFlat, owners: owners, planes: s.n * s.c, g, op: op)
        let cs = graph.addComputeSet("\(name)/pool")
        var cost = NormStepCost(target: graph.target)
        for piece in try normPieces(of: yFlat, op: op) {
            let inputs = g.inputPositions(ofOutputs: piece.positions)
            cost.read(owners, inputs, on: piece.tile)
            let connections = [(of: flat, positions: [inputs]), (of: yFlat, positions: [piece.positions])]
            let codelet = PoolCodelet(function: function, elementType: x.elementType, geometry: g,
                                      firstOutput: piece.positions.lowerBound, firstInput: inputs.lowerBound)
            try addNormVertex(cs, codelet, tile: piece.tile, regions: connections, cost: &cost, op: op)
        }
        appendNormStep(cs, cost, to: &steps)
        try finishNorm(name, op: op, kind: kind, partition: "\(s.n)×\(s.c) planes \(s.h)×\(s.w) → \(g.outputH)×\(g.outputW), output rows by window centre", steps)
        return y
    }

    /// Maps each output row of `output` (flattened `[planes, Ho, Wo]`) to the tile holding the
    /// input element under the centre of its middle window, so most reads are local.
    private func mapByWindowCentres(_ output: Tensor, owners: NormOwners, planes: Int, _ g: PoolGeometry, op: String) throws(OpError) {
        var runStart = 0, runTile = -1
        try building(op) { () throws(GraphError) in
            for row in 0..<(planes * g.outputH) {
                let plane = row / g.outputH, rows = g.inputRows(ofOutputRow: row % g.outputH)
                let centreRow = (rows.lowerBound + rows.upperBound - 1) / 2
                let tile = owners.tile(of: plane * g.inputPlane + centreRow * g.inputW + g.inputW / 2)
                if tile != runTile {
                    if runTile >= 0 { try graph.setTileMapping(output.slice(runStart * g.outputW..<row * g.outputW), tile: runTile) }
                    runStart = row
                    runTile = tile
                }
            }
            try graph.setTileMapping(output.slice(runStart * g.outputW..<planes * g.outputH * g.outputW), tile: runTile)
        }
    }
}
