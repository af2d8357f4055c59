import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import Tessera
import TesseraTestSupport

// MARK: - A small run to report on

/// A graph on `tiles` tiles that exchanges, repeats, copies and streams to the host, with extra
/// data on tile 2 so that one tile is clearly the fullest; compiled and run once on one thread.
private func smallRun(tiles: Int = 8, traceLimit: Int = 1_000) throws -> (Executable, ExecutionRecord) {
    let graph = Graph(target: testTarget(tiles: tiles))
    let x = graph.addVariable(.float32, [tiles, 16], name: "x")
    let y = graph.addVariable(.float32, [tiles, 16], name: "y")
    let sums = graph.addVariable(.float32, [tiles], name: "sums")
    let ballast = graph.addVariable(.float32, [256], name: "ballast")
    for row in 0..<tiles {
        try graph.setTileMapping(x.index(row), tile: row)
        try graph.setTileMapping(y.index(row), tile: (row + 1) % tiles)
    }
    try graph.setTileMapping(sums, tile: 0)
    try graph.setTileMapping(ballast, tile: 2)
    try graph.makeHostVisible(x)
    let scale = graph.addComputeSet("scale")
    let sum = graph.addComputeSet("sum")
    for row in 0..<tiles {
        try graph.addVertex(scale, ScaleCodelet(factor: 2, offset: 1), tile: row, ["in": x.index(row), "out": y.index(row)])
        try graph.addVertex(sum, SumCodelet(), tile: row, ["in": y.index(row), "out": sums.index(row)])
    }
    let out = try graph.addDeviceToHostStream("sums", .float32, elementCount: tiles)
    let firstRow = try x.index(0), ballastHead = try ballast.slice(0..<16)
    let program = Program.sequence(
        .repeat(count: 3, body: .sequence(.execute(scale), .copy(from: y, to: x))),
        .copy(from: firstRow, to: ballastHead),
        .execute(sum),
        .streamToHost(sums, out))
    let exe = try Compiler.compile(graph, program: program)
    let engine = try Engine(exe, options: EngineOptions(threads: 1, pinThreads: false, traceLimit: traceLimit))
    try engine.write(x, (0..<(tiles * 16)).map(Float.init))
    try engine.connect(out)
    try engine.run()
    return (exe, try #require(engine.lastRun))
}

/// The profile of a graph that does not fit: tile 1 holds more than its 8,192 bytes.
private func outOfMemoryProfile() throws -> MemoryProfile {
    let graph = Graph(target: testTarget(tiles: 4, bytes: 8_192))
    let big = graph.addVariable(.float32, [3_000], name: "big")
    let small = graph.addVariable(.float32, [4], name: "small")
    try graph.setTileMapping(big, tile: 1)
    try graph.mapLinearly(small)
    let head = try big.slice(0..<4)
    do {
        _ = try Compiler.compile(graph, program: .copy(from: head, to: small))
    } catch let CompileError.outOfMemory(failure) {
        return failure.profile
    }
    Issue.record("the graph was expected not to fit")
    throw CancellationError()
}

private func temporaryDirectory() -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("tessera-profile-\(UUID().uuidString)")
}

// MARK: - Memory text

@Test func memoryTextNamesTheFullestTileAndItsTotal() throws {
    let (exe, _) = try smallRun()
    let profile = exe.memory
    let fullest = profile.fullestTile
    #expect(fullest.tile == 2)
    let text = try MemoryReport(profile).text
    #expect(text.contains("Fullest tile \(fullest.tile): \(fullest.totalBytes.grouped) of 65,536 bytes"))
    #expect(text.contains("Memory of target test8: 8 tiles × 65,536 bytes = 524,288 bytes"))
    #expect(text.contains(profile.totalBytes.grouped))
    #expect(text.contains("Tiles over budget: none"))
    #expect(!text.contains("OUT OF MEMORY"))
    // The breakdown's total row repeats the tile's always-live, peak and total bytes.
    let totalRow = try #require(text.split(separator: "\n").first { $0.hasPrefix("  total ") })
    #expect(totalRow.split(separator: " ").map(String.init)
        == ["total", fullest.alwaysLiveBytes.grouped, fullest.notAlwaysLivePeakBytes.grouped, fullest.totalBytes.grouped])
}

