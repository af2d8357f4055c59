import TesseraGraph

/// What the cross-tile reduction writes for each statistic.
enum PartialReduceOutput: Sendable, Hashable {
    /// Σx and Σx² as a float32 pair.
    case sums
    /// Σx · `scale` (a mean), rounded to `type`.
    case mean(scale: Float, type: ElementType)
}

/// The second stage of a two-stage reduction: adds the partial entries of consecutive statistics
/// (`entries[k]` entries of one or two float32 values for statistic `k`), which the partials field
/// holds in statistic order, or when `order` is not empty in the order of their places in the
/// partials variable: the `i`-th entry in statistic order is then entry `order[i]` of the field.
/// A statistic whose plane several tiles hold has an entry on each, and gathered in statistic
/// order every entry would be a copy of its own; in the variable's order a tile's entries are one.
struct PartialReduceCodelet: Codelet {
    var entries: [Int]
    var output: PartialReduceOutput
    var order: [Int32] = []

    var name: String {
        switch output {
        case .sums: "partialReduce<sums>"
        case .mean(_, let type): "partialReduce<mean,\(type)>"
        }
    }
    /// Values per partial entry.
    var width: Int { output == .sums ? 2 : 1 }
    var outputType: ElementType {
        switch output {
        case .sums: .float32
        case .mean(_, let type): type
        }
    }
    var fields: [Field] { [.input("partials", .float32), .output("out", outputType)] }
    /// The header, a 16-bit count per statistic and a 32-bit field position per entry when reordered.
    var stateBytes: Int { 8 + 2 * entries.count + 4 * order.count }

    func sizeProblem(fieldSizes: [Int]) -> String? {
        let total = entries.reduce(0, +) * width
        if fieldSizes[0] != total { return "partials has \(fieldSizes[0]) elements, the entry counts need \(total)" }
        return fieldSizes[1] == entries.count * width ? nil : "out has \(fieldSizes[1]) elements for \(entries.count) statistics"
    }

    func estimateCycles(fieldSizes: [Int], target: Target) -> Int {
        NormCost.itemShares(entries.count, workers: target.workerContexts).map { share in
            NormCost.setUpCycles + share.count * NormCost.rowCycles + entries[share].reduce(0, +) * NormCost.reduceCyclesPerEntry
        }.max() ?? 0
    }

    func compute(_ fields: VertexFields) {
        let partials = fields.input(0, as: Float.self)
        var position = 0
        for (k, count) in entries.enumerated() {
            var sum: Float = 0, square: Float = 0
            for e in position..<(position + count) {
                let entry = order.isEmpty ? e : Int(order[e])
                sum += partials[entry * width]
                if width == 2 { square += partials[entry * 2 + 1] }
            }
            position += count
            switch output {
            case .sums:
                let out = fields.output(1, as: Float.self)
                out[2 * k] = sum
                out[2 * k + 1] = square
            case .mean(let scale, let type):
                if type == .float16 { fields.output(1, as: Float16.self)[k] = Float16(sum * scale) } else { fields.output(1, as: Float.self)[k] = sum * scale }
            }
        }
    }
}
