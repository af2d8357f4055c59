import Testing
import Tessera
import TesseraTestSupport

private func dense(_ channels: Int, field: Int, batch: Int = 1, type: ElementType = .float32) -> ConvParameters {
    ConvParameters(batch: batch, inputChannels: channels, outputChannels: channels, inputField: [field, field], kernel: [3, 3],
                   padding: .symmetric(1), elementType: type)
}

/// The convolution planner's plans as values, and the AMP cycle model.
@Suite struct PlannerTests {
    @Test func biggerProblemsUseMoreTiles() throws {
        let planner = ConvPlanner(), target = testTarget(tiles: 1024, bytes: 262_144)
        let small = try planner.plan(dense(4, field: 4), target: target, options: OpOptions(), op: "small")
        let large = try planner.plan(dense(32, field: 16, batch: 2), target: target, options: OpOptions(), op: "large")
        #expect(small.tilesUsed < large.tilesUsed, "\(small)\n\(large)")
        #expect(large.tilesUsed <= 1024 && large.totalCycles > small.totalCycles)
        for plan in [small, large] {
            // Every split's parts cover its axis, none of them empty: each tile the plan counts has work.
            #expect(ConvAxis.allCases.allSatisfy { axis in plan.parts(axis).map(\.count).reduce(0, +) == plan.size(axis) })
            #expect(ConvAxis.allCases.allSatisfy { axis in plan.parts(axis).count == plan.split(axis) }, "\(plan)")
        }
    }

