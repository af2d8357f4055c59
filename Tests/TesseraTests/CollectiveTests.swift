import Testing
import Tessera
import TesseraTestSupport

/// Values of replica `replica`, element `element`, chosen to exercise signs, ties and wrap-around.
private func value(_ replica: Int, _ element: Int) -> Double { Double((replica * 7 + element * 13) % 23) - 11 }

/// The combination in replica order that every collective must match exactly.
private func reference<T: Comparable>(
    _ values: [T], _ op: ReduceOperator, combine: (T, T) -> T, divide: (T, Int) -> T) -> T {
    var accumulator = values[0]
    for other in values.dropFirst() {
        switch op {
        case .sum, .mean: accumulator = combine(accumulator, other)
        case .max: accumulator = Swift.max(accumulator, other)
        case .min: accumulator = Swift.min(accumulator, other)
        }
    }
    return op == .mean ? divide(accumulator, values.count) : accumulator
}

/// A graph of `replicas` replicas on 4 tiles with one tensor of `count` elements spread over the tiles.
private func setUp(replicas: Int, type: ElementType, count: Int) throws -> (Graph, Tensor) {
    let graph = try Graph(target: testTarget(tiles: 4), replicas: replicas)
    let tensor = graph.addVariable(type, [count], name: "data")
    try graph.mapLinearly(tensor, grainSize: 3, minElementsPerTile: 3)
    try graph.makeHostVisible(tensor)
    return (graph, tensor)
}

@Suite(.serialized) struct CollectiveTests {
    static let replicaCounts = [1, 2, 3, 4, 8]

    @Test(arguments: replicaCounts, ReduceOperator.allCases)
    func allReduceEveryType(replicas: Int, op: ReduceOperator) throws {
        try checkAllReduce(Float.self, replicas: replicas, op: op, make: { Float($0) / 3 }, combine: +, divide: { $0 / Float($1) })
        try checkAllReduce(Float16.self, replicas: replicas, op: op, make: { Float16($0 / 4) }, combine: { Float16(Float($0) + Float($1)) },
                           divide: { Float16(Float($0) / Float($1)) }, accumulateInFloat: true)
        try checkAllReduce(Int32.self, replicas: replicas, op: op, make: { Int32($0) &* 300_000_000 }, combine: &+, divide: { $0 / Int32($1) })
        try checkAllReduce(UInt32.self, replicas: replicas, op: op, make: { UInt32(truncatingIfNeeded: Int($0) &* 400_000_000) },
                           combine: &+, divide: { $0 / UInt32($1) })
        try checkAllReduce(UInt8.self, replicas: replicas, op: op, make: { UInt8(truncatingIfNeeded: Int($0) * 29) }, combine: &+,
                           divide: { $0 / UInt8($1) })
    }

