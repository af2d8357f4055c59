import Foundation
import Testing
import Tessera
import TesseraTestSupport

@Test func profileScratchDump() throws {
    let graph = Graph(target: testTarget(tiles: 8))
    let x = graph.addVariable(.float32, [8, 16], name: "x")
    let y = graph.addVariable(.float32, [8, 16], name: "y")
    let sums = graph.addVariable(.float32, [8], name: "sums")
    for row in 0..<8 { try graph.setTileMapping(x.index(row), tile: row); try graph.setTileMapping(y.index(row), tile: (row + 1) % 8) }
    try graph.setTileMapping(sums, tile: 0)
    let scale = graph.addComputeSet("scale"), sum = graph.addComputeSet("sum")
    for row in 0..<8 {
        try graph.addVertex(scale, ScaleCodelet(factor: 2), tile: row, ["in": x.index(row), "out": y.index(row)])
        try graph.addVertex(sum, SumCodelet(), tile: row, ["in": y.index(row), "out": sums.index(row)])
    }
    let out = try graph.addDeviceToHostStream("sums", .float32, elementCount: 8)
    let exe = try Compiler.compile(graph, program: .sequence(.repeat(count: 3, body: .sequence(.execute(scale), .copy(from: y, to: x))), .execute(sum), .streamToHost(sums, out)))
    let engine = try Engine(exe, options: EngineOptions(threads: 1, pinThreads: false))
    try engine.connect(out)
    try engine.run()
    try ReportWriter().write(executable: exe, record: engine.lastRun!, to: URL(fileURLWithPath: "/tmp/profile-look"))
    let g2 = Graph(target: .mk2)
    let z = g2.addVariable(.float32, [200_000], name: "z")
    try g2.mapLinearly(z)
    let w = g2.addVariable(.float32, [170_000], name: "w")
    try g2.setTileMapping(w, tile: 700)
    do { _ = try Compiler.compile(g2, program: .copy(from: try z.slice(0..<10), to: try w.slice(0..<10))) }
    catch let CompileError.outOfMemory(f) { try ReportWriter().write(memory: f.profile, to: URL(fileURLWithPath: "/tmp/profile-look/oom")) }
}
