import TesseraGraph

/// Decides which variables are live for the whole program and the step range of the others.
///
/// A variable is always live if it is a constant, is visible to the host, is used by more than one
/// program, or is read before it is written (its value comes from an earlier run). Otherwise it is
/// live from its first to its last access; inside a `repeat`, a variable read before it is written
/// in the body stays live across the whole loop, and one defined before the loop and used inside
/// it stays live to the loop's end. `writeUndef` counts as a write: it ends the old value.
enum Liveness {
    /// Sets `live`/`alwaysLive` on every allocation; returns the live range of each not-always-live variable.
    static func assign(_ lowering: Lowering) -> [Int: ClosedRange<Int>] {
        let loops = lowering.loops.sorted { $0.count < $1.count }
        var ranges: [Int: ClosedRange<Int>] = [:]
        for (data, record) in lowering.graph.data.enumerated() where lowering.layouts[data] != nil {
            let accesses = lowering.accesses[data]
            guard !record.isConstant, !record.hostVisible, lowering.programsUsing[data].count <= 1,
                  let first = accesses.first, first.kind != .read, let last = accesses.last else { continue }
            var start = first.position, end = last.position
            for loop in loops {
                guard let inside = accesses.first(where: { loop.contains($0.position) }) else { continue }
                if inside.kind == .read {
                    start = min(start, loop.lowerBound)
                    end = max(end, loop.upperBound)
                } else if start < loop.lowerBound {
                    end = max(end, loop.upperBound)
                }
            }
            ranges[data] = start...end
        }
        for index in lowering.allocations.indices {
            guard let data = lowering.allocations[index].data else { continue }
            if let range = ranges[data] {
                lowering.allocations[index].live = range
            } else {
                lowering.allocations[index].alwaysLive = true
            }
        }
        return ranges
    }
}
