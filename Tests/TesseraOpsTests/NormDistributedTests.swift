import Testing
import Tessera
import TesseraTestSupport

/// Distributed batch normalisation over 2 replicas: each replica holds half of a batch, and the
/// all-reduced per-replica sums give the statistics of the whole (concatenated) batch.
@Suite struct NormDistributedTests {
    static let half = [2, 3, 5, 3]

    /// Each replica's half batch, and the concatenated batch `[4, 3, 5, 3]`.
    static func halves(_ type: ElementType) -> (first: [Double], second: [Double], whole: [Double]) {
        var random = NormRandom(seed: 5)
        let count = half.reduce(1, *)
        let first = random.values(count, -1...3, type: type), second = random.values(count, -2...2, type: type)
        return (first, second, first + second)
    }

    @Test(arguments: [ElementType.float32, .float16])
    func allReducedSumsEqualThoseOfTheConcatenatedBatch(_ type: ElementType) throws {
        let graph = try Graph(target: testTarget(tiles: 4), replicas: 2)
        let x = graph.addVariable(type, Self.half, name: "x")
        try normMap(graph, x, .randomCuts)
        let ops = OpBuilder(graph)
        let sums = try ops.batchNormSums(x, name: "sums")
        #expect(sums.shape == [3, 2] && sums.elementType == .float32)
        ops.append(.allReduce([sums], .sum, group: .all))
        let (first, second, whole) = Self.halves(type)
        let c = 3, plane = 15, count = Double(4 * plane)
        let moments = normReferenceMoments(whole, n: 4, c: c, plane: plane)
        for replica in 0..<2 {
            let result = try normRun(ops, inputs: [], outputs: [sums], replicaInputs: [[(x, first)], [(x, second)]], replica: replica)[0]
            let mean = (0..<c).map { result[2 * $0] / count }
            let variance = (0..<c).map { result[2 * $0 + 1] / count - mean[$0] * mean[$0] }
            #expect(normWorstError(mean, moments.mean) < 1e-5)
            #expect(normWorstError(variance, moments.variance) < 1e-5)
        }
    }

    @Test(arguments: [ElementType.float32, .float16])
    func trainingOverAReplicaGroupNormalisesWithTheWholeBatchStatistics(_ type: ElementType) throws {
        let graph = try Graph(target: testTarget(tiles: 4), replicas: 2)
        let x = graph.addVariable(type, Self.half, name: "x")
        try normMap(graph, x, .channelMajor)
        let scale = graph.addVariable(type, [3], name: "scale"), shift = graph.addVariable(type, [3], name: "shift")
        try graph.setTileMapping(scale, tile: 1)
        try graph.setTileMapping(shift, tile: 2)
        let ops = OpBuilder(graph)
        let (y, mean, variance) = try ops.batchNormTraining(x, scale: scale, shift: shift, replicaGroup: .all, name: "bn")
        let (first, second, whole) = Self.halves(type)
        let scales = [0.5, 1.5, 2.0], shifts = [0.25, -1.0, 0.5]
        let moments = normReferenceMoments(whole, n: 4, c: 3, plane: 15)
        for (replica, mine) in [first, second].enumerated() {
            let results = try normRun(ops, inputs: [(scale, scales), (shift, shifts)], outputs: [y, mean, variance],
                                      replicaInputs: [[(x, first)], [(x, second)]], replica: replica)
            #expect(normWorstError(results[1], moments.mean) < 1e-5)
            #expect(normWorstError(results[2], moments.variance) < 1e-5)
            let expected = normReferenceAffine(mine, c: 3, plane: 15, mean: moments.mean, variance: moments.variance,
                                               scale: scales, shift: shifts, epsilon: 1e-5)
            #expect(normWorstError(results[0], expected) < normTolerance(type) * (type == .float32 ? 5 : 1))
        }
    }
}
