import TesseraGraph

/// Per-row sums of regions of one tile of a flattened activation whose rows have `rowLength`
/// elements (a channel's H·W, a group's C/G·H·W): `in` holds the regions one after another, as
/// `segments` lists them, and `out` gets for every row a segment touches, segment after segment,
/// Σx — and Σx² when `squares` — accumulated in float32 (a segment's first row at entry `first`).
/// One vertex per tile: the work is shared over the worker contexts (`NormCost.workerShares`) and
/// the estimate is the slowest worker's share.
struct SegmentSumsCodelet: Codelet {
    var elementType: ElementType
    var rowLength: Int
    var segments: [NormSegment]
    var squares: Bool

    var name: String { "segmentSums<\(elementType)>\(squares ? "WithSquares" : "")" }
    var fields: [Field] { [.input("in", elementType), .output("out", .float32)] }
    /// The row length and flags, and per segment its count, offset and first entry (32 bits each).
    var stateBytes: Int { 12 + 12 * segments.count }

    /// Values per row in `out`: Σx, or Σx and Σx².
    var width: Int { squares ? 2 : 1 }

    func sizeProblem(fieldSizes: [Int]) -> String? {
        let elements = segments.reduce(0) { $0 + $1.count }
        let expected = (segments.map { $0.first + $0.rows(rowLength: rowLength) }.max() ?? 0) * width
        if fieldSizes[0] != elements { return "in has \(fieldSizes[0]) elements, the segments \(elements)" }
        return fieldSizes[1] == expected ? nil : "out has \(fieldSizes[1]) elements, the segments' rows in rows of \(rowLength) need \(expected)"
    }

    func estimateCycles(fieldSizes: [Int], target: Target) -> Int {
        NormCost.segmentShareCycles(segments, rowLength: rowLength, type: elementType,
                                    instructions: squares ? NormCost.sumInstructionsPerVector : 1, target: target)
    }

    func compute(_ fields: VertexFields) {
        if elementType == .float16 { run(fields, Float16.self) } else { run(fields, Float.self) }
    }

    private func run<T: NormScalar>(_ fields: VertexFields, _: T.Type) {
        let input = fields.input(0, as: T.self), output = fields.output(1, as: Float.self)
        guard let base = input.baseAddress else { return }
        var start = 0
        for segment in segments {
            var begin = start, row = segment.first, length = rowLength - segment.offset
            let segmentEnd = start + segment.count
            while begin < segmentEnd {
                let count = min(length, segmentEnd - begin)
                let (sum, square) = Self.sums(base + begin, count)
                output[row * width] = sum
                if squares { output[row * width + 1] = square }
                begin += count
                row += 1
                length = rowLength
            }
            start = segmentEnd
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