    @Test func aTightBudgetForcesAnotherSplitAndThenDoesNotFit() throws {
        let planner = ConvPlanner(), target = testTarget(tiles: 64, bytes: 131_072)
        let p = dense(32, field: 24)
        let roomy = try planner.plan(p, target: target, options: OpOptions(), op: "conv")
        let budget = roomy.temporaryBytesPerTile - 1
        let tight = try planner.plan(p, target: target, options: OpOptions(availableMemoryProportion: Double(budget) / 131_072), op: "conv")
        #expect(tight.temporaryBytesPerTile <= budget)
        #expect(tight.summary != roomy.summary && tight.totalCycles >= roomy.totalCycles)
        #expect {
            _ = try planner.plan(p, target: target, options: OpOptions(availableMemoryProportion: 0.01), op: "tiny")
        } throws: { error in
            guard case .doesNotFit(let op, let needed, let available, let best) = error as? OpError else { return false }
            return op == "tiny" && available == 1310 && needed > available && best.contains("over")
        }
        let leanest = try planner.plan(p, target: target, options: OpOptions(availableMemoryProportion: 0), op: "conv")
        #expect(leanest.temporaryBytesPerTile <= tight.temporaryBytesPerTile)
    }

    /// A proportion outside 0 … 1 (NaN included) and a target without tiles are bad parameters, not traps.
    @Test func badProportionsAndTargetsAreTypedErrors() throws {
        let planner = ConvPlanner(), p = dense(8, field: 8)
        for proportion in [Double.nan, .infinity, -0.1, 1.5] {
            #expect(thrownCase { try planner.plan(p, target: testTarget(tiles: 16), options: OpOptions(availableMemoryProportion: proportion),
                                                  op: "conv") } == "badParameter", "\(proportion)")
        }
        #expect(thrownCase { try planner.plan(p, target: Target(name: "none", tiles: 0, bytesPerTile: 1024), options: OpOptions(),
                                              op: "conv") } == "badParameter")
    }

    /// Sweeping the available-memory proportion: every plan keeps within its budget, a larger budget
    /// is never slower, and a budget below the leanest plan's needs says so with the bytes.
    @Test func memorySweepTradesCyclesForTemporaryMemory() throws {
        let planner = ConvPlanner(), target = testTarget(tiles: 64, bytes: 131_072)
        let proportions = [0.01, 0.05, 0.1, 0.2, 0.4, 0.6]
        let rows = try planner.sweep(dense(32, field: 24), target: target, proportions: proportions, op: "sweep")
        #expect(rows.map(\.availableMemoryProportion) == proportions)
        #expect(rows.map(\.budgetBytes) == proportions.map { Int(131_072 * $0) })
        guard case .failure(.doesNotFit(let op, let needed, let available, _)) = rows[0].outcome else {
            Issue.record("1% of 128 KiB fits: \(rows[0].outcome)")
            return
        }
        #expect(op == "sweep" && available == 1310 && needed > available)
        let plans = rows.compactMap { try? $0.outcome.get() }
        #expect(plans.count >= 3)
        for (row, plan) in zip(rows.suffix(plans.count), plans) { #expect(plan.temporaryBytesPerTile <= row.budgetBytes) }
        for (smaller, larger) in zip(plans, plans.dropFirst()) { #expect(larger.totalCycles <= smaller.totalCycles) }
        #expect(plans.first!.totalCycles > plans.last!.totalCycles)
        #expect(throws: OpError.self) { try planner.sweep(dense(32, field: 24).with(groups: 5), target: target, proportions: [0.6], op: "bad") }
    }

    /// A matrix product is planned as a 1 × 1 convolution with the rows as its batch, one group per matrix pair.
    @Test func matrixProductsArePlannedAsOneByOneConvolutions() {
        let p = ConvParameters.matrixProduct(m: 8, k: 2048, n: 1000, groups: 2)
        #expect(p.inputShape == [8, 4096, 1, 1] && p.weightsShape == [2000, 2048, 1, 1] && p.outputShape == [8, 2000, 1, 1])
        #expect(p.macs == 2 * 8 * 2048 * 1000)
    }

    /// A 1 × 1 convolution of stride 2 reads a quarter of its input: it is planned as the unit-stride
    /// convolution of that quarter, which moves less input to its tiles than the strided field.
    @Test func aStridedOneByOneConvolutionIsPlannedOnItsInputsSubsample() throws {
        let strided = ConvParameters(batch: 2, inputChannels: 64, outputChannels: 128, inputField: [28, 27], kernel: [1, 1], stride: [2, 2])
        let folded = try #require(strided.strideFolded)
        #expect(folded == ConvParameters(batch: 2, inputChannels: 64, outputChannels: 128, inputField: [14, 14], kernel: [1, 1]))
        #expect(folded.outputShape == strided.outputShape && folded.macs == strided.macs)
        // Only a dimension of one tap, stride above 1 and no padding folds.
        var rows = strided
        rows.kernel = [1, 3]
        #expect(rows.strideFolded?.inputField == [14, 27] && rows.strideFolded?.stride == [1, 2])
        #expect(dense(8, field: 9).strideFolded == nil)
        var padded = strided
        padded.padding = .symmetric(1)
        #expect(padded.strideFolded == nil)
        let target = testTarget(tiles: 64)
        let plan = try ConvPlanner().plan(strided, target: target, options: OpOptions(), op: "downsample")
        #expect(plan.parameters == folded)
        #expect(plan == (try ConvPlanner().plan(folded, target: target, options: OpOptions(), op: "folded")))
    }

    @Test func plansAreCachedByParametersTargetAndOptions() throws {
        let planner = ConvPlanner(), target = testTarget(tiles: 16)
        let first = try planner.plan(dense(8, field: 9), target: target, options: OpOptions(), op: "a")
        let again = try planner.plan(dense(8, field: 9), target: target, options: OpOptions(), op: "b")
        #expect(first == again && planner.searches == 1 && planner.cacheHits == 1)
        _ = try planner.plan(dense(8, field: 9), target: target, options: OpOptions(availableMemoryProportion: 0.3), op: "c")
        _ = try planner.plan(dense(8, field: 9), target: testTarget(tiles: 8), options: OpOptions(), op: "d")
        #expect(planner.searches == 3 && planner.cacheHits == 1)
    }

    @Test func aPlanPrintsItsSplitsAndCosts() throws {
        let plan = try ConvPlanner().plan(dense(8, field: 9), target: testTarget(tiles: 16), options: OpOptions(), op: "conv")
        let text = plan.description
        #expect(text.contains("conv plan for N1 C8→O8 G1 field 9×9 kernel 3×3"))
        #expect(text.contains("over \(plan.tilesUsed) tiles") && text.contains("= \(plan.totalCycles)"))
        #expect(text.contains("temporary bytes per tile: \(plan.temporaryBytesPerTile)"))
    }

    @Test func matmulIsPlannedAsAOneByOneConvolution() throws {
        let graph = Graph(target: testTarget(tiles: 16))
        let ops = OpBuilder(graph)
        let a = graph.addVariable(.float32, [3, 24, 40], name: "a"), b = graph.addVariable(.float32, [3, 40, 20], name: "b")
        _ = try ops.matmul(a, b, name: "mm")
        let conv = ConvParameters(batch: 24, inputChannels: 120, outputChannels: 60, groups: 3, inputField: [1, 1], kernel: [1, 1])
        let plan = try ConvPlanner.shared.plan(conv, target: graph.target, options: OpOptions(), op: "conv")
        #expect(ops.plans.last?.partition == plan.summary && ops.plans.last?.modelledCycles == plan.totalCycles)
    }

    @Test func splitCandidatesGiveNonEmptyParts() {
        #expect(ConvPlanner.splitCandidates(10, limit: 100) == [1, 2, 3, 4, 5, 10])
        #expect(ConvPlanner.splitCandidates(7, limit: 4) == [1, 2, 3, 4])
        for size in [1, 5, 16, 97] {
            for split in ConvPlanner.splitCandidates(size, limit: 1000) {
                #expect(ConvPlan.cut(0..<size, into: split).count == split)
            }
        }
    }

    /// A reduction gives each tile whole output rows and, for a small output box, fewer tiles
    /// than stages rather than chunks under 32 partials.
    @Test func reductionChunksTakeWholeRowsAndAtLeastThirtyTwoPartials() {
        #expect(ConvPlan.reductionChunks(count: 392, rowLength: 7, stages: 4) == [0..<98, 98..<196, 196..<294, 294..<392])
        #expect(ConvPlan.reductionChunks(count: 399, rowLength: 7, stages: 4) == [0..<105, 105..<210, 210..<315, 315..<399])
        #expect(ConvPlan.reductionChunks(count: 8, rowLength: 1, stages: 30) == [0..<8])
        #expect(ConvPlan.reductionChunks(count: 100, rowLength: 1, stages: 30) == [0..<34, 34..<68, 68..<100])
        #expect(ConvPlan.reductionChunks(count: 60, rowLength: 20, stages: 2) == [0..<60])
    }

    /// Grouped convolutions with 16 channels per group fill the AMP's 16-channel input block; depthwise ones
    /// (one channel per group) pad each block from 1 channel, using 1/16 of it — so depthwise plans take the
    /// vector unit, and per multiply-accumulate the AMP does G16 far faster than depthwise.
    @Test(arguments: [ElementType.float32, .float16])
    func groupedSixteenKeepsTheAMPBusierThanDepthwise(_ type: ElementType) throws {
        let target = Target.mk2
        #expect(ConvCycleModel.ampInputChannelBlock(type, target: target) == 16)
        #expect(ConvCycleModel.ampInputUtilisation(inputChannelsPerGroup: 16, type: type, target: target) == 1)
        #expect(ConvCycleModel.ampInputUtilisation(inputChannelsPerGroup: 1, type: type, target: target) == 1.0 / 16)
        #expect(ConvCycleModel.ampInputUtilisation(inputChannelsPerGroup: 24, type: type, target: target) == 24.0 / 32)
        #expect(ConvCycleModel.ampUtilisation(inputChannelsPerGroup: 16, outputChannelsPerGroup: 16, type: type, target: target) == 1)

        let positions = 196, taps = 9, channels = 64
        let g16 = ConvVertexWork(groups: channels / 16, inputChannelsPerGroup: 16, outputChannelsPerGroup: 16, positions: positions, kernelPositions: taps)
        let depthwise = ConvVertexWork(groups: channels, inputChannelsPerGroup: 1, outputChannelsPerGroup: 1, positions: positions, kernelPositions: taps)
        /// MACs per tile cycle with six such vertices, one per worker context: 6 · macs / (6 · cycles).
        func macsPerTileCycle(_ work: ConvVertexWork, _ method: ConvMethod) -> Double {
            Double(work.macs) / Double(ConvCycleModel.vertexCycles(method, work, type: type, target: target))
        }
        let ampG16 = macsPerTileCycle(g16, .amp), ampDepthwise = macsPerTileCycle(depthwise, .amp)
        let peak = Double(target.macsPerCycle(type))
        #expect(ampG16 > 0.8 * peak && ampG16 <= peak, "G16 on the AMP: \(ampG16) MACs per cycle of \(peak)")
        #expect(ampDepthwise < peak / 16, "depthwise on the AMP: \(ampDepthwise) MACs per cycle")
        #expect(ampG16 > 16 * ampDepthwise)
        #expect(macsPerTileCycle(depthwise, .vector) > ampDepthwise)
        #expect(macsPerTileCycle(g16, .amp) > macsPerTileCycle(g16, .vector))

        let planner = ConvPlanner()
        func plan(groups: Int) throws -> ConvPlan {
            try planner.plan(ConvParameters(batch: 1, inputChannels: channels, outputChannels: channels, groups: groups, inputField: [14, 14],
                                            kernel: [3, 3], padding: .symmetric(1), elementType: type),
                             target: testTarget(tiles: 16, bytes: 262_144), options: OpOptions(), op: "conv")
        }
        let g16Plan = try plan(groups: channels / 16), depthwisePlan = try plan(groups: channels)
        #expect(g16Plan.method == .amp && g16Plan.ampUtilisation(target: target) == 1)
        #expect(depthwisePlan.method == .vector)
    }
}

extension ConvParameters {
    fileprivate func with(groups: Int) -> ConvParameters {
        var copy = self
        copy.groups = groups
        return copy
    }
}
