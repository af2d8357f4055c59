import Testing
import Tessera
import TesseraTestSupport

/// Bad input to the normalisation and pooling operations is a typed error naming the operation and sizes.
@Suite struct NormErrorTests {
    let graph = Graph(target: testTarget(tiles: 4))
    var ops: OpBuilder { OpBuilder(graph) }

    /// A mapped variable.
    func tensor(_ type: ElementType, _ shape: [Int], _ name: String) throws -> Tensor {
        let t = graph.addVariable(type, shape, name: name)
        try graph.mapLinearly(t, grainSize: 1, minElementsPerTile: 1)
        return t
    }

    @Test func batchNormRejectsAChannelCountMismatch() throws {
        let x = try tensor(.float32, [2, 5, 3, 3], "x")
        let good = try tensor(.float32, [5], "good"), bad = try tensor(.float32, [4], "bad")
        let error = normError { () throws(OpError) in _ = try ops.batchNormInference(x, scale: good, shift: good, mean: bad, variance: good, name: "bn") }
        guard case .shapeMismatch(let op, let detail)? = error else { Issue.record("expected shapeMismatch, got \(String(describing: error))"); return }
        #expect(op.contains("batchNormInference") && detail.contains("mean") && detail.contains("[4]") && detail.contains("5 channels"))
        let training = normError { () throws(OpError) in _ = try ops.batchNormTraining(x, scale: bad, shift: good, name: "bn") }
        guard case .shapeMismatch(let trainingOp, _)? = training else { Issue.record("expected shapeMismatch, got \(String(describing: training))"); return }
        #expect(trainingOp.contains("batchNormTraining"))
    }

    @Test func batchNormRejectsMixedParameterTypesAndIntegerActivations() throws {
        let x = try tensor(.float32, [2, 3, 2, 2], "x")
        let single = try tensor(.float32, [3], "single"), half = try tensor(.float16, [3], "half")
        guard case .typeMismatch(_, let detail)? = normError({ () throws(OpError) in _ = try ops.batchNormTraining(x, scale: single, shift: half, name: "bn") }) else {
            Issue.record("expected typeMismatch"); return
        }
        #expect(detail.contains("shift") && detail.contains("float16"))
        let ints = try tensor(.int32, [2, 3, 2, 2], "ints")
        guard case .typeMismatch(let op, _)? = normError({ () throws(OpError) in _ = try ops.globalAveragePool(ints, name: "gap") }) else {
            Issue.record("expected typeMismatch"); return
        }
        #expect(op.contains("globalAveragePool"))
    }

    @Test func activationsMustBeFourDimensional() throws {
        let x = try tensor(.float32, [2, 3, 4], "x")
        guard case .shapeMismatch(_, let detail)? = normError({ () throws(OpError) in _ = try ops.maxPool2d(x, kernel: [2, 2], name: "pool") }) else {
            Issue.record("expected shapeMismatch"); return
        }
        #expect(detail.contains("[2, 3, 4]"))
    }

    @Test func badEpsilonGroupsAndReplicaGroupsAreRejected() throws {
        let x = try tensor(.float32, [2, 6, 2, 2], "x"), p = try tensor(.float32, [6], "p")
        guard case .badParameter(_, let groups)? = normError({ () throws(OpError) in _ = try ops.groupNorm(x, groups: 4, scale: p, shift: p, name: "gn") }) else {
            Issue.record("expected badParameter"); return
        }
        #expect(groups.contains("4 groups") && groups.contains("6 channels"))
        guard case .badParameter(_, let epsilon)? = normError({ () throws(OpError) in _ = try ops.batchNormTraining(x, scale: p, shift: p, epsilon: -1, name: "bn") }) else {
            Issue.record("expected badParameter"); return
        }
        #expect(epsilon.contains("-1"))
        guard case .badParameter(_, let replicas)? = normError({ () throws(OpError) in _ = try ops.batchNormTraining(x, scale: p, shift: p, replicaGroup: .consecutive(2), name: "bn") }) else {
            Issue.record("expected badParameter"); return
        }
        #expect(replicas.contains("replica group of 2"))
    }

    @Test(arguments: [
        ([3], [1, 1], [0, 0], "kernel [3]"),
        ([0, 2], [1, 1], [0, 0], "kernel [0, 2]"),
        ([2, 2], [1, 0], [0, 0], "stride [1, 0]"),
        ([3, 3], [1, 1], [2, 1], "padding [2, 1]"),
        ([2, 2], [1, 1], [-1, 0], "padding [-1, 0]"),
        ([7, 2], [1, 1], [1, 0], "kernel [7, 2]"),
    ])
    func poolingRejectsBadWindows(kernel: [Int], stride: [Int], padding: [Int], mentions: String) throws {
        let x = try tensor(.float16, [1, 2, 4, 5], "x")
        for average in [false, true] {
            let error = normError { () throws(OpError) in
                if average {
                    _ = try ops.avgPool2d(x, kernel: kernel, stride: stride, padding: padding, name: "pool")
                } else {
                    _ = try ops.maxPool2d(x, kernel: kernel, stride: stride, padding: padding, name: "pool")
                }
            }
            guard case .badParameter(let op, let detail)? = error else { Issue.record("expected badParameter, got \(String(describing: error))"); continue }
            #expect(op.contains(average ? "avgPool2d" : "maxPool2d") && detail.contains(mentions))
        }
    }

    @Test func unmappedActivationsAreReportedBeforeCompiling() throws {
        let x = graph.addVariable(.float32, [1, 2, 3, 3], name: "x")
        try graph.setTileMapping(x.flatten().slice(0..<9), tile: 0)
        guard case .badParameter(let op, let detail)? = normError({ () throws(OpError) in _ = try ops.globalAveragePool(x, name: "gap") }) else {
            Issue.record("expected badParameter"); return
        }
        #expect(op == "globalAveragePool 'gap'" && detail.contains("9 of the 18"))
        guard case .badParameter? = normError({ () throws(OpError) in _ = try ops.avgPool2d(x, kernel: [2, 2], name: "pool") }) else {
            Issue.record("expected badParameter"); return
        }
    }

    @Test func poolingWhoseGatherBuffersExceedTheBudgetDoesNotFit() throws {
        let small = Graph(target: testTarget(tiles: 4, bytes: 1_024))
        let x = small.addVariable(.float32, [1, 1, 32, 32], name: "x")
        try normMap(small, x, .randomCuts)
        let ops = OpBuilder(small)
        let error = normError { () throws(OpError) in _ = try ops.avgPool2d(x, kernel: [5, 5], stride: [1, 1], padding: [2, 2], name: "pool") }
        guard case .doesNotFit(let op, let needed, let available, _)? = error else { Issue.record("expected doesNotFit, got \(String(describing: error))"); return }
        let budget = try ops.temporaryBudget(op: op)
        #expect(op.contains("avgPool2d") && needed > available && available == budget)
        #expect(ops.steps.isEmpty && ops.plans.isEmpty)
    }
}