@Test func fullestTilesTableIsSortedByBytes() throws {
    let (exe, _) = try smallRun()
    let report = try MemoryReport(exe.memory, topTiles: 3)
    let order = report.tilesByUse
    #expect(order.count == 8)
    #expect(zip(order, order.dropFirst()).allSatisfy { $0.totalBytes >= $1.totalBytes })
    #expect(order[0].tile == exe.memory.fullestTile.tile)
    let section = try #require(report.text.components(separatedBy: "Fullest tiles\n").last)
    let rows = section.split(separator: "\n").dropFirst().prefix(3).map { $0.split(separator: " ").first.map(String.init) }
    #expect(rows == order.prefix(3).map { String($0.tile) })
}

@Test(arguments: [1, 3, 10])
func histogramCountsEveryTileOnce(buckets: Int) throws {
    let (exe, _) = try smallRun(tiles: 16)
    let histogram = MemoryHistogram(exe.memory, bucketCount: buckets)
    #expect(histogram.buckets.count == buckets + 1)
    #expect(histogram.buckets.reduce(0) { $0 + $1.tiles } == 16)
    #expect(histogram.overBudget.tiles == 0)
    for tile in exe.memory.tiles {
        let holders = histogram.buckets.filter { $0.lowerBytes <= tile.totalBytes && tile.totalBytes <= ($0.upperBytes ?? .max) }
        #expect(holders.count == 1, "tile \(tile.tile) with \(tile.totalBytes) bytes")
    }
    #expect(histogram.buckets.first?.lowerBytes == 0)
    #expect(histogram.buckets[buckets - 1].upperBytes == 65_536)
}

