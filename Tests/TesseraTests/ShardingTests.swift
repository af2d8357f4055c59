import Testing
import Tessera
import TesseraExamples
import TesseraTestSupport

@Suite struct ShardingTests {
    @Test(arguments: [1, 2, 3, 4])
    func shardedAndWholeOptimiserStepsAgreeWithReference(replicas: Int) throws {
        let parameters = 50
        let weights = (0..<parameters).map { Float($0 % 9) - 4 }
        func gradient(_ replica: Int) -> [Float] { (0..<parameters).map { Float(($0 * 5 + replica * 3) % 11) / 4 - 1 } }
        var results: [[Float]] = []
        for sharded in [false, true] {
            let step = try ShardedOptimizerExample.compile(target: testTarget(tiles: 4), replicas: replicas, parameters: parameters, sharded: sharded)
            let engine = try Engine(step.executable, options: EngineOptions(threads: 2))
            try engine.write(step.weights, weights)
            for replica in 0..<replicas { try engine.write(step.gradients, gradient(replica), replica: replica) }
            if sharded {
                let master = try #require(step.executable.memory.variables.first { $0.name == "master weights" })
                #expect(master.bytes == (parameters + replicas - 1) / replicas * 4)
            }
            try engine.run()
            let all = try engine.readAllReplicas(step.weights, as: Float.self)
            #expect(all.allSatisfy { $0 == all[0] })
            results.append(all[0])
        }
        let mean = (0..<parameters).map { e in (0..<replicas).reduce(Float(0)) { $0 + gradient($1)[e] } / Float(replicas) }
        // The sharded layout starts from zero master weights, the whole one from the weights: compare each to its reference.
        #expect(results[0] == (0..<parameters).map { weights[$0] - 0.1 * mean[$0] })
        #expect(results[1] == (0..<parameters).map { 0 - 0.1 * mean[$0] })
    }

    @Test func shardingDividesOptimiserStateMemory() throws {
        let rows = try ShardedOptimizerExample.memoryComparison(target: testTarget(tiles: 8, bytes: 262_144), parameters: 64_000, replicaCounts: [1, 4])
        // Whole: weights, gradients and velocity, 3 × 32,000 B per tile; sharded: 2 × 32,000 B plus three shards of 32,000 / R.
        #expect(rows[0].whole.alwaysLive.variables + rows[0].whole.notAlwaysLivePeak.variables == 96_000)
        #expect(rows[1].whole.alwaysLive.variables + rows[1].whole.notAlwaysLivePeak.variables == 96_000)
        #expect(rows[1].sharded.alwaysLive.variables + rows[1].sharded.notAlwaysLivePeak.variables == 64_000 + 3 * 8_000)
    }

    @Test func shardedTensorUsedAsWholeIsATypedError() throws {
        let graph = try Graph(target: testTarget(tiles: 2), replicas: 4)
        let state = graph.addReplicaShardedVariable(.float32, [10], name: "velocity")
        try graph.mapLinearly(state.shard)
        #expect(state.shard.shape == [3])
        #expect {
            try Compiler.compile(graph, program: .allReduce([state.shard], .sum, group: .all))
        } throws: { error in
            "\(error)" == "allReduce(velocity): 'velocity' is replica-sharded (a shard of 10 elements per replica) but is used as a whole tensor; all-gather it first"
        }
    }
}
