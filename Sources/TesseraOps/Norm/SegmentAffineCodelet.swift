import TesseraGraph

/// `out = a[row] · in + b[row]` over one contiguous piece of a flattened activation whose rows
/// have `rowLength` elements; `a` and `b` (float32) hold one coefficient per row the piece
/// touches, in order, and the piece starts `offset` elements into its first row. One vertex per
/// tile: the work is shared over the worker contexts and the estimate is the slowest worker's share.
struct SegmentAffineCodelet: Codelet {
    var elementType: ElementType
    var rowLength: Int
    var offset: Int

    var name: String { "segmentAffine<\(elementType)>" }
    var fields: [Field] { [.input("in", elementType), .input("a", .float32), .input("b", .float32), .output("out", elementType)] }
    var stateBytes: Int { 8 }

    /// Rows touched by a piece of `count` elements.
    func rows(count: Int) -> Int { (offset + count + rowLength - 1) / rowLength }

    func sizeProblem(fieldSizes: [Int]) -> String? {
        let rows = rows(count: fieldSizes[0])
        if fieldSizes[3] != fieldSizes[0] { return "in has \(fieldSizes[0]) elements, out has \(fieldSizes[3])" }
        return fieldSizes[1] == rows && fieldSizes[2] == rows ? nil : "a and b have \(fieldSizes[1]) and \(fieldSizes[2]) coefficients for \(rows) rows"
    }

    func estimateCycles(fieldSizes: [Int], target: Target) -> Int {
        NormCost.workerShares(fieldSizes[0], minimum: NormCost.minimumShare, workers: target.workerContexts).map { share in
            NormCost.vector(elements: share.count, rows: NormCost.rows(share, offset: offset, rowLength: rowLength), type: elementType,
                            instructions: NormCost.affineInstructionsPerVector, target: target)
        }.max() ?? 0
    }

    func compute(_ fields: VertexFields) {
        if elementType == .float16 { run(fields, Float16.self) } else { run(fields, Float.self) }
    }

    private func run<T: NormScalar>(_ fields: VertexFields, _: T.Type) {
        let input = fields.input(0, as: T.self), output = fields.output(3, as: T.self)
        let a = fields.input(1, as: Float.self), b = fields.input(2, as: Float.self)
        guard let source = input.baseAddress, let destination = output.baseAddress else { return }
        var begin = 0, row = 0, length = rowLength - offset
        while begin < input.count {
            let end = begin + min(length, input.count - begin)
            let scale = SIMD16<Float>(repeating: a[row]), shift = SIMD16<Float>(repeating: b[row])
            var i = begin
            while i + 16 <= end {
                T.store16(T.load16(source + i) * scale + shift, destination + i)
                i += 16
            }
            while i < end {
                destination[i] = T(float: source[i].float * a[row] + b[row])
                i += 1
            }
            begin = end
            row += 1
            length = rowLength
        }
    }
}