@Test func histogramInTheTextSumsToTheTileCount() throws {
    let (exe, _) = try smallRun(tiles: 16)
    let text = try MemoryReport(exe.memory).text
    let section = try #require(text.components(separatedBy: "Tiles by bytes used").last)
    let rows = section.split(separator: "\n").dropFirst(2).prefix(11)
    #expect(rows.count == 11)
    // Columns: share of budget, byte range, tiles, bar.
    let counts = rows.map { row in
        row.split(separator: " ").compactMap { Int($0.replacingOccurrences(of: ",", with: "")) }.last ?? -1
    }
    #expect(counts.reduce(0, +) == 16)
    for (row, count) in zip(rows, counts) { #expect(row.filter { $0 == "#" }.count == count) }
}

@Test func outOfMemoryIsFlagged() throws {
    let profile = try outOfMemoryProfile()
    #expect(profile.tilesOverBudget == [1])
    let report = try MemoryReport(profile)
    #expect(report.histogram.overBudget.tiles == 1)
    let text = report.text
    #expect(text.hasPrefix("OUT OF MEMORY: 1 of 4 tiles need more than 8,192 bytes"))
    let tile = profile.tiles[1]
    #expect(text.contains("Tiles over budget (1, tile (bytes, excess)): 1 (\(tile.totalBytes.grouped), +\((tile.totalBytes - 8_192).grouped))"))
}

// MARK: - JSON

@Test func memoryJSONDecodesBackToTheProfile() throws {
    let (exe, _) = try smallRun()
    let data = try ReportJSON.memory(exe.memory)
    let text = String(decoding: data, as: UTF8.self)
    #expect(text.contains("\"schema\" : \"tessera.memory/1\""))
    let decoded = try JSONDecoder().decode(MemoryProfile.self, from: data)
    #expect(decoded.schema == ReportJSON.memorySchema)
    #expect(decoded.target == exe.memory.target)
    #expect(decoded.tiles == exe.memory.tiles)
    #expect(decoded.variables == exe.memory.variables)
    #expect(decoded.totalBytes == exe.memory.totalBytes)
    #expect(decoded.alwaysLiveBytes == exe.memory.alwaysLiveBytes)

    let object = try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
    let totals = try #require(object["totals"] as? [String: Any])
    #expect(totals["totalBytes"] as? Int == exe.memory.totalBytes)
    #expect(totals["fullestTile"] as? Int == exe.memory.fullestTile.tile)
    let tileTotals = try #require(object["tileTotals"] as? [[String: Any]])
    #expect(tileTotals.count == 8)
    #expect(tileTotals.map { $0["totalBytes"] as? Int } == exe.memory.tiles.map(\.totalBytes))
    #expect(tileTotals.map { $0["gapBytes"] as? Int } == exe.memory.tiles.map(\.gapBytes))
    // Same profile, same bytes.
    #expect(try ReportJSON.memory(exe.memory) == data)
    #expect(throws: ProfileError.badReplicaCount(0)) { try ReportJSON.memory(exe.memory, replicas: 0) }
    #expect(throws: ProfileError.badReplicaCount(-1)) { try MemoryReport(exe.memory, replicas: -1) }
}

@Test func cyclesJSONTotalsMatchTheRecord() throws {
    let (exe, record) = try smallRun()
    let report = try CycleReport(executable: exe, record: record)
    let data = try ReportJSON.cycles(report)
    let object = try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
    #expect(object["schema"] as? String == "tessera.cycles/1")
    #expect(object["program"] as? Int == 0)
    #expect(object["traceTruncated"] as? Bool == false)
    #expect((object["target"] as? [String: Any])?["name"] as? String == "test8")
    let totals = try #require(object["totals"] as? [String: Any])
    let total = record.totalCycles(exe.steps)
    #expect(total > 0)
    #expect(totals["totalCycles"] as? Int == total)
    let microseconds = try #require(totals["microseconds"] as? Double)
    #expect(abs(microseconds - Double(total) / 1.33e9 * 1e6) <= 1e-9 * microseconds)
    let steps = try #require(object["steps"] as? [[String: Any]])
    #expect(steps.count == exe.steps.count)
    #expect(steps.map { $0["executions"] as? Int } == record.executions.map { $0 })
    let summed = steps.reduce(0) { $0 + (($1["totalCycles"] as? Int) ?? 0) }
    #expect(summed == total)
    // The scale step ran three times; its row says so and its total is three executions' cycles.
    let scale = try #require(steps.first { $0["name"] as? String == "scale" })
    #expect(scale["executions"] as? Int == 3)
    #expect(scale["totalCycles"] as? Int == 3 * ((scale["cyclesPerExecution"] as? Int) ?? 0))
    let decoded = try JSONDecoder().decode(CycleReport.self, from: data)
    #expect(decoded.totals == report.totals)
}

@Test func cycleSummarySharesAddUp() throws {
    let (exe, record) = try smallRun()
    let totals = try CycleReport(executable: exe, record: record).totals
    #expect(totals.syncCycles + totals.exchangeCycles + totals.computeCycles + totals.hostCycles == totals.totalCycles)
    #expect(abs(totals.syncShare + totals.exchangeShare + totals.computeShare + totals.hostShare - 1) < 1e-12)
    #expect(totals.executedSteps == record.trace.count)
    #expect(totals.hostCycles > 0 && totals.exchangeCycles > 0 && totals.computeCycles > 0)
}

@Test func cycleTextListsEveryExecutedStep() throws {
    let (exe, record) = try smallRun()
    let report = try CycleReport(executable: exe, record: record)
    let text = report.text
    #expect(text.contains("\(record.totalCycles(exe.steps).grouped) cycles"))
    #expect(text.contains(String(format: "%.3f µs", report.totals.microseconds)))
    let table = try #require(text.components(separatedBy: "total over executions)\n").last)
    let lines = table.split(separator: "\n").dropFirst()
    let executed = record.executions.indices.filter { record.executions[$0] > 0 }
    #expect(lines.count == executed.count)
    #expect(lines.compactMap { Int($0.split(separator: " ")[0]) } == executed)
}

@Test func recordOfAnotherExecutableIsRejected() throws {
    let (exe, record) = try smallRun()
    var shorter = record
    shorter.executions.removeLast()
    #expect(throws: ProfileError.self) { try CycleReport(executable: exe, record: shorter) }
    var stray = record
    stray.trace.append(exe.steps.count)
    #expect {
        try ChromeTrace(executable: exe, record: stray)
    } throws: { error in
        guard let error = error as? ProfileError, case .recordMismatch = error else { return false }
        return error.description.contains("step \(exe.steps.count)")
    }
}

// MARK: - Chrome trace

/// A parsed `trace.json`; ProfileReplicaTests.swift uses it too.
struct ParsedTrace {
    var object: [String: Any]
    var events: [[String: Any]]

    init(_ json: String) throws {
        object = try #require(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        events = try #require(object["traceEvents"] as? [[String: Any]])
    }

