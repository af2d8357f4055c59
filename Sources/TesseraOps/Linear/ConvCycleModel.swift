import TesseraGraph

/// How a convolution vertex computes its partial sums.
public enum ConvMethod: String, Sendable, Hashable, Codable, CaseIterable {
    /// The accumulating matrix product unit (poplibs `ConvPartial1x1Out`/`nx1`): input channels of a
    /// group in blocks of ``ConvCycleModel/ampInputChannelBlock(_:target:)``, output channels in
    /// blocks of the conv-unit count.
    case amp
    /// The 64-bit vector unit (poplibs `Vmac`-like): output channels of all the vertex's groups side by
    /// side in vector lanes, so one input channel per group wastes nothing.
    case vector
}

/// The work of one convolution vertex, in the sizes its cycle estimate needs.
public struct ConvVertexWork: Sendable, Hashable {
    /// Conv groups the vertex computes.
    public var groups: Int
    /// Input channels per group the vertex sums over.
    public var inputChannelsPerGroup: Int
    /// Output channels per group the vertex computes.
    public var outputChannelsPerGroup: Int
    /// Output positions (batch × rows × columns) the vertex computes.
    public var positions: Int
    /// Kernel taps (`kH · kW`).
    public var kernelPositions: Int

    /// Work with every size given.
    public init(groups: Int, inputChannelsPerGroup: Int, outputChannelsPerGroup: Int, positions: Int, kernelPositions: Int) {
        self.groups = groups
        self.inputChannelsPerGroup = inputChannelsPerGroup
        self.outputChannelsPerGroup = outputChannelsPerGroup
        self.positions = positions
        self.kernelPositions = kernelPositions
    }

    /// Multiply-accumulates the vertex does.
    public var macs: Int { groups * inputChannelsPerGroup * outputChannelsPerGroup * positions * kernelPositions }
}

/// Modelled cycles of the convolution and reduction vertices (docs/ops-cost.md, "Matmul and convolution").
///
/// All results are **worker-context cycles** (see docs/cost-model.md): a tile running six such
/// vertices, one per context, takes six times the largest estimate.
public enum ConvCycleModel {
    /// Worker cycles of the AMP core loop per output position: 8 for float32, 4 for float16 (poplibs
    /// "Core loop cycles for 16x8 AMP vertex").
    public static func ampCoreCycles(_ type: ElementType) -> Int { type == .float16 ? 4 : 8 }

    /// Conv units of the AMP, which is also the output channels one AMP pass produces: 8 for float32,
    /// 16 for float16 (poplibs ipu2 AMP configurations).
    public static func ampConvUnits(_ type: ElementType) -> Int { type == .float16 ? 16 : 8 }

    /// Input channels of one group the AMP consumes per pass, derived from the tile's MAC rate:
    /// `macsPerCycle(type) · coreCycles / convUnits` — 16 × 8 / 8 = 16 (float32) and 64 × 4 / 16 = 16
    /// (float16) on mk2, poplibs' "AMP would like 16 input channels per group".
    public static func ampInputChannelBlock(_ type: ElementType, target: Target) -> Int {
        max(1, target.macsPerCycle(type) * ampCoreCycles(type) / ampConvUnits(type))
    }

    /// Fraction of the AMP's multipliers a group of `inputChannelsPerGroup` × `outputChannelsPerGroup`
    /// keeps busy: channels per group over the padded AMP blocks, input and output side multiplied.
    public static func ampUtilisation(inputChannelsPerGroup: Int, outputChannelsPerGroup: Int,
                                      type: ElementType, target: Target) -> Double {
        ampInputUtilisation(inputChannelsPerGroup: inputChannelsPerGroup, type: type, target: target)
            * padded(outputChannelsPerGroup, ampConvUnits(type))
    }

