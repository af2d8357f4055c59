import TesseraGraph

/// One share of a compute step's vertices lowered into tables of its own, so that two shares on
/// disjoint tiles can be lowered at once (``Lowering`` merges them in vertex order).
///
/// Its new exchange buffers are numbered from `firstBuffer` as if no other share added any (the
/// merge moves a later share's numbers past an earlier share's buffers). The scratch tables (runs,
/// pieces, copy merger, shared buffers, search hints) keep their capacity from step to step.
struct VertexLowering {
    private(set) var vertices: [(vertex: Int, firstSlot: Int)] = []
    private(set) var slots: [SymbolicSlot] = []
    private(set) var buffers: [Allocation] = []
    private(set) var exchangeIn: [PlannedCopy] = []
    private(set) var exchangeOut: [PlannedCopy] = []
    /// The element runs of the share's fields, field after field.
    private(set) var runs: [ElementRun] = []
    /// What each field reads or writes, as ranges of ``runs``, in field order.
    private(set) var accesses: [(runs: Range<Int>, kind: AccessKind, vertex: Int)] = []
    private var firstBuffer = 0
    private var sharedBuffers = SharedBuffers()
    /// A field's pieces, and the mergers of its copies in and out (one each: a merger holds indices
    /// into the one list it appends to).
    private var fieldPieces: [Piece] = [], copiesIn = CopyMerger(), copiesOut = CopyMerger()
    private var intervalHints: [SearchHint]
    /// The runs, pieces and merged copies in of the boxes (``ConnectionView``s) the share's fields
    /// have connected so far, by view: a convolution's vertices on tiles with other output channels
    /// read the same input window, and those with other rows the same weights. A view's copies
    /// into a buffer are the same but for the buffer, so a later field's are the first's moved to its own.
    private var views: [Int: (runs: Range<Int>, pieces: Range<Int>?, copies: Range<Int>?)] = [:]
    private var viewRuns: [ElementRun] = [], viewPieces: [Piece] = [], viewCopies: [PlannedCopy] = []

    init(dataCount: Int) {
        intervalHints = Array(repeating: SearchHint(), count: dataCount)
    }

    /// Lowers `members` (vertex indices, on tiles no other share of the step has) of the step at
    /// `position`, whose new buffers are numbered from `firstBuffer`.
    mutating func lower(_ members: ArraySlice<Int>, of lowering: Lowering, position: Int, firstBuffer: Int) {
        // Locals rather than the lowering's tables: nothing a field's lowering calls can change them,
        // so their elements are read without a retain each.
        let graph = lowering.graph, connections = graph.connections, layouts = lowering.layouts
        self.firstBuffer = firstBuffer
        vertices.removeAll(keepingCapacity: true)
        slots.removeAll(keepingCapacity: true)
        buffers.removeAll(keepingCapacity: true)
        exchangeIn.removeAll(keepingCapacity: true)
        exchangeOut.removeAll(keepingCapacity: true)
        runs.removeAll(keepingCapacity: true)
        accesses.removeAll(keepingCapacity: true)
        sharedBuffers.removeAll()
        views.removeAll(keepingCapacity: true)
        viewRuns.removeAll(keepingCapacity: true)
        viewPieces.removeAll(keepingCapacity: true)
        viewCopies.removeAll(keepingCapacity: true)
        vertices.reserveCapacity(members.count)
        for vertexIndex in members {
            let tile = graph.tile(ofVertex: vertexIndex)
            vertices.append((vertexIndex, slots.count))
            for connection in graph.connections(ofVertex: vertexIndex) {
                let field = connections[connection]
                let first = runs.count
                if let view = field.view, let known = views[view] {
                    runs.append(contentsOf: viewRuns[known.runs])
                } else {
                    graph.appendRuns(ofConnection: connection, to: &runs)
                    if let view = field.view {
                        views[view] = (viewRuns.count..<(viewRuns.count + runs.count - first), nil, nil)
                        viewRuns.append(contentsOf: runs[first...])
                    }
                }
                if field.direction.reads { accesses.append((first..<runs.count, .read, vertexIndex)) }
                if field.direction.writes { accesses.append((first..<runs.count, .write, vertexIndex)) }
                slots.append(slot(for: first..<runs.count, field: field, tile: tile, position: position, lowering: lowering,
                                  layouts: layouts))
            }
        }
    }

