import Testing
import Tessera
import TesseraTestSupport

/// The operations' plans: their modelled cycles agree with the compiler's model of the steps they
/// add, and per-channel coefficients cross the exchange once per tile.
@Suite struct NormPlanTests {
    /// Builds every operation on one `[2, 6, 8, 8]` float16 activation spread channel-major over 8 tiles.
    static func build() throws -> (OpBuilder, Executable) {
        let graph = Graph(target: testTarget(tiles: 8))
        let x = graph.addVariable(.float16, [2, 6, 8, 8], name: "x")
        try normMap(graph, x, .channelMajor)
        let p = graph.addVariable(.float32, [6], name: "p")
        try graph.setTileMapping(p, tile: 0)
        let ops = OpBuilder(graph)
        _ = try ops.batchNormInference(x, scale: p, shift: p, mean: p, variance: p, name: "bn")
        _ = try ops.batchNormTraining(x, scale: p, shift: p, name: "bt")
        _ = try ops.groupNorm(x, groups: 3, scale: p, shift: p, name: "gn")
        _ = try ops.maxPool2d(x, kernel: [3, 3], stride: [2, 2], padding: [1, 1], name: "mp")
        _ = try ops.avgPool2d(x, kernel: [2, 3], stride: [1, 2], padding: [1, 0], countIncludePad: false, name: "ap")
        _ = try ops.globalAveragePool(x, name: "gap")
        return (ops, try Compiler.compile(graph, program: ops.program))
    }

    @Test func plannedCyclesAgreeWithTheCompiledSteps() throws {
        let (ops, executable) = try Self.build()
        #expect(ops.plans.map(\.kind) == ["batchNormInference", "batchNormTraining", "groupNorm", "maxPool2d", "avgPool2d", "globalAveragePool"])
        for plan in ops.plans {
            let steps = executable.steps.filter { $0.name.hasPrefix(plan.name + "/") }
            let compiled = steps.reduce(0) { $0 + $1.syncCycles + $1.exchangeInCycles + $1.computeCycles + $1.exchangeOutCycles }
            #expect(!steps.isEmpty && plan.tilesUsed == 8)
            #expect(abs(plan.modelledCycles - compiled) * 10 <= compiled, "\(plan.name): planned \(plan.modelledCycles), compiled \(compiled)")
        }
    }

    @Test func coefficientsCrossTheExchangeOncePerTile() throws {
        let (_, executable) = try Self.build()
        let normalise = try #require(executable.steps.first { $0.name == "bn/normalise" })
        // 8 tiles each holding parts of at most 2 channels receive at most a and b (float32) of those.
        #expect(normalise.exchangedBytes > 0 && normalise.exchangedBytes <= 8 * 2 * 8)
        // Channel-major mapping gives each tile one region per batch item, stored one after
        // another and using the same channels: one vertex per tile.
        #expect(normalise.vertices == 8)
    }

    /// 96 channels over 16 tiles: the coefficients go in blocks of at least 32 channels, so 3
    /// tiles compute them and each tile normalising a channel range gathers it from at most 2.
    @Test func coefficientsGoInBlocksOfThirtyTwoChannels() throws {
        let graph = Graph(target: testTarget(tiles: 16))
        let x = graph.addVariable(.float32, [1, 96, 4, 4], name: "x")
        try normMap(graph, x, .linear)
        let p = graph.addVariable(.float32, [96], name: "p")
        try graph.mapLinearly(p, grainSize: 1, minElementsPerTile: 1)
        let ops = OpBuilder(graph)
        _ = try ops.batchNormInference(x, scale: p, shift: p, mean: p, variance: p, name: "bn")
        let executable = try Compiler.compile(graph, program: ops.program)
        let coefficients = try #require(executable.steps.first { $0.name == "bn/coefficients" })
        let normalise = try #require(executable.steps.first { $0.name == "bn/normalise" })
        #expect(coefficients.vertices == 3 && coefficients.activeTiles == 3)
        // Each tile holds 6 channels (96 elements) and receives their a and b at most once.
        #expect(normalise.exchangedBytes <= 16 * 6 * 2 * 4)
        let normaliseIndex = try #require(executable.steps.firstIndex { $0.name == "bn/normalise" })
        let copies = executable.supersteps[normaliseIndex].exchangeIn
        for group in copies.tiles.indices {
            let sources = Set(copies.items[copies.tileStart[group]..<copies.tileStart[group + 1]].map(\.sourceTile))
            #expect(sources.count <= 2 * 2, "tile \(copies.tiles[group]) gathers a and b from \(sources.count) tiles")
        }
    }

    /// With one region per tile, every step of every operation runs one vertex per tile (its codelet
    /// shares the work over the worker contexts) instead of one per worker context.
    @Test func linearMappingGivesOneVertexPerTilePerStep() throws {
        let graph = Graph(target: testTarget(tiles: 8))
        let x = graph.addVariable(.float32, [2, 6, 8, 8], name: "x")
        try normMap(graph, x, .linear)
        let p = graph.addVariable(.float32, [6], name: "p")
        try graph.setTileMapping(p, tile: 0)
        let ops = OpBuilder(graph)
        _ = try ops.batchNormTraining(x, scale: p, shift: p, name: "bt")
        _ = try ops.groupNorm(x, groups: 3, scale: p, shift: p, name: "gn")
        _ = try ops.maxPool2d(x, kernel: [3, 3], stride: [2, 2], padding: [1, 1], name: "mp")
        let executable = try Compiler.compile(graph, program: ops.program)
        let steps = executable.steps.filter { ["bt/", "gn/", "mp/"].contains(where: $0.name.hasPrefix) && $0.vertices > 0 }
        #expect(steps.count >= 7)
        for step in steps { #expect(step.vertices <= 8, "\(step.name): \(step.vertices) vertices on 8 tiles") }
    }
}