    func complete(tid: Int? = nil, category: String? = nil) -> [[String: Any]] {
        events.filter {
            $0["ph"] as? String == "X" && (tid == nil || $0["tid"] as? Int == tid) && (category == nil || $0["cat"] as? String == category)
        }
    }

    func metadata(_ name: String) -> [Int: String] {
        var names: [Int: String] = [:]
        for event in events where event["ph"] as? String == "M" && event["name"] as? String == name {
            names[event["tid"] as? Int ?? -2] = (event["args"] as? [String: Any])?["name"] as? String
        }
        return names
    }
}

@Test func traceStepsAddUpToTheModelledTime() throws {
    let (exe, record) = try smallRun()
    let trace = try ChromeTrace(executable: exe, record: record, options: .init(tilesPerGroup: 3))
    #expect(!trace.isTruncated)
    #expect(trace.writtenSteps == record.trace.count)
    let parsed = try ParsedTrace(trace.json)
    #expect(parsed.object["displayTimeUnit"] as? String == "ns")
    #expect((parsed.object["otherData"] as? [String: Any])?["schema"] as? String == "tessera.trace/1")

    let complete = parsed.complete()
    #expect(!complete.isEmpty)
    for event in complete {
        let ts = try #require(event["ts"] as? Double), dur = try #require(event["dur"] as? Double)
        #expect(ts >= 0 && dur >= 0)
        #expect(event["pid"] as? Int == 0)
        let args = try #require(event["args"] as? [String: Any])
        #expect(args["step"] is Int && args["kind"] is String && args["cycles"] is Int)
    }
    let steps = parsed.complete(tid: ChromeTrace.stepsThread, category: "step")
    #expect(steps.count == record.trace.count)
    #expect(steps.map { ($0["args"] as? [String: Any])?["step"] as? Int } == record.trace.map { $0 })
    #expect(steps.map { $0["name"] as? String } == record.trace.map { exe.steps[$0].name })
    let summed = steps.reduce(0.0) { $0 + ($1["dur"] as? Double ?? 0) }
    let modelled = try CycleReport(executable: exe, record: record).totals.microseconds
    #expect(abs(summed - modelled) <= 1e-6 * modelled)
    // Steps follow one another without gaps.
    let last = try #require(steps.last)
    #expect(abs((last["ts"] as! Double) + (last["dur"] as! Double) - modelled) <= 1e-6 * modelled)

    // Phases follow their step in the file, nest inside it and add up to it.
    let track = parsed.complete(tid: ChromeTrace.stepsThread)
    let starts = track.indices.filter { track[$0]["cat"] as? String == "step" }
    let phases = track.filter { $0["cat"] as? String == "phase" }
    for (position, start) in starts.enumerated() {
        let step = track[start], children = track[(start + 1)..<(position + 1 < starts.count ? starts[position + 1] : track.count)]
        let begin = step["ts"] as! Double, end = begin + (step["dur"] as! Double), tolerance = 1e-9 * max(1, end)
        let index = (step["args"] as! [String: Any])["step"] as! Int
        #expect(children.allSatisfy { ($0["args"] as! [String: Any])["step"] as? Int == index })
        #expect(children.reduce(0) { $0 + (($1["args"] as! [String: Any])["cycles"] as! Int) } == exe.steps[index].totalCycles)
        #expect(children.allSatisfy { ($0["ts"] as! Double) >= begin - tolerance })
        #expect(children.allSatisfy { ($0["ts"] as! Double) + ($0["dur"] as! Double) <= end + tolerance })
    }
    #expect(Set(phases.compactMap { $0["name"] as? String }).isSubset(of: ["sync", "exchange in", "compute", "exchange out", "host"]))
    #expect(phases.contains { $0["name"] as? String == "host" })

    // Names of the process and of every track.
    #expect(parsed.metadata("process_name") == [0: "IPU 0 (test8)"])
    #expect(parsed.metadata("thread_name") == [ChromeTrace.stepsThread: "steps", 0: "tiles 0–2", 1: "tiles 3–5", 2: "tiles 6–7"])
}

