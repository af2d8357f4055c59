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
        // Tiles that compute in the step, and tiles that take part in the exchange phase, are
        // marked with the step's (phase's) number rather than collected in sets.
        var computeMark = [Int](repeating: -1, count: tiles), phaseMark = computeMark
        var phaseNumber = 0
        for (stepNumber, step) in lowering.steps.enumerated() {
            func computes(on tile: Int) {
                guard computeMark[tile] != stepNumber else { return }
                computeMark[tile] = stepNumber
                bytes[tile].controlCode += options.controlBytesPerComputeStep
            }
            func exchanges(on tile: Int) {
                guard phaseMark[tile] != phaseNumber else { return }
                phaseMark[tile] = phaseNumber
                bytes[tile].exchangeCode += options.exchangeBytesPerPhase
            }
            for (vertex, _) in step.vertices { computes(on: graph.tile(ofVertex: vertex)) }
            for phase in [step.exchangeIn, step.exchangeOut] where !phase.isEmpty {
                phaseNumber += 1
                var sends = SendSet(phase)
                for (index, copy) in phase.enumerated() {
                    let source = lowering.tile(copy.source), destination = lowering.tile(copy.destination)
                    if source == destination {
                        computes(on: source)
                        continue
                    }
                    let code = copy.rows * options.exchangeBytesPerCopy
                    if sends.insert(copyAt: index) { bytes[source].exchangeCode += code }
                    bytes[destination].exchangeCode += code
                    exchanges(on: source)
                    exchanges(on: destination)
                }
            }
            if let host = step.host {
                for piece in host.pieces { bytes[piece.endpoint.tile].exchangeCode += options.exchangeBytesPerCopy }
            }
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
}
