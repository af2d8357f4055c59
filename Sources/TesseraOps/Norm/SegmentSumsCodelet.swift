import TesseraGraph

/// Per-row sums of one tile's contiguous piece of a flattened activation whose rows have `rowLength`
/// elements (a channel's H·W, a group's C/G·H·W): for every row the piece touches, in order, Σx —
/// and Σx² when `squares` — accumulated in float32. The piece starts `offset` elements into its first row.
/// One vertex per tile: the work is shared over the worker contexts (`NormCost.workerShares`) and
/// the estimate is the slowest worker's share.
struct SegmentSumsCodelet: Codelet {
    var elementType: ElementType
    var rowLength: Int
    var offset: Int
    var squares: Bool

    var name: String { "segmentSums<\(elementType)>\(squares ? "WithSquares" : "")" }
    var fields: [Field] { [.input("in", elementType), .output("out", .float32)] }
    var stateBytes: Int { 12 }

    /// Values per row in `out`: Σx, or Σx and Σx².
    var width: Int { squares ? 2 : 1 }

    /// Rows touched by a piece of `count` elements.
    func rows(count: Int) -> Int { (offset + count + rowLength - 1) / rowLength }

    func sizeProblem(fieldSizes: [Int]) -> String? {
        let expected = rows(count: fieldSizes[0]) * width
        return fieldSizes[1] == expected ? nil : "out has \(fieldSizes[1]) elements, \(fieldSizes[0]) inputs from offset \(offset) in rows of \(rowLength) need \(expected)"
    }

    func estimateCycles(fieldSizes: [Int], target: Target) -> Int {
        NormCost.workerShares(fieldSizes[0], minimum: NormCost.minimumShare, workers: target.workerContexts).map { share in
            NormCost.vector(elements: share.count, rows: NormCost.rows(share, offset: offset, rowLength: rowLength), type: elementType,
                            instructions: squares ? NormCost.sumInstructionsPerVector : 1, target: target)
        }.max() ?? 0
    }

    func compute(_ fields: VertexFields) {
        if elementType == .float16 { run(fields, Float16.self) } else { run(fields, Float.self) }
    }

    private func run<T: NormScalar>(_ fields: VertexFields, _: T.Type) {
        let input = fields.input(0, as: T.self), output = fields.output(1, as: Float.self)
        guard let base = input.baseAddress else { return }
        var begin = 0, row = 0, length = rowLength - offset
        while begin < input.count {
            let count = min(length, input.count - begin)
            let (sum, square) = Self.sums(base + begin, count)
            output[row * width] = sum
            if squares { output[row * width + 1] = square }
            begin += count
            row += 1
            length = rowLength
        }
    }

    /// Σx and Σx² of `count` elements, in sixteen float32 lanes.
    @inline(__always) static func sums<T: NormScalar>(_ pointer: UnsafePointer<T>, _ count: Int) -> (Float, Float) {
        var sum = SIMD16<Float>.zero, square = SIMD16<Float>.zero
        var i = 0
        while i + 16 <= count {
            let v = T.load16(pointer + i)
            sum += v
            square.addProduct(v, v)
            i += 16
        }
        var tailSum: Float = 0, tailSquare: Float = 0
        while i < count {
            let v = pointer[i].float
            tailSum += v
            tailSquare += v * v
            i += 1
        }
        return (sum.sum() + tailSum, square.sum() + tailSquare)
    }
}
