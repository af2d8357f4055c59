import Dispatch
import TesseraGraph

/// The always-live bytes every tile spends besides data: stacks, control code, vertex code and
/// state, exchange code. The per-item sizes are `CompileOptions`, documented in docs/cost-model.md.
enum TileOverheads {
    static func add(to lowering: Lowering, options: CompileOptions) {
        let graph = lowering.graph
        let tiles = graph.target.tiles
        var bytes = [CategoryBytes](repeating: CategoryBytes(), count: tiles)
        var codelets = [Set<String>](repeating: [], count: tiles)
        // The codelet last counted on each tile: a tile's vertices of one step mostly share one,
        // and comparing names is cheaper than hashing them.
        var lastCodelet = [String](repeating: "", count: tiles)
        for computeSet in lowering.executedComputeSets {
            for index in graph.computeSetVertices[computeSet] {
                let tile = graph.tile(ofVertex: index), fields = graph.connections(ofVertex: index)
                let descriptors = fields.count * options.fieldPointerBytes
                    + fields.count(where: { !graph.connections[$0].isScalar }) * options.vectorFieldCountBytes
                bytes[tile].vertexState += (descriptors + graph.vertices[index].codelet.stateBytes + 3) / 4 * 4
                let name = graph.vertices[index].codelet.name
                if name != lastCodelet[tile] {
                    lastCodelet[tile] = name
                    if codelets[tile].insert(name).inserted { bytes[tile].vertexCode += graph.vertices[index].codelet.codeBytes }
                }
            }
        }
        // The steps' control and exchange code, in two halves of about as many copies each, tallied
        // at once (a model's steps hold millions of copies) and then added up.
        let halves = splitByCopies(lowering.steps)
        var codeBytes = [(code: [(control: Int, exchange: Int)], firstSends: [(exchangeIn: FirstSends, exchangeOut: FirstSends)])](
            repeating: ([], []), count: halves.count)
        codeBytes.withUnsafeMutableBufferPointer { results in
            let shared = UnsafeSendable((results: results, lowering: lowering, options: options, halves: halves))
            DispatchQueue.concurrentPerform(iterations: halves.count) { half in
                let (results, lowering, options, halves) = shared.value
                results[half] = codeTally(of: lowering, steps: halves[half], options: options)
            }
        }
        for (range, half) in zip(halves, codeBytes) {
            for (tile, code) in half.code.enumerated() {
                bytes[tile].controlCode += code.control
                bytes[tile].exchangeCode += code.exchange
            }
            for (step, firstSends) in zip(range, half.firstSends) { lowering.steps[step].firstSends = firstSends }
        }
        let stack = options.workerStackBytes * graph.target.workerContexts + options.supervisorStackBytes
        for tile in 0..<tiles {
            bytes[tile].controlCode += options.controlBytesPerStep * lowering.steps.count
            bytes[tile].stack = stack
            for category in [MemoryCategory.stack, .controlCode, .vertexCode, .vertexState, .exchangeCode] where bytes[tile][category] > 0 {
                lowering.allocations.append(Allocation(tile: tile, bytes: bytes[tile][category], category: category,
                                                       live: nil, alwaysLive: true, data: nil))
            }
        }
    }

    /// The steps cut into two ranges of about as many copies each (one range for a single step).
    private static func splitByCopies(_ steps: [SymbolicStep]) -> [Range<Int>] {
        let copies = steps.map { $0.exchangeIn.count + $0.exchangeOut.count }
        let total = copies.reduce(0, +)
        guard steps.count > 1 else { return [steps.indices] }
        var cut = 0, sum = 0
        while cut < steps.count - 1 && 2 * (sum + copies[cut]) <= total {
            sum += copies[cut]
            cut += 1
        }
        return [0..<max(cut, 1), max(cut, 1)..<steps.count]
    }

    /// Per tile, the control and exchange code of steps `range`: control code for each step a tile
    /// computes in, exchange code for each phase it sends or receives in and for every copy row;
    /// and each step's first sends.
    private static func codeTally(of lowering: Lowering, steps range: Range<Int>,
                                  options: CompileOptions) -> ([(control: Int, exchange: Int)], [(exchangeIn: FirstSends, exchangeOut: FirstSends)]) {
        let graph = lowering.graph, tiles = graph.target.tiles
        var code = [(control: Int, exchange: Int)](repeating: (0, 0), count: tiles)
        var firstSends: [(exchangeIn: FirstSends, exchangeOut: FirstSends)] = []
        // Tiles that compute in the step, and tiles that take part in the exchange phase, are
        // marked with the step's (phase's) number rather than collected in sets.
        var computeMark = [Int](repeating: -1, count: tiles), phaseMark = computeMark
        var phaseNumber = 0
        for stepNumber in range {
            let step = lowering.steps[stepNumber]
            func computes(on tile: Int) {
                guard computeMark[tile] != stepNumber else { return }
                computeMark[tile] = stepNumber
                code[tile].control += options.controlBytesPerComputeStep
            }
            func exchanges(on tile: Int) {
                guard phaseMark[tile] != phaseNumber else { return }
                phaseMark[tile] = phaseNumber
                code[tile].exchange += options.exchangeBytesPerPhase
            }
            for (vertex, _) in step.vertices { computes(on: graph.tile(ofVertex: vertex)) }
            let exchanged = { (copy: PlannedCopy) in lowering.tile(copy.source) != lowering.tile(copy.destination) }
            let sends = (exchangeIn: FirstSends(step.exchangeIn, exchanged: exchanged), exchangeOut: FirstSends(step.exchangeOut, exchanged: exchanged))
            firstSends.append(sends)
            for (phase, first) in [(step.exchangeIn, sends.exchangeIn), (step.exchangeOut, sends.exchangeOut)] where !phase.isEmpty {
                phaseNumber += 1
                for (index, copy) in phase.enumerated() {
                    let source = lowering.tile(copy.source), destination = lowering.tile(copy.destination)
                    if source == destination {
                        computes(on: source)
                        continue
                    }
                    let bytes = copy.rows * options.exchangeBytesPerCopy
                    if first[index] { code[source].exchange += bytes }
                    code[destination].exchange += bytes
                    exchanges(on: source)
                    exchanges(on: destination)
                }
            }
            if let host = step.host {
                for piece in host.pieces { code[piece.endpoint.tile].exchange += options.exchangeBytesPerCopy }
            }
        }
        return (code, firstSends)
    }
}
