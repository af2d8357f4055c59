import TesseraGraph

/// `out = a[row] · in + b[row]` over regions of one tile of a flattened activation whose rows have
/// `rowLength` elements, then `activation` (when given) applied to each row's outputs while they
/// are in cache: a normalisation fused with the activation that follows it. `in` and `out` hold
/// the regions one after another, as `segments` lists them; `a` and `b` (float32) hold the
/// coefficients the vertex's rows use, a segment's rows taking consecutive coefficients from its
/// `first` on. One vertex per tile (as poplibs' 2-D
/// MultiVertex codelets): the elements are shared over the worker contexts and the estimate is
/// the slowest worker's share.
struct SegmentAffineCodelet: Codelet {
    var elementType: ElementType
    var rowLength: Int
    var segments: [NormSegment]
    /// Applied to `out` after the affine step, with the rounding of a separate activation step.
    var activation: UnaryFunction? = nil

    var name: String { "segmentAffine<\(elementType)>" + activation.codeletSuffix }
    var fields: [Field] { [.input("in", elementType), .input("a", .float32), .input("b", .float32), .output("out", elementType)] }
    /// The row length, and per segment its count, offset and first coefficient (32 bits each).
    var stateBytes: Int { 8 + 12 * segments.count }

    func sizeProblem(fieldSizes: [Int]) -> String? {
        let elements = segments.reduce(0) { $0 + $1.count }
        if fieldSizes[0] != elements || fieldSizes[3] != elements {
            return "in and out have \(fieldSizes[0]) and \(fieldSizes[3]) elements, the segments \(elements)"
        }
        let coefficients = segments.map { $0.first + $0.rows(rowLength: rowLength) }.max() ?? 0
        return fieldSizes[1] >= coefficients && fieldSizes[2] >= coefficients
            ? nil : "a and b have \(fieldSizes[1]) and \(fieldSizes[2]) coefficients, the segments' rows need \(coefficients)"
    }

    func estimateCycles(fieldSizes: [Int], target: Target) -> Int {
        let instructions = NormCost.affineInstructionsPerVector + activation.fusedInstructionsPerVector
        return NormCost.segmentShareCycles(segments, rowLength: rowLength, type: elementType, instructions: instructions, target: target)
    }

    func compute(_ fields: VertexFields) {
        if elementType == .float16 { run(fields, Float16.self) } else { run(fields, Float.self) }
    }

    private func run<T: NormScalar & ElementLane>(_ fields: VertexFields, _: T.Type) {
        let input = fields.input(0, as: T.self), output = fields.output(3, as: T.self)
        let a = fields.input(1, as: Float.self), b = fields.input(2, as: Float.self)
        guard let source = input.baseAddress, let destination = output.baseAddress else { return }
        var start = 0
        for segment in segments {
            var begin = start, row = segment.first, length = rowLength - segment.offset
            let segmentEnd = start + segment.count
            while begin < segmentEnd {
                let end = begin + min(length, segmentEnd - begin)
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
                activation?.apply(UnsafePointer(destination + begin), destination + begin, end - begin)
                begin = end
                row += 1
                length = rowLength
            }
            start = segmentEnd
        }
    }
}

/// One `normalise` vertex: consecutive regions of one tile and the coefficient range their rows use.
struct AffineVertex {
    /// Flattened positions of `x` (and `y`), in order.
    var regions: [Range<Int>] = []
    /// The regions as codelet segments, their coefficients counted from `coefficients.lowerBound`.
    var segments: [NormSegment] = []
    /// Coefficients (of `a`, `b`) the rows use.
    var coefficients: Range<Int> = 0..<0

    /// The vertices of one tile's `regions` (consecutive in its memory) when row `r` of
    /// `rowLength` elements uses coefficient `r mod coefficients`: the regions are cut where the
    /// coefficient index wraps round to 0, and the pieces joined while the coefficients they use
    /// stay one range (for an `[N, C, H, W]` tile box, all of them).
    static func split(_ regions: [Range<Int>], rowLength: Int, coefficients: Int) -> [AffineVertex] {
        var vertices: [AffineVertex] = []
        var current = AffineVertex(), firsts: [Int] = []
        func finish() {
            guard !current.regions.isEmpty else { return }
            current.segments = zip(current.regions, firsts).map { range, first in
                NormSegment(count: range.count, offset: range.lowerBound % rowLength, first: first - current.coefficients.lowerBound)
            }
            vertices.append(current)
            current = AffineVertex()
            firsts = []
        }
        for region in regions {
            var begin = region.lowerBound
            while begin < region.upperBound {
                let row = begin / rowLength, first = row % coefficients
                let end = min(region.upperBound, (row - first + coefficients) * rowLength)
                let used = first..<first + NormCost.rows(0..<end - begin, offset: begin % rowLength, rowLength: rowLength)
                if !current.regions.isEmpty && (used.lowerBound > current.coefficients.upperBound || used.upperBound < current.coefficients.lowerBound) {
                    finish()
                }
                current.coefficients = current.regions.isEmpty ? used
                    : min(used.lowerBound, current.coefficients.lowerBound)..<max(used.upperBound, current.coefficients.upperBound)
                current.regions.append(begin..<end)
                firsts.append(first)
                begin = end
            }
        }
        finish()
        return vertices
    }
}
