import Testing
@testable import TesseraCompiler
@testable import TesseraGraph
@testable import TesseraModels
import Tessera
import TesseraTestSupport

/// The fast paths of the compiler's tables give exactly what the plain algorithms they replace give.
@Suite struct CompileTablesTests {
    /// A view of one run, as `ElementRunBuilder` gets it when each row is appended on its own.
    private func rowByRow(_ source: ElementRun, shape: [Int], offset: Int, strides: [Int]) -> [ElementRun] {
        var builder = ElementRunBuilder()
        let outer = shape.dropLast().reduce(1, *), row = shape.last ?? 1
        for block in 0..<outer {
            var start = offset, rest = block
            for dim in (0..<(shape.count - 1)).reversed() {
                start += rest % shape[dim] * strides[dim]
                rest /= shape[dim]
            }
            builder.append(ElementRun(data: source.data, start: source.element(start), count: row,
                                      stride: (strides.last ?? 1) * source.stride))
        }
        return builder.build().runs
    }

    @Test func singleRunViewsMergeAsRowByRowAppends() {
        var random = SplitMix64(seed: 7)
        for _ in 0..<2_000 {
            let rank = Int.random(in: 1...4, using: &random)
            let shape = (0..<rank).map { _ in [1, 1, 2, 3, 4].randomElement(using: &random)! }
            let strides = (0..<rank).map { _ in [0, 1, 2, 3, 4, 12].randomElement(using: &random)! }
            let source = ElementRun(data: 0, start: 5, count: 400, stride: Int.random(in: 0...2, using: &random))
            let offset = Int.random(in: 0...3, using: &random)
            let view = ElementRunList([source]).affineView(shape: shape, offset: offset, strides: strides)
            #expect(view.runs == rowByRow(source, shape: shape, offset: offset, strides: strides),
                    "shape \(shape) strides \(strides) offset \(offset) source stride \(source.stride)")
        }
    }

    @Test func placementIsTheFirstFitOfEveryOverlappingBlock() {
        var random = SplitMix64(seed: 11)
        var allocations = ChunkedArray<Allocation>()
        for _ in 0..<600 {
            let tile = Int.random(in: 0..<3, using: &random)
            if Int.random(in: 0..<8, using: &random) == 0 {
                allocations.append(Allocation(tile: tile, bytes: Int.random(in: 1...64, using: &random), category: .vertexCode,
                                              live: nil, alwaysLive: true, data: nil))
            } else {
                let start = Int.random(in: 0..<30, using: &random)
                let live = start...(start + [0, 0, 1, 5, 20].randomElement(using: &random)!)
                allocations.append(Allocation(tile: tile, bytes: Int.random(in: 1...200, using: &random), category: .exchangeBuffers,
                                              live: live, alwaysLive: false, data: nil))
            }
        }
        let placement = Placement(allocations: allocations, tiles: 3, alignment: 8)
        for tile in 0..<3 {
            let indices = allocations.indices.filter { allocations[$0].tile == tile }
            var base = 0
            for index in indices where allocations[index].alwaysLive { base = max(base, (placement.offsets[index] + allocations[index].bytes + 7) / 8 * 8) }
            let transient = indices.filter { !allocations[$0].alwaysLive }.sorted {
                (allocations[$1].bytes, allocations[$0].live!.lowerBound, $0) < (allocations[$0].bytes, allocations[$1].live!.lowerBound, $1)
            }
            // The plain scan: blocks placed so far in offset order, first gap that fits.
            var placed: [(offset: Int, end: Int, live: ClosedRange<Int>)] = []
            for index in transient {
                let bytes = allocations[index].bytes, live = allocations[index].live!
                var offset = base
                for block in placed where block.live.overlaps(live) {
                    if block.offset >= offset + bytes { break }
                    offset = max(offset, block.end)
                }
                #expect(placement.offsets[index] == offset, "block \(index) on tile \(tile)")
                placed.append((offset, (offset + bytes + 7) / 8 * 8, live))
                placed.sort { $0.offset < $1.offset }
            }
        }
    }

    @Test func copyMergerExtendsTheLatestCopyOfEachPair() {
        var random = SplitMix64(seed: 3)
        var merger = CopyMerger()
        for round in 0..<20 {
            merger.removeAll()
            var merged: [PlannedCopy] = [], expected: [PlannedCopy] = [], latest: [[Int]: Int] = [:]
            let pairs = round % 2 == 0 ? 3 : 40
            for step in 0..<300 {
                let source = Int.random(in: 0..<pairs, using: &random), destination = 100 + Int.random(in: 0..<2, using: &random)
                let copy = PlannedCopy(source: Endpoint(tile: 0, allocation: source, offset: step / 7 * 16, stride: 4),
                                       destination: Endpoint(tile: 1, allocation: destination, offset: step / 7 * 32, stride: 4),
                                       count: 4, elementBytes: 4)
                merger.append(copy, to: &merged)
                if let index = latest[[source, destination]], expected[index].absorb(copy) { continue }
                latest[[source, destination]] = expected.count
                expected.append(copy)
            }
            #expect(merged.map(\.rows) == expected.map(\.rows))
            #expect(merged.map(\.source.offset) == expected.map(\.source.offset))
        }
    }

    /// A model's compile holds millions of planned copies: each end is an allocation, an offset and
    /// a stride in 32 bits, with its tile the allocation's.
    @Test func plannedCopiesStayCompact() {
        #expect(MemoryLayout<PlannedCopy>.stride == 44)
        let copy = PlannedCopy(source: Endpoint(tile: 3, allocation: 7, offset: 16, stride: 4),
                               destination: Endpoint(tile: 5, allocation: 9, offset: 32, stride: 8), count: 2, elementBytes: 4)
        #expect(copy.source == PlannedCopy.End(allocation: 7, offset: 16, stride: 4))
        #expect(copy.destination.allocation == 9 && copy.destination.stride == 8 && copy.bytes == 8)
    }

    @Test func sharedBuffersFindEqualRunListsOnTheSameTile() {
        var random = SplitMix64(seed: 5)
        var table = SharedBuffers()
        let all = (0..<64).map { ElementRun(data: $0 % 3, start: $0 % 5, count: 1 + $0 % 2) }
        for _ in 0..<10 {
            table.removeAll()
            var reference: [[Int]: Int] = [:]
            for buffer in 0..<500 {
                let tile = Int.random(in: 0..<4, using: &random)
                let start = Int.random(in: 0..<60, using: &random), runs = start..<(start + Int.random(in: 1...4, using: &random))
                let key = [tile] + all[runs].flatMap { [$0.data, $0.start, $0.count, $0.stride] }
                #expect(table.buffer(tile: tile, runs: runs, of: all) == reference[key])
                if reference[key] == nil {
                    table.insert(buffer, tile: tile, runs: runs, of: all)
                    reference[key] = buffer
                }
            }
        }
    }
}