    /// Input side of ``ampUtilisation(inputChannelsPerGroup:outputChannelsPerGroup:type:target:)``:
    /// `channels per group / (⌈channels / block⌉ · block)`.
    public static func ampInputUtilisation(inputChannelsPerGroup: Int, type: ElementType, target: Target) -> Double {
        padded(inputChannelsPerGroup, ampInputChannelBlock(type, target: target))
    }

    private static func padded(_ count: Int, _ block: Int) -> Double {
        Double(count) / Double(convCeilDiv(count, block) * block)
    }

    /// Coefficient (weight) load rate of the AMP in bytes per cycle (poplibs
    /// `convUnitCoeffLoadBytesPerCycle` with 128-bit loads).
    public static let coefficientLoadBytesPerCycle = 16
    /// Supervisor cycles of launching an AMP vertex (poplibs: 50).
    public static let supervisorOverheadCycles = 50
    /// Worker cycles of one AMP pass that zeroes its outputs first, and of one that accumulates (poplibs: 37 | 38).
    public static let ampPassZeroingCycles = 37, ampPassCycles = 38
    /// Fixed worker cycles of a vector-unit vertex (loop set-up, as the example `DotProduct`).
    public static let vectorFixedCycles = 12
    /// Worker cycles per output position and kernel tap of a vector-unit vertex for pointer updates.
    public static let vectorTapOverheadCycles = 2

    /// Tile cycles of loading one pass's weights into the AMP:
    /// `convUnits · inputChannelBlock · bytes / coefficientLoadBytesPerCycle` (32 on mk2 for both types).
    public static func ampWeightLoadCycles(_ type: ElementType, target: Target) -> Int {
        convCeilDiv(ampConvUnits(type) * ampInputChannelBlock(type, target: target) * type.byteSize, coefficientLoadBytesPerCycle)
    }

    /// Worker cycles of one vertex doing `work` by `method` with inputs of `type`.
    ///
    /// AMP: `outBlocks = groups · ⌈outChans / convUnits⌉`, `passesPerBlock = ⌈inChans / inBlock⌉ · taps`,
    /// each pass `(37 | 38) + max(0, positions − 3) · coreCycles`, plus the supervisor's
    /// `50 + passes · weightLoad` shared by the six contexts.
    /// Vector: `12 + positions · taps · (2 + inChans · ⌈groups · outChans / lanes⌉)`.
    public static func vertexCycles(_ method: ConvMethod, _ work: ConvVertexWork, type: ElementType, target: Target) -> Int {
        guard work.macs > 0 else { return vectorFixedCycles }
        switch method {
        case .amp:
            let outBlocks = work.groups * convCeilDiv(work.outputChannelsPerGroup, ampConvUnits(type))
            let passesPerBlock = convCeilDiv(work.inputChannelsPerGroup, ampInputChannelBlock(type, target: target)) * work.kernelPositions
            let loop = max(0, work.positions - 3) * ampCoreCycles(type)
            let worker = outBlocks * (ampPassZeroingCycles + (passesPerBlock - 1) * ampPassCycles + passesPerBlock * loop)
            let supervisor = supervisorOverheadCycles + outBlocks * passesPerBlock * ampWeightLoadCycles(type, target: target)
            return worker + convCeilDiv(supervisor, target.workerContexts)
        case .vector:
            let lanes = target.vectorWidth(type)
            let perTap = vectorTapOverheadCycles + work.inputChannelsPerGroup * convCeilDiv(work.groups * work.outputChannelsPerGroup, lanes)
            return vectorFixedCycles + work.positions * work.kernelPositions * perTap
        }
    }

    /// Worker cycles of a reduction vertex summing `stages` float32 partials of `count` elements:
    /// `12 + stages · ⌈count / 2⌉` (two float32 lanes per vector add).
    public static func reduceCycles(stages: Int, count: Int, target: Target) -> Int {
        vectorFixedCycles + stages * convCeilDiv(count, target.vectorWidth(.float32))
    }
}

/// `⌈a / b⌉` for positive `b`.
@inline(__always) func convCeilDiv(_ a: Int, _ b: Int) -> Int { (a + b - 1) / b }