    /// All-reduces 29 elements of `T` spread over 4 tiles and compares every replica with the reference.
    /// Float16 is accumulated in float32 and rounded once, as the collective documents.
    private func checkAllReduce<T: DeviceScalar & Comparable>(
        _ type: T.Type, replicas: Int, op: ReduceOperator, make: (Double) -> T, combine: (T, T) -> T,
        divide: (T, Int) -> T, accumulateInFloat: Bool = false) throws {
        let count = 29
        let (graph, tensor) = try setUp(replicas: replicas, type: T.elementType, count: count)
        let engine = try Engine(try Compiler.compile(graph, program: .allReduce([tensor], op, group: .all)), options: EngineOptions(threads: 2))
        for replica in 0..<replicas { try engine.write(tensor, (0..<count).map { make(value(replica, $0)) }, replica: replica) }
        try engine.run()
        let expected: [T] = (0..<count).map { element in
            let inputs = (0..<replicas).map { make(value($0, element)) }
            if accumulateInFloat, let halves = inputs as? [Float16] {
                let wide = reference(halves.map(Float.init), op, combine: +, divide: { $0 / Float($1) })
                return Float16(wide) as! T
            }
            return reference(inputs, op, combine: combine, divide: divide)
        }
        for result in try engine.readAllReplicas(tensor, as: T.self) { #expect(result == expected, "\(T.self) \(op) R=\(replicas)") }
    }

    @Test(arguments: replicaCounts)
    func allReduceOfMixedTypesIsOneMergedCollective(replicas: Int) throws {
        let graph = try Graph(target: testTarget(tiles: 4), replicas: replicas)
        let half = graph.addVariable(.float16, [10], name: "half")
        let ints = graph.addVariable(.int32, [7], name: "ints")
        let bytes = graph.addVariable(.uint8, [5], name: "bytes")
        for t in [half, ints, bytes] {
            try graph.mapLinearly(t, grainSize: 2, minElementsPerTile: 2)
            try graph.makeHostVisible(t)
        }
        let executable = try Compiler.compile(graph, program: .allReduce([half, ints, bytes], .sum, group: .all))
        #expect(executable.steps.count == 1)
        #expect(executable.steps[0].collectiveBytes == 10 * 2 + 7 * 4 + 5)
        let engine = try Engine(executable, options: EngineOptions(threads: 2))
        for replica in 0..<replicas {
            try engine.write(half, (0..<10).map { Float16(value(replica, $0) / 4) }, replica: replica)
            try engine.write(ints, (0..<7).map { Int32(value(replica, $0)) &* 200_000_000 }, replica: replica)
            try engine.write(bytes, (0..<5).map { UInt8(truncatingIfNeeded: Int(value(replica, $0)) * 40) }, replica: replica)
        }
        try engine.run()
        let halfExpected = (0..<10).map { e in Float16((0..<replicas).reduce(Float(0)) { $0 + Float(Float16(value($1, e) / 4)) }) }
        let intsExpected = (0..<7).map { e in (0..<replicas).reduce(Int32(0)) { $0 &+ Int32(value($1, e)) &* 200_000_000 } }
        let bytesExpected = (0..<5).map { e in (0..<replicas).reduce(UInt8(0)) { $0 &+ UInt8(truncatingIfNeeded: Int(value($1, e)) * 40) } }
        for replica in 0..<replicas {
            #expect(try engine.read(half, as: Float16.self, replica: replica) == halfExpected)
            #expect(try engine.read(ints, as: Int32.self, replica: replica) == intsExpected)
            #expect(try engine.read(bytes, as: UInt8.self, replica: replica) == bytesExpected)
        }
    }

    @Test(arguments: replicaCounts, ReduceOperator.allCases)
    func reduceScatterThenAllGatherRoundTrips(replicas: Int, op: ReduceOperator) throws {
        try checkRoundTrip(Int32.self, replicas: replicas, op: op, make: { Int32($0) }, combine: &+, divide: { $0 / Int32($1) })
        try checkRoundTrip(Float.self, replicas: replicas, op: op, make: { Float($0) / 8 }, combine: +, divide: { $0 / Float($1) })
        try checkRoundTrip(UInt8.self, replicas: replicas, op: op, make: { UInt8(truncatingIfNeeded: Int($0) * 31) }, combine: &+,
                           divide: { $0 / UInt8($1) })
    }

    /// Reduce-scatters 23 elements (not a multiple of most R) and all-gathers the shards back.
    private func checkRoundTrip<T: DeviceScalar & Comparable>(
        _ type: T.Type, replicas: Int, op: ReduceOperator, make: (Double) -> T, combine: (T, T) -> T, divide: (T, Int) -> T) throws {
        let count = 23
        let shard = (count + replicas - 1) / replicas
        let graph = try Graph(target: testTarget(tiles: 4), replicas: replicas)
        let full = graph.addVariable(T.elementType, [count], name: "full")
        let piece = graph.addVariable(T.elementType, [shard], name: "shard")
        let gathered = graph.addVariable(T.elementType, [count], name: "gathered")
        for t in [full, piece, gathered] {
            try graph.mapLinearly(t, grainSize: 2, minElementsPerTile: 2)
            try graph.makeHostVisible(t)
        }
        let program = Program.sequence(.reduceScatter(from: full, to: piece, op, group: .all), .allGather(from: piece, to: gathered, group: .all))
        let engine = try Engine(try Compiler.compile(graph, program: program), options: EngineOptions(threads: 2))
        for replica in 0..<replicas { try engine.write(full, (0..<count).map { make(value(replica, $0)) }, replica: replica) }
        try engine.run()
        let reduced = (0..<count).map { e in reference((0..<replicas).map { make(value($0, e)) }, op, combine: combine, divide: divide) }
        let zero = make(0)
        for replica in 0..<replicas {
            let expectedShard = (0..<shard).map { replica * shard + $0 < count ? reduced[replica * shard + $0] : zero }
            #expect(try engine.read(piece, as: T.self, replica: replica) == expectedShard, "\(T.self) \(op) R=\(replicas)")
            #expect(try engine.read(gathered, as: T.self, replica: replica) == reduced, "\(T.self) \(op) R=\(replicas)")
        }
    }

    @Test func consecutiveGroupsReduceSeparately() throws {
        let (graph, tensor) = try setUp(replicas: 8, type: .float32, count: 9)
        let engine = try Engine(try Compiler.compile(graph, program: .allReduce([tensor], .sum, group: .consecutive(4))),
                                options: EngineOptions(threads: 2))
        for replica in 0..<8 { try engine.write(tensor, [Float](repeating: Float(replica), count: 9), replica: replica) }
        try engine.run()
        #expect(try engine.read(tensor, as: Float.self, replica: 0) == [Float](repeating: 6, count: 9))
        #expect(try engine.read(tensor, as: Float.self, replica: 7) == [Float](repeating: 22, count: 9))
    }

    @Test func resultsDoNotDependOnThreadCount() throws {
        let (graph, tensor) = try setUp(replicas: 3, type: .float32, count: 101)
        let executable = try Compiler.compile(graph, program: .allReduce([tensor], .mean, group: .all))
        var results: [[[UInt32]]] = []
        for threads in [1, 2, 3] {
            let engine = try Engine(executable, options: EngineOptions(threads: threads))
            for replica in 0..<3 { try engine.write(tensor, (0..<101).map { Float(value(replica, $0)) / 7 }, replica: replica) }
            try engine.run()
            results.append(try engine.readAllReplicas(tensor, as: Float.self).map { $0.map(\.bitPattern) })
        }
        #expect(results[0] == results[1] && results[1] == results[2])
    }

    @Test func replicaIndexHoldsEachReplicasIndex() throws {
        let graph = try Graph(target: testTarget(tiles: 2), replicas: 3)
        let index = graph.replicaIndex()
        let copy = graph.addVariable(.uint32, [], name: "copy")
        try graph.setTileMapping(copy, tile: 1)
        try graph.makeHostVisible(copy)
        let engine = try Engine(try Compiler.compile(graph, program: .copy(from: index, to: copy)), options: EngineOptions(threads: 2))
        try engine.run()
        #expect(try engine.readAllReplicas(copy, as: UInt32.self) == [[0], [1], [2]])
    }

    @Test func perReplicaStreamsFeedEachReplicaItsOwnSlice() throws {
        let graph = try Graph(target: testTarget(tiles: 2), replicas: 2)
        let x = graph.addVariable(.float32, [4], name: "x")
        try graph.mapLinearly(x, grainSize: 1, minElementsPerTile: 1)
        try graph.makeHostVisible(x)
        let stream = try graph.addHostToDeviceStream("x", .float32, elementCount: 4)
        let engine = try Engine(try Compiler.compile(graph, program: .streamToDevice(stream, x)), options: EngineOptions(threads: 2))
        try engine.connect(stream, (0..<8).map(Float.init))
        try engine.run()
        #expect(try engine.readAllReplicas(x, as: Float.self) == [[0, 1, 2, 3], [4, 5, 6, 7]])
        #expect(throws: RuntimeError.self) { try engine.connect(stream, (0..<4).map(Float.init)) }
    }

    @Test func collectiveErrorsNameTheCollective() throws {
        let graph = try Graph(target: testTarget(tiles: 2), replicas: 6)
        let a = graph.addVariable(.float32, [10], name: "grads")
        let b = graph.addVariable(.float32, [3], name: "shard")
        let c = graph.addVariable(.int32, [2], name: "ints")
        for t in [a, b, c] { try graph.setTileMapping(t, tile: 0) }
        func message(_ program: Program) -> String? {
            do { _ = try Compiler.compile(graph, program: program); return nil } catch { return "\(error)" }
        }
        #expect(message(.allReduce([a], .sum, group: .consecutive(4))) == "allReduce(grads): groups of 4 replicas do not divide the 6 replicas")
        #expect(message(.reduceScatter(from: a, to: b, .sum, group: .all)) == "reduceScatter(grads): output 'shard' has 3 elements, needs one shard of ⌈10 / 6⌉ = 2 elements")
        #expect(message(.allGather(from: b, to: c, group: .all))?.hasPrefix("allGather(shard): input is float32, output is int32") == true)
        #expect(message(.allGather(from: b, to: a, group: .all))?.contains("needs 16...18 elements") == true)
        #expect(throws: GraphError.self) { try Graph(target: testTarget(tiles: 2), replicas: 0) }
    }
}