@Test func tileGroupComputeLastsTheGroupsSlowestTile() throws {
    let (exe, record) = try smallRun()
    let trace = try ParsedTrace(ChromeTrace(executable: exe, record: record, options: .init(tilesPerGroup: 4)).json)
    let scale = try #require(exe.steps.first { $0.name == "scale" })
    for group in 0..<2 {
        let events = trace.complete(tid: group, category: "tiles").filter { ($0["args"] as! [String: Any])["step"] as? Int == scale.index }
        #expect(events.count == 3)
        let cycles = events.map { ($0["args"] as! [String: Any])["cycles"] as! Int }
        #expect(cycles.allSatisfy { $0 > 0 && $0 <= scale.computeCycles })
        #expect(events.allSatisfy { $0["name"] as? String == "compute" })
    }
    let perGroup = (0..<2).map { group in
        trace.complete(tid: group, category: "tiles").filter { ($0["args"] as! [String: Any])["step"] as? Int == scale.index }
            .map { ($0["args"] as! [String: Any])["cycles"] as! Int }.first ?? 0
    }
    #expect(perGroup.max() == scale.computeCycles)
}

@Test func longTracesAreCutWithANote() throws {
    let (exe, record) = try smallRun()
    let trace = try ChromeTrace(executable: exe, record: record, options: .init(tilesPerGroup: 64, maxEvents: 12))
    #expect(trace.isTruncated)
    #expect(trace.writtenSteps < record.trace.count)
    let parsed = try ParsedTrace(trace.json)
    #expect(parsed.events.count <= 12)
    let note = try #require(parsed.events.first { $0["ph"] as? String == "i" })
    #expect(note["name"] as? String == "trace truncated")
    #expect((note["args"] as? [String: Any])?["writtenSteps"] as? Int == trace.writtenSteps)
    #expect(parsed.complete(category: "step").count == trace.writtenSteps)
}

@Test func engineTruncatedTracesKeepFullTotals() throws {
    let (exe, record) = try smallRun(traceLimit: 3)
    #expect(record.traceTruncated && record.trace.count == 3)
    let report = try CycleReport(executable: exe, record: record)
    #expect(report.traceTruncated && report.tracedSteps == 3)
    #expect(report.totals.totalCycles == record.totalCycles(exe.steps))
    #expect(report.text.contains("the engine's trace stopped after 3 steps"))
    let trace = try ChromeTrace(executable: exe, record: record)
    #expect(trace.isTruncated && trace.writtenSteps == 3)
    let note = try #require(try ParsedTrace(trace.json).events.first { $0["ph"] as? String == "i" })
    #expect((note["args"] as? [String: Any])?["reason"] as? String == "the engine's trace limit")
    #expect((note["args"] as? [String: Any])?["executedSteps"] as? Int == report.totals.executedSteps)
}

// MARK: - Heatmap

/// Counts `rect` elements and those that contain a `title`, and collects the titles' text.
private final class SVGCounter: NSObject, XMLParserDelegate {
    var rects = 0
    var rectsWithTitle = 0
    var titles: [String] = []
    var redStrokedRects = 0
    private var path: [String] = []
    private var text = ""

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        if name == "rect" {
            rects += 1
            if attributes["fill"] == MemoryHeatmap.overBudgetColor && attributes["stroke"] != nil { redStrokedRects += 1 }
        }
        if name == "title" && path.last == "rect" { rectsWithTitle += 1 }
        path.append(name)
        text = ""
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        path.removeLast()
        if name == "title" && path.last == "rect" { titles.append(text) }
    }

    static func parse(_ svg: String) throws -> SVGCounter {
        let counter = SVGCounter()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = counter
        #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
        return counter
    }
}

@Test(arguments: [4, 9, 16])
func heatmapHasOneTitledSquarePerTile(tiles: Int) throws {
    let (exe, _) = try smallRun(tiles: tiles)
    let heatmap = MemoryHeatmap(exe.memory)
    #expect(heatmap.columns * heatmap.rows >= tiles && heatmap.columns * (heatmap.rows - 1) < tiles)
    let counter = try SVGCounter.parse(heatmap.svg)
    #expect(counter.rectsWithTitle == tiles)
    #expect(counter.rects > tiles)  // background and legend squares have no title
    #expect(counter.redStrokedRects == 1)  // the legend's swatch only
    let tile = exe.memory.tiles[tiles - 1]
    let expected = String(format: "tile %d: %@ bytes (%.1f%%)", tile.tile, tile.totalBytes.grouped,
                          Double(tile.totalBytes) / 65_536 * 100)
    #expect(counter.titles.last == expected)
    let fullest = exe.memory.fullestTile
    #expect(heatmap.svg.contains("fullest tile \(fullest.tile): \(fullest.totalBytes.grouped) bytes"))
}

