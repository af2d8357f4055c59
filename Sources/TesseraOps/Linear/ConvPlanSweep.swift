import TesseraGraph

/// One row of an available-memory sweep: the plan the planner picks under one
/// `availableMemoryProportion`, or why nothing fits.
public struct ConvPlanSweepRow: Sendable {
    /// The proportion of tile memory the operation may use for temporaries.
    public var availableMemoryProportion: Double
    /// That proportion in bytes per tile.
    public var budgetBytes: Int
    /// The fastest modelled plan within the budget, or the planner's `doesNotFit` error.
    public var outcome: Result<ConvPlan, OpError>
}

extension ConvPlanner {
    /// The plan of `parameters` on `target` at each of `proportions` (Poplar users' main knob,
    /// `availableMemoryProportion`): how splits, modelled cycles and temporary memory trade off,
    /// without building a graph. A larger budget never gives a slower plan.
    public func sweep(_ parameters: ConvParameters, target: Target, proportions: [Double], op: String) throws(OpError) -> [ConvPlanSweepRow] {
        try parameters.validate(op: op)
        return proportions.map { proportion in
            let options = OpOptions(availableMemoryProportion: proportion)
            let outcome = Result { () throws(OpError) in try plan(parameters, target: target, options: options, op: op) }
            // A proportion outside 0 … 1 has no budget: its outcome says why.
            let budget = (try? options.temporaryBudget(bytesPerTile: target.bytesPerTile, op: op)) ?? 0
            return ConvPlanSweepRow(availableMemoryProportion: proportion, budgetBytes: budget, outcome: outcome)
        }
    }
}

extension ConvParameters {
    /// A matrix product `[groups × m × k] · [groups × k × n]` as the planner sees it: a 1 × 1
    /// convolution whose batch is the `m` rows, with one conv group per matrix pair (as poplin
    /// plans matmuls).
    public static func matrixProduct(m: Int, k: Int, n: Int, groups: Int = 1, elementType: ElementType = .float32) -> ConvParameters {
        ConvParameters(batch: m, inputChannels: groups * k, outputChannels: groups * n, groups: groups,
                       inputField: [1, 1], kernel: [1, 1], elementType: elementType)
    }
}