/// Adds one to every element of a float32 in-out field.
private struct AddOne: Codelet {
    var fields: [Field] { [.inOut("x", .float32)] }
    func estimateCycles(fieldSizes: [Int], target: Target) -> Int { fieldSizes[0] }
    func compute(_ fields: VertexFields) {
        let x = fields.output(0, as: Float.self)
        for i in x.indices { x[i] += 1 }
    }
}

/// An in-out field gathered from many tiles is copied in and back out: its copies in and out are
/// merged apart (one merger held indices into both lists, and a copy out compared against a copy
/// in read past the end of the copies out).
@Suite struct InOutFieldTests {
    @Test func anInOutFieldGatheredFromManyTilesIsReadAndWrittenBack() throws {
        let tiles = 64
        let graph = Graph(target: testTarget(tiles: tiles))
        let x = graph.addVariable(.float32, [tiles, 4], name: "x"), z = graph.addVariable(.float32, [tiles, 4], name: "z")
        let y = graph.addVariable(.float32, [1], name: "y")
        for row in 0..<tiles {
            try graph.setTileMapping(x.index(row), tile: row)
            try graph.setTileMapping(z.index(row), tile: row)
        }
        try graph.setTileMapping(y, tile: 0)
        for tensor in [x, y, z] { try graph.makeHostVisible(tensor) }
        let step = graph.addComputeSet("step")
        // A vertex whose copies in come first, then the in-out field on the same tile.
        try graph.addVertex(step, SumCodelet(), tile: 0, ["in": z.slice(1..<tiles).flatten(), "out": y])
        try graph.addVertex(step, AddOne(), tile: 0, ["x": x.slice(1..<tiles).flatten()])
        let engine = try Engine(try Compiler.compile(graph, program: .execute(step)))
        let values = (0..<(4 * tiles)).map { Float($0) }
        try engine.write(x, values)
        try engine.write(z, values)
        try engine.run()
        #expect(try engine.read(x, as: Float.self) == values.indices.map { $0 < 4 ? values[$0] : values[$0] + 1 })
        #expect(try engine.read(y, as: Float.self) == [values[4...].reduce(0, +)])
    }
}
