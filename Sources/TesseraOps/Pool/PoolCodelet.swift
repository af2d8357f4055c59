import TesseraGraph

/// The window of a 2-D pooling over `[N, C, H, W]` planes: kernel, stride and implicit padding
/// per spatial dimension (height first), and the input and output plane sizes they give.
struct PoolGeometry: Sendable, Hashable {
    var kernelH: Int, kernelW: Int
    var strideH: Int, strideW: Int
    var paddingH: Int, paddingW: Int
    var inputH: Int, inputW: Int

    /// Output height, `⌊(H + 2·padding − kernel) / stride⌋ + 1`.
    var outputH: Int { (inputH + 2 * paddingH - kernelH) / strideH + 1 }
    /// Output width, as the height.
    var outputW: Int { (inputW + 2 * paddingW - kernelW) / strideW + 1 }
    /// Output elements per plane.
    var outputPlane: Int { outputH * outputW }
    /// Input elements per plane.
    var inputPlane: Int { inputH * inputW }

    /// Input rows `[begin, end)` (clamped to the plane) that output row `row` reads.
    func inputRows(ofOutputRow row: Int) -> Range<Int> {
        let start = row * strideH - paddingH
        return max(0, start)..<min(inputH, start + kernelH)
    }

    /// Flattened input positions `[begin, end)` that the flattened outputs `outputs` read: from
    /// the first needed row of the first output's plane to the last needed row of the last one's.
    func inputPositions(ofOutputs outputs: Range<Int>) -> Range<Int> {
        let firstPlane = outputs.lowerBound / outputPlane, lastPlane = (outputs.upperBound - 1) / outputPlane
        let first = inputRows(ofOutputRow: outputs.lowerBound % outputPlane / outputW)
        let last = inputRows(ofOutputRow: (outputs.upperBound - 1) % outputPlane / outputW)
        return (firstPlane * inputPlane + first.lowerBound * inputW)..<(lastPlane * inputPlane + last.upperBound * inputW)
    }
}

/// What a pooling window computes.
enum PoolFunction: Sendable, Hashable {
    /// The largest element of the window (padding never wins).
    case max
    /// The mean of the window; padding counts as zeros in the divisor when `countIncludePad`.
    case average(countIncludePad: Bool)
}

/// One 2-D pooling vertex per tile (its work shared over the worker contexts, the estimate being the
/// slowest worker's share): outputs `firstOutput ..< firstOutput + out.count` of the flattened
/// `[N, C, Ho, Wo]` result from the flattened `[N, C, H, W]` input positions starting at
/// `firstInput` (the range `PoolGeometry.inputPositions(ofOutputs:)` gives), accumulated in float32.
struct PoolCodelet: Codelet {
    var function: PoolFunction
    var elementType: ElementType
    var geometry: PoolGeometry
    var firstOutput: Int
    var firstInput: Int

    var name: String {
        switch function {
        case .max: "maxPool<\(elementType)>"
        case .average(let include): "avgPool<\(elementType)>\(include ? "IncludePad" : "")"
        }
    }
    var fields: [Field] { [.input("in", elementType), .output("out", elementType)] }
    var stateBytes: Int { 40 }

    func sizeProblem(fieldSizes: [Int]) -> String? {
        let expected = geometry.inputPositions(ofOutputs: firstOutput..<firstOutput + fieldSizes[1]).count
        return fieldSizes[0] == expected ? nil : "in has \(fieldSizes[0]) elements, \(fieldSizes[1]) outputs from \(firstOutput) read \(expected)"
    }

    func estimateCycles(fieldSizes: [Int], target: Target) -> Int {
        let lanes = target.vectorWidth(elementType)
        return NormCost.workerShares(fieldSizes[1], minimum: NormCost.minimumPoolShare, workers: target.workerContexts).map { share in
            NormCost.setUpCycles + NormCost.rows(share, offset: firstOutput % geometry.outputW, rowLength: geometry.outputW) * NormCost.rowCycles
                + (share.count + lanes - 1) / lanes * (geometry.kernelH * geometry.kernelW + NormCost.poolFinishInstructionsPerVector)
        }.max() ?? 0
    }

    func compute(_ fields: VertexFields) {
        if elementType == .float16 { run(fields, Float16.self) } else { run(fields, Float.self) }
    }

    private func run<T: NormScalar>(_ fields: VertexFields, _: T.Type) {
        let input = fields.input(0, as: T.self), output = fields.output(1, as: T.self)
        let g = geometry
        for j in 0..<output.count {
            let position = firstOutput + j
            let plane = position / g.outputPlane, q = position % g.outputPlane
            let row = q / g.outputW, column = q % g.outputW
            let rows = g.inputRows(ofOutputRow: row)
            let columnStart = column * g.strideW - g.paddingW
            let columns = max(0, columnStart)..<min(g.inputW, columnStart + g.kernelW)
            let base = plane * g.inputPlane - firstInput
            switch function {
            case .max:
                var best = -Float.infinity
                for r in rows {
                    for c in columns { best = Swift.max(best, input[base + r * g.inputW + c].float) }
                }
                output[j] = T(float: best)
            case .average(let countIncludePad):
                var sum: Float = 0
                for r in rows {
                    for c in columns { sum += input[base + r * g.inputW + c].float }
                }
                let divisor = countIncludePad ? g.kernelH * g.kernelW : rows.count * columns.count
                output[j] = T(float: sum / Float(divisor))
            }
        }
    }
}