@Test(arguments: [(Target.mk2, 46, 32), (Target.mk1, 42, 29)])
func heatmapOfAWholeChip(target: Target, columns: Int, rows: Int) throws {
    let graph = Graph(target: target)
    let x = graph.addVariable(.float32, [target.tiles], name: "x")
    try graph.mapLinearly(x, grainSize: 1, minElementsPerTile: 1)
    let exe = try Compiler.compile(graph, program: .writeUndef(x))
    let heatmap = MemoryHeatmap(exe.memory)
    #expect(heatmap.columns == columns && heatmap.rows == rows)
    #expect(try SVGCounter.parse(heatmap.svg).rectsWithTitle == target.tiles)
}

@Test func heatmapMarksTilesOverBudget() throws {
    let profile = try outOfMemoryProfile()
    let counter = try SVGCounter.parse(MemoryHeatmap(profile, options: .init(columns: 2)).svg)
    #expect(counter.rectsWithTitle == 4)
    #expect(counter.redStrokedRects == 2)  // tile 1 and the legend's swatch
    #expect(counter.titles[1].hasPrefix("tile 1: \(profile.tiles[1].totalBytes.grouped) bytes ("))
}

// MARK: - Writer

@Test func writerWritesEveryReport() throws {
    let (exe, record) = try smallRun()
    let directory = temporaryDirectory().appendingPathComponent("nested/run")
    defer { try? FileManager.default.removeItem(at: directory.deletingLastPathComponent().deletingLastPathComponent()) }
    let written = try ReportWriter().write(executable: exe, record: record, to: directory)
    #expect(written.map(\.lastPathComponent) == ReportFile.allCases.map(\.rawValue))
    for file in ReportFile.allCases {
        let data = try Data(contentsOf: directory.appendingPathComponent(file.rawValue))
        #expect(!data.isEmpty, "\(file.rawValue)")
    }
    let memory = try Data(contentsOf: directory.appendingPathComponent("memory.json"))
    #expect(try JSONDecoder().decode(MemoryProfile.self, from: memory).totalBytes == exe.memory.totalBytes)
    let cycles = try Data(contentsOf: directory.appendingPathComponent("cycles.json"))
    let totals = (try JSONSerialization.jsonObject(with: cycles) as? [String: Any])?["totals"] as? [String: Any]
    #expect(totals?["totalCycles"] as? Int == record.totalCycles(exe.steps))
    let text = try String(contentsOf: directory.appendingPathComponent("memory.txt"), encoding: .utf8)
    #expect(try text == MemoryReport(exe.memory).text)
    // Writing again replaces the files.
    #expect(try ReportWriter().write(executable: exe, record: record, to: directory).count == 6)
}

@Test func writerWritesTheMemoryReportsOfAGraphThatDoesNotFit() throws {
    let profile = try outOfMemoryProfile()
    let directory = temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let written = try ReportWriter().write(memory: profile, to: directory)
    #expect(written.map(\.lastPathComponent) == ["memory.json", "memory.txt", "memory.svg"])
    let text = try String(contentsOf: directory.appendingPathComponent("memory.txt"), encoding: .utf8)
    #expect(text.hasPrefix("OUT OF MEMORY"))
    let decoded = try JSONDecoder().decode(MemoryProfile.self, from: Data(contentsOf: directory.appendingPathComponent("memory.json")))
    #expect(decoded.tilesOverBudget == [1])
}

@Test func writerReportsAPathUnderARegularFile() throws {
    let (exe, record) = try smallRun(tiles: 4)
    let file = temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: file) }
    try Data("not a directory".utf8).write(to: file)
    let directory = file.appendingPathComponent("reports")
    #expect {
        try ReportWriter().write(executable: exe, record: record, to: directory)
    } throws: { error in
        guard let error = error as? ProfileError, case let .cannotCreateDirectory(path, reason) = error else { return false }
        return path == directory.path && reason == "Not a directory" && error.description.contains(directory.path)
    }
    #expect(throws: ProfileError.self) { try ReportWriter().write(memory: exe.memory, to: directory) }
}
