import TesseraGraph

/// A dimension of a convolution's work that a plan can split: the output is
/// `[batch, group, outputChannel, row, column]` and every output sums over `inputChannel` (within its group).
public enum ConvAxis: String, Sendable, Hashable, Codable, CaseIterable {
    /// Images (`N`).
    case batch
    /// Conv groups (`G`).
    case group
    /// Output channels within a group (`O / G`).
    case outputChannel
    /// Input channels within a group (`C / G`); splitting it makes partial sums that a second stage reduces.
    case inputChannel
    /// Output rows (`oH`).
    case row
    /// Output columns (`oW`).
    case column
}

/// How a convolution is spread over tiles and worker contexts, and what the model says it costs
/// (poplin's `Partition` plus its `SinglePassEstimates`, as one plain value).
///
/// Each axis of size `d` split `s` ways is cut into `s` consecutive parts of `⌈d / s⌉` (the last
/// may be shorter); tile `t` takes one part of every axis, with the input-channel part varying
/// fastest, so the tiles that reduce one output together are neighbours.
public struct ConvPlan: Sendable, Hashable, CustomStringConvertible {
    /// The convolution planned.
    public var parameters: ConvParameters
    /// How the vertices compute (AMP or vector unit).
    public var method: ConvMethod
    /// Parts the batch is split into across tiles.
    public var batchSplit: Int
    /// Parts the conv groups are split into across tiles.
    public var groupSplit: Int
    /// Parts each group's output channels are split into across tiles.
    public var outputChannelSplit: Int
    /// Parts each group's input channels are split into across tiles (> 1: float32 partials and a reduction stage).
    public var inputChannelSplit: Int
    /// Parts the output rows are split into across tiles.
    public var rowSplit: Int
    /// Parts the output columns are split into across tiles.
    public var columnSplit: Int
    /// Axis along which each tile's one vertex divides its part among the worker contexts (never `inputChannel`).
    public var workerAxis: ConvAxis
    /// Worker contexts the tile's vertex divides its part among along `workerAxis` (at most the target's worker contexts).
    public var workerSplit: Int
    /// Tiles that run convolution vertices: the product of the six splits.
    public var tilesUsed: Int
    /// Modelled cycles of the convolution step's compute phase on the busiest tile, with its sync (the
    /// vertex writes its output part in place).
    public var computeCycles: Int
    /// Modelled cycles of bringing inputs and weights to the busiest tile: fixed overhead, bytes at
    /// `exchangeBytesPerCycle`, and sync.
    public var exchangeCycles: Int
    /// Modelled cycles of the reduction stage (0 without an input-channel split).
    public var reductionCycles: Int
    /// Temporary bytes on the busiest tile: receive buffers (input window, weights, bias), partials and
    /// the reduction's buffers.
    public var temporaryBytesPerTile: Int

    /// Modelled cycles of the whole operation: compute + exchange + reduction.
    public var totalCycles: Int { computeCycles + exchangeCycles + reductionCycles }

    /// Size of `axis` in the convolution.
    public func size(_ axis: ConvAxis) -> Int {
        let p = parameters
        switch axis {
        case .batch: return p.batch
        case .group: return p.groups
        case .outputChannel: return p.outputChannelsPerGroup
        case .inputChannel: return p.inputChannelsPerGroup
        case .row: return p.outputField[0]
        case .column: return p.outputField[1]
        }
    }

    /// Parts `axis` is split into across tiles.
    public func split(_ axis: ConvAxis) -> Int {
        switch axis {
        case .batch: batchSplit
        case .group: groupSplit
        case .outputChannel: outputChannelSplit
        case .inputChannel: inputChannelSplit
        case .row: rowSplit
        case .column: columnSplit
        }
    }

    /// Largest part of `axis` one tile holds: `⌈size / split⌉`.
    public func partSize(_ axis: ConvAxis) -> Int { convCeilDiv(size(axis), split(axis)) }

    /// The parts of `axis` across tiles, in order.
    public func parts(_ axis: ConvAxis) -> [Range<Int>] {
        ConvPlan.cut(0..<size(axis), into: split(axis))
    }

    /// `range` cut into at most `count` consecutive non-empty parts of `⌈range.count / count⌉`.
    public static func cut(_ range: Range<Int>, into count: Int) -> [Range<Int>] {
        let part = convCeilDiv(range.count, max(count, 1))
        return stride(from: range.lowerBound, to: range.upperBound, by: max(part, 1)).map { $0..<min($0 + part, range.upperBound) }
    }

    /// The fewest float32 partials one tile of a reduction sums: 32 (128 bytes, the least Poplar's
    /// linear mapping leaves on a tile, as ``NormCost/minimumBlockItems``), so that a small output
    /// is not scattered one row per tile.
    public static let minimumReductionChunk = NormCost.minimumBlockItems

    /// The chunks that the reduction of one output box of `count` elements, in rows of `rowLength`,
    /// gives to its `stages` tiles: whole rows, as evenly as they go, at most one chunk per stage,
    /// and only as many chunks as hold ``minimumReductionChunk`` elements each (one at least).
    public static func reductionChunks(count: Int, rowLength: Int, stages: Int) -> [Range<Int>] {
        let rows = count / rowLength, part = reductionChunkRows(rows: rows, rowLength: rowLength, stages: stages)
        return stride(from: 0, to: rows, by: part).map { $0 * rowLength..<min($0 + part, rows) * rowLength }
    }

    /// Rows in each chunk of ``reductionChunks(count:rowLength:stages:)`` but the last.
    static func reductionChunkRows(rows: Int, rowLength: Int, stages: Int) -> Int {
        max(1, convCeilDiv(rows, max(1, min(stages, rows, rows * rowLength / minimumReductionChunk))))
    }

    /// Fraction of the AMP's multipliers a group keeps busy (1 for the vector method, which packs groups into lanes).
    public func ampUtilisation(target: Target) -> Double {
        method == .vector ? 1 : ConvCycleModel.ampUtilisation(
            inputChannelsPerGroup: parameters.inputChannelsPerGroup, outputChannelsPerGroup: parameters.outputChannelsPerGroup,
            type: parameters.elementType, target: target)
    }

    /// One line: method, splits and tiles.
    public var summary: String {
        "\(method): batch \(batchSplit) × groups \(groupSplit) × out-channels \(outputChannelSplit) × in-channels \(inputChannelSplit)"
            + " × rows \(rowSplit) × columns \(columnSplit) over \(tilesUsed) tiles, \(workerSplit) workers along \(workerAxis)"
    }

    public var description: String {
        let part = ConvAxis.allCases.map { "\($0) \(partSize($0))" }.joined(separator: ", ")
        return """
            conv plan for \(parameters)
              \(summary)
              part per tile: \(part)
              cycles: compute \(computeCycles) + exchange \(exchangeCycles) + reduction \(reductionCycles) = \(totalCycles)
              temporary bytes per tile: \(temporaryBytesPerTile)
            """
    }
}
