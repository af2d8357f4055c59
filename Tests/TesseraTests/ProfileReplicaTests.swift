import Foundation
import Testing
import Tessera
import TesseraTestSupport

// MARK: - A replicated run to report on

/// A graph of `replicas` replicas on 4 tiles that scales a gradient on every tile, all-reduces it
/// over the replicas and copies the result, twice; compiled and run once on one thread.
private func replicatedRun(replicas: Int) throws -> (Executable, ExecutionRecord, Engine, Tensor) {
    let graph = try Graph(target: testTarget(tiles: 4), replicas: replicas)
    let x = graph.addVariable(.float32, [4, 16], name: "x")
    let grads = graph.addVariable(.float32, [4, 16], name: "grads")
    for row in 0..<4 {
        try graph.setTileMapping(x.index(row), tile: row)
        try graph.setTileMapping(grads.index(row), tile: row)
    }
    try graph.makeHostVisible(x)
    try graph.makeHostVisible(grads)
    let scale = graph.addComputeSet("scale")
    for row in 0..<4 {
        try graph.addVertex(scale, ScaleCodelet(factor: 2), tile: row, ["in": x.index(row), "out": grads.index(row)])
    }
    let program = Program.repeat(count: 2, body: .sequence(.execute(scale), .allReduce([grads], .sum, group: .all),
                                                           .copy(from: grads, to: x)))
    let exe = try Compiler.compile(graph, program: program)
    let engine = try Engine(exe, options: EngineOptions(threads: 1, pinThreads: false))
    for replica in 0..<replicas {
        try engine.write(x, [Float](repeating: Float(replica + 1), count: 64), replica: replica)
    }
    try engine.run()
    return (exe, try #require(engine.lastRun), engine, x)
}

/// The six phases of a row, which must add up to its cycles per execution.
private func phaseSum(_ row: CycleReport.Row) -> Int {
    row.syncCycles + row.exchangeInCycles + row.computeCycles + row.exchangeOutCycles + row.hostCycles + row.collectiveCycles
}

private func args(_ event: [String: Any]) -> [String: Any] { event["args"] as? [String: Any] ?? [:] }

@Suite(.serialized) struct ProfileReplicaTests {
    // MARK: - Cycles

    @Test(arguments: [2, 4])
    func cyclesJSONCarriesTheCollective(replicas: Int) throws {
        let (exe, record, engine, x) = try replicatedRun(replicas: replicas)
        // The run did reduce: replica r starts with r + 1, so after two rounds every replica holds 4 R Σ (r + 1).
        let expected = Float(4 * replicas * (1...replicas).reduce(0, +))
        #expect(try engine.readAllReplicas(x, as: Float.self) == [[Float]](repeating: [Float](repeating: expected, count: 64),
                                                                            count: replicas))

        let report = try CycleReport(executable: exe, record: record)
        let data = try ReportJSON.cycles(report)
        let object = try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["schema"] as? String == "tessera.cycles/1")
        #expect(object["replicas"] as? Int == replicas)
        let steps = try #require(object["steps"] as? [[String: Any]])
        let collective = try #require(steps.first { $0["kind"] as? String == "collective" })
        let step = exe.steps[try #require(collective["index"] as? Int)]
        #expect(step.collectiveCycles > 0)
        #expect(collective["collectiveCycles"] as? Int == step.collectiveCycles)
        #expect(collective["collectiveBytes"] as? Int == 64 * 4)
        #expect(collective["executions"] as? Int == 2)
        #expect(collective["cyclesPerExecution"] as? Int == step.totalCycles)
        #expect(steps.filter { $0["kind"] as? String != "collective" }.allSatisfy { $0["collectiveCycles"] as? Int == 0 })

        let totals = try #require(object["totals"] as? [String: Any])
        let total = record.totalCycles(exe.steps)
        #expect(totals["totalCycles"] as? Int == total)
        #expect(totals["collectiveCycles"] as? Int == 2 * step.collectiveCycles)
        #expect(totals["collectiveBytes"] as? Int == 2 * 64 * 4)
        let share = try #require(totals["collectiveShare"] as? Double)
        #expect(abs(share - Double(2 * step.collectiveCycles) / Double(total)) < 1e-12)
        let phases = ["syncCycles", "exchangeCycles", "computeCycles", "hostCycles", "collectiveCycles"]
        #expect(phases.reduce(0) { $0 + (totals[$1] as? Int ?? 0) } == total)
        let shares = ["syncShare", "exchangeShare", "computeShare", "hostShare", "collectiveShare"]
        #expect(abs(shares.reduce(0.0) { $0 + (totals[$1] as? Double ?? 0) } - 1) < 1e-12)
        #expect(try JSONDecoder().decode(CycleReport.self, from: data).totals == report.totals)
    }

    @Test func cycleTextShowsReplicasAndTheCollectiveColumn() throws {
        let (exe, record, _, _) = try replicatedRun(replicas: 2)
        let report = try CycleReport(executable: exe, record: record)
        let text = report.text
        let total = record.totalCycles(exe.steps).grouped
        #expect(text.hasPrefix("Cycles of program 0 on target test4 × 2 replicas in lockstep at 1.33 GHz: \(total) cycles"))
        let share = String(format: "%.1f%%", report.totals.collectiveShare * 100)
        #expect(text.contains("collective \(share) (\(report.totals.collectiveCycles.grouped); 512 bytes per replica)"))
        let table = try #require(text.components(separatedBy: "total over executions)\n").last).split(separator: "\n")
        let header = table[0].split(separator: "  ").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let row = try #require(table.dropFirst().first { $0.contains(" collective ") }).split(separator: " ").map(String.init)
        let step = try #require(exe.steps.first { $0.kind == .collective })
        #expect(row[try #require(header.firstIndex(of: "collective"))] == step.collectiveCycles.grouped)
        #expect(row[try #require(header.firstIndex(of: "collective B"))] == "256")
        #expect(row[try #require(header.firstIndex(of: "total"))] == (2 * step.totalCycles).grouped)
    }

    /// A run of one replica leaves the text's first line as it was before replicas.
    @Test func singleReplicaTextDoesNotMentionReplicas() throws {
        let (exe, record, _, _) = try replicatedRun(replicas: 1)
        let report = try CycleReport(executable: exe, record: record)
        #expect(report.replicas == 1)
        #expect(report.text.hasPrefix("Cycles of program 0 on target test4 at 1.33 GHz: "))
        #expect(report.totals.collectiveCycles == 0)  // a group of one moves nothing
        #expect(!(try MemoryReport(exe.memory)).text.contains("replica"))
    }

    /// Every kind of step, including predicates and collectives: a row's six phases add up to its
    /// cycles per execution, and the totals' phases to the record's cycles.
    @Test func phasesAddUpForEveryStepKind() throws {
        let graph = try Graph(target: testTarget(tiles: 4), replicas: 2)
        let x = graph.addVariable(.float32, [4, 16], name: "x")
        let y = graph.addVariable(.float32, [4, 16], name: "y")
        let flag = graph.addVariable(.int32, [], name: "flag")
        for row in 0..<4 {
            try graph.setTileMapping(x.index(row), tile: row)
            try graph.setTileMapping(y.index(row), tile: (row + 1) % 4)
        }
        try graph.setTileMapping(flag, tile: 3)
        try graph.makeHostVisible(flag)
        let scale = graph.addComputeSet("scale")
        for row in 0..<4 { try graph.addVertex(scale, ScaleCodelet(factor: 3), tile: row, ["in": x.index(row), "out": y.index(row)]) }
        let input = try graph.addHostToDeviceStream("x-in", .float32, elementCount: 64)
        let output = try graph.addDeviceToHostStream("y-out", .float32, elementCount: 64)
        let program = Program.sequence(.streamToDevice(input, x), .execute(scale), .copy(from: y, to: x),
                                       .if(predicate: flag, then: .allReduce([x], .max, group: .all), else: .sequence([])),
                                       .streamToHost(x, output))
        let exe = try Compiler.compile(graph, program: program)
        let engine = try Engine(exe, options: EngineOptions(threads: 1, pinThreads: false))
        try engine.connect(input, (0..<128).map(Float.init))
        try engine.connect(output, chunks: 1)
        try engine.write(flag, [Int32(1)])
        try engine.run()
        let record = try #require(engine.lastRun)

        let report = try CycleReport(executable: exe, record: record)
        let kinds = Set(report.steps.filter { $0.executions > 0 }.map(\.kind.rawValue))
        #expect(kinds == ["hostToDevice", "compute", "copy", "predicate", "collective", "deviceToHost"])
        for row in report.steps {
            #expect(phaseSum(row) == row.cyclesPerExecution, "step \(row.index) (\(row.kind))")
            #expect(row.cyclesPerExecution == exe.steps[row.index].totalCycles)
        }
        let totals = report.totals
        #expect(totals.totalCycles == record.totalCycles(exe.steps))
        #expect(totals.syncCycles + totals.exchangeCycles + totals.computeCycles + totals.hostCycles + totals.collectiveCycles
                == totals.totalCycles)
        #expect(totals.collectiveCycles > 0 && totals.hostCycles > 0)
        #expect(abs(totals.syncShare + totals.exchangeShare + totals.computeShare + totals.hostShare + totals.collectiveShare - 1) < 1e-12)
    }

    // MARK: - Trace

    @Test(arguments: [2, 4])
    func traceHasOneProcessPerReplicaInLockstep(replicas: Int) throws {
        let (exe, record, _, _) = try replicatedRun(replicas: replicas)
        let trace = try ChromeTrace(executable: exe, record: record, options: .init(tilesPerGroup: 2))
        #expect(!trace.isTruncated && trace.writtenSteps == record.trace.count)
        let parsed = try ParsedTrace(trace.json)
        let other = try #require(parsed.object["otherData"] as? [String: Any])
        #expect(other["replicas"] as? Int == replicas && other["tileTrackReplicas"] as? Int == 1)

        let processes = parsed.events.filter { $0["ph"] as? String == "M" && $0["name"] as? String == "process_name" }
        #expect(processes.map { $0["pid"] as? Int } == (0..<replicas).map { $0 })
        #expect(processes.map { args($0)["name"] as? String } == (0..<replicas).map { "IPU \($0) (test4)" })

        let collectiveStep = try #require(exe.steps.first { $0.kind == .collective })
        let modelled = try CycleReport(executable: exe, record: record).totals.microseconds
        var collectiveTimes: [[Double]] = []
        for replica in 0..<replicas {
            let mine = parsed.complete(tid: ChromeTrace.stepsThread).filter { $0["pid"] as? Int == replica }
            let steps = mine.filter { $0["cat"] as? String == "step" }
            #expect(steps.map { args($0)["step"] as? Int } == record.trace.map { $0 })
            #expect(abs(steps.reduce(0.0) { $0 + ($1["dur"] as? Double ?? 0) } - modelled) <= 1e-6 * modelled)
            let collective = mine.filter { $0["name"] as? String == "collective" && $0["cat"] as? String == "phase" }
            #expect(collective.count == 2)  // one per execution
            for event in collective {
                let values = args(event)
                #expect(values["step"] as? Int == collectiveStep.index && values["kind"] as? String == "collective")
                #expect(values["cycles"] as? Int == collectiveStep.collectiveCycles && values["bytes"] as? Int == 256)
            }
            // Its sync precedes it within the collective step.
            let syncs = mine.filter { $0["name"] as? String == "sync" && args($0)["step"] as? Int == collectiveStep.index }
            #expect(syncs.count == 2 && syncs.allSatisfy { args($0)["cycles"] as? Int == collectiveStep.syncCycles })
            #expect(zip(syncs, collective).allSatisfy { ($0["ts"] as! Double) < ($1["ts"] as! Double) })
            collectiveTimes.append(collective.compactMap { $0["ts"] as? Double })
        }
        #expect(collectiveTimes.allSatisfy { $0 == collectiveTimes[0] })

        // Tile-group tracks belong to replica 0 only, unless asked for.
        let tiles = parsed.complete(category: "tiles")
        #expect(!tiles.isEmpty && tiles.allSatisfy { $0["pid"] as? Int == 0 })
        let everyReplica = try ParsedTrace(ChromeTrace(executable: exe, record: record,
                                                       options: .init(tilesPerGroup: 2, tileTracksForEveryReplica: true)).json)
        for replica in 0..<replicas {
            #expect(everyReplica.complete(category: "tiles").filter { $0["pid"] as? Int == replica }.count == tiles.count)
            let names = everyReplica.events.filter { $0["name"] as? String == "thread_name" && $0["pid"] as? Int == replica }
            #expect(names.count == 3)  // steps and two groups of two tiles
        }
    }

    @Test func everyReplicasEventsCountAgainstTheCap() throws {
        let (exe, record, _, _) = try replicatedRun(replicas: 4)
        let full = try ParsedTrace(ChromeTrace(executable: exe, record: record).json)
        let cap = full.events.count - 3
        let trace = try ChromeTrace(executable: exe, record: record, options: .init(maxEvents: cap))
        #expect(trace.isTruncated && trace.writtenSteps < record.trace.count)
        let parsed = try ParsedTrace(trace.json)
        #expect(parsed.events.count <= cap)
        // A step is written for every replica or for none.
        for replica in 0..<4 {
            #expect(parsed.complete(tid: ChromeTrace.stepsThread, category: "step").filter { $0["pid"] as? Int == replica }.count
                    == trace.writtenSteps)
        }
        #expect(parsed.events.last?["name"] as? String == "trace truncated")
    }

    // MARK: - Memory

    @Test(arguments: [2, 4])
    func memoryReportsStateTheReplicaTotal(replicas: Int) throws {
        let (exe, record, _, _) = try replicatedRun(replicas: replicas)
        let memory = exe.memory
        let used = memory.totalBytes
        #expect(used > 0)
        let text = try MemoryReport(memory, replicas: replicas).text
        #expect(text.contains("Memory of target test4, per replica of \(replicas): 4 tiles × 65,536 bytes = 262,144 bytes"))
        let line = try #require(text.split(separator: "\n").first { $0.contains("used by all") })
        let words = line.split(separator: " ").map(String.init)
        #expect(words.prefix(6) == ["used", "by", "all", "\(replicas)", "replicas", (replicas * used).grouped])
        #expect(line.contains("\(replicas) × \(used.grouped)") && line.contains("of \((replicas * 262_144).grouped) available"))

        let data = try ReportJSON.memory(memory, replicas: replicas)
        let object = try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["replicas"] as? Int == replicas)
        let totals = try #require(object["totals"] as? [String: Any])
        #expect(totals["totalBytes"] as? Int == used)
        #expect(totals["allReplicasTotalBytes"] as? Int == replicas * used)
        #expect(totals["allReplicasAvailableBytes"] as? Int == replicas * 262_144)
        #expect(try JSONDecoder().decode(MemoryProfile.self, from: data).tiles == memory.tiles)

        // The writer takes the replica count from the executable.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-profile-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try ReportWriter().write(executable: exe, record: record, to: directory)
        #expect(try Data(contentsOf: directory.appendingPathComponent("memory.json")) == data)
        #expect(try String(contentsOf: directory.appendingPathComponent("memory.txt"), encoding: .utf8) == text)
        let trace = try ParsedTrace(String(contentsOf: directory.appendingPathComponent("trace.json"), encoding: .utf8))
        #expect(trace.events.filter { $0["name"] as? String == "process_name" }.count == replicas)
    }
}