    /// The slot of a field connected to `runs[fieldRuns]` (`field.count` view positions): the elements
    /// themselves when `tile` stores them one after another in one allocation, else a buffer on `tile` with the
    /// copies that fill it (inputs) or empty it (outputs).
    private mutating func slot(for fieldRuns: Range<Int>, field: Connection, tile: Int, position: Int, lowering: Lowering,
                               layouts: [DataLayout?]) -> SymbolicSlot {
        let count = field.count
        guard count > 0 else { return SymbolicSlot(allocation: nil, offset: 0, count: 0) }
        let elementBytes = field.elementBytes
        if fieldRuns.count == 1, let layout = layouts[runs[fieldRuns.lowerBound].data],
           let direct = layout.contiguousPiece(runs[fieldRuns.lowerBound], on: tile, hint: &intervalHints[runs[fieldRuns.lowerBound].data]) {
            return SymbolicSlot(allocation: direct.allocation, offset: direct.element * elementBytes, count: count)
        }
        fieldPieces.removeAll(keepingCapacity: true)
        if let view = field.view, let known = views[view]?.pieces {
            fieldPieces.append(contentsOf: viewPieces[known])
        } else {
            lowering.pieces(of: runs[fieldRuns], into: &fieldPieces, hints: &intervalHints)
            if let view = field.view {
                views[view]?.pieces = viewPieces.count..<(viewPieces.count + fieldPieces.count)
                viewPieces.append(contentsOf: fieldPieces)
            }
        }
        if let direct = Self.consecutivePlace(of: fieldPieces, on: tile) {
            return SymbolicSlot(allocation: direct.allocation, offset: direct.element * elementBytes, count: count)
        }
        let readOnly = !field.direction.writes
        if readOnly, let shared = sharedBuffers.buffer(tile: tile, runs: fieldRuns, of: runs) {
            return SymbolicSlot(allocation: shared, offset: 0, count: count)
        }
        buffers.append(Allocation(tile: tile, bytes: count * elementBytes, category: .exchangeBuffers,
                                  live: position...position, alwaysLive: false, data: nil))
        let buffer = firstBuffer + buffers.count - 1
        if readOnly { sharedBuffers.insert(buffer, tile: tile, runs: fieldRuns, of: runs) }
        if readOnly, let view = field.view, let known = views[view]?.copies {
            for var copy in viewCopies[known] {
                copy.destination = PlannedCopy.End(allocation: buffer, offset: copy.destination.offset, stride: copy.destination.stride)
                exchangeIn.append(copy)
            }
            return SymbolicSlot(allocation: buffer, offset: 0, count: count)
        }
        let firstIn = exchangeIn.count
        var element = 0
        copiesIn.removeAll()
        copiesOut.removeAll()
        for piece in fieldPieces {
            let home = lowering.endpoint(piece, advancedBy: 0, elementBytes: elementBytes)
            let local = Endpoint(tile: tile, allocation: buffer, offset: element * elementBytes, stride: elementBytes)
            if field.direction.reads {
                copiesIn.append(PlannedCopy(source: home, destination: local, count: piece.count, elementBytes: elementBytes), to: &exchangeIn)
            }
            if field.direction.writes {
                copiesOut.append(PlannedCopy(source: local, destination: home, count: piece.count, elementBytes: elementBytes), to: &exchangeOut)
            }
            element += piece.count
        }
        if readOnly, let view = field.view {
            views[view]?.copies = viewCopies.count..<(viewCopies.count + exchangeIn.count - firstIn)
            viewCopies.append(contentsOf: exchangeIn[firstIn...])
        }
        return SymbolicSlot(allocation: buffer, offset: 0, count: count)
    }

    /// Where `pieces` start when they lie on `tile` one after another in one allocation (a field
    /// covering several regions that its tile stores consecutively, connected there directly), else nil.
    private static func consecutivePlace(of pieces: [Piece], on tile: Int) -> (allocation: Int, element: Int)? {
        guard let first = pieces.first else { return nil }
        var next = first.element
        for piece in pieces {
            guard piece.tile == tile, piece.allocation == first.allocation, piece.stride == 1, piece.element == next else { return nil }
            next += piece.count
        }
        return (first.allocation, first.element)
    }
}
