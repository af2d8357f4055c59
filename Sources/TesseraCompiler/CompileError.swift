import TesseraGraph

/// Errors found while compiling a graph and its programs: each names the object, the tile and the numbers.
public enum CompileError: Error, CustomStringConvertible {
    /// The target's parameters cannot describe a chip (no tiles, no memory, a zero rate, …).
    case badTarget(name: String, detail: String)
    /// A variable was added with a shape it cannot have (a negative size, or too many elements).
    case badVariable(name: String, detail: String)
    /// A tensor used by the program has elements with no tile.
    case unmappedElements(tensor: String, elements: Range<Int>, elementCount: Int)
    /// A program refers to a tensor, compute set or stream of another graph.
    case foreignObject(kind: String, name: String)
    /// Two vertices of one compute set write the same element.
    case overlappingOutputs(computeSet: String, tensor: String, element: Int, vertices: (String, String))
    /// A copy's source and destination differ in shape or type, or a destination repeats an element.
    case badCopy(detail: String)
    /// A stream copy does not match the stream's type, size or direction.
    case badStream(stream: String, detail: String)
    /// A branch predicate is not a one-element tensor.
    case badPredicate(detail: String)
    /// A repeat count is negative.
    case badRepeat(count: Int)
    /// A collective's operands or replica groups do not fit together.
    case badCollective(collective: String, detail: String)
    /// Some tiles need more memory than they have; the memory profile of the attempt is attached.
    case outOfMemory(OutOfMemory)
    /// The graph was compiled before with its connection tables released, so it cannot be compiled again.
    case connectionsReleased

    public var description: String {
        switch self {
        case let .badTarget(name, detail): "target '\(name)': \(detail)"
        case let .badVariable(name, detail): "variable '\(name)': \(detail)"
        case let .unmappedElements(tensor, elements, count):
            "tensor '\(tensor)': elements \(elements.lowerBound)..<\(elements.upperBound) of \(count) are not mapped to any tile"
        case let .foreignObject(kind, name): "the program uses \(kind) '\(name)' of another graph"
        case let .overlappingOutputs(set, tensor, element, vertices):
            "compute set '\(set)': vertices \(vertices.0) and \(vertices.1) both write element \(element) of '\(tensor)'"
        case let .badCopy(detail): "copy: \(detail)"
        case let .badStream(stream, detail): "stream '\(stream)': \(detail)"
        case let .badPredicate(detail): "if: \(detail)"
        case let .badRepeat(count): "repeat: count \(count) is negative"
        case let .badCollective(collective, detail): "\(collective): \(detail)"
        case let .outOfMemory(failure): failure.description
        case .connectionsReleased: "the graph was compiled once with its connection tables released; build it again to compile it"
        }
    }
}

/// The details of a graph that does not fit: the worst tile, its breakdown, and the whole profile.
public struct OutOfMemory: Sendable, CustomStringConvertible {
    /// The tile that needs the most memory.
    public let tile: Int
    /// Bytes that tile needs, including gaps.
    public let bytesUsed: Int
    /// Bytes every tile has.
    public let bytesPerTile: Int
    /// Tiles over budget.
    public let tilesOverBudget: Int
    /// The memory profile of the attempt, for reports.
    public let profile: MemoryProfile
    /// The largest blocks on the worst tile, largest first: what to shrink.
    public let largestBlocks: [MemoryBlock]
    /// The step (compute set or copy) at which the worst tile's not-always-live memory peaks: the
    /// layer that overflows it, when its temporaries are what does not fit.
    public let peakStep: String?

    /// The failure of a compilation whose worst tile is `tile`.
    public init(tile: Int, bytesUsed: Int, bytesPerTile: Int, tilesOverBudget: Int, profile: MemoryProfile,
                largestBlocks: [MemoryBlock], peakStep: String?) {
        self.tile = tile
        self.bytesUsed = bytesUsed
        self.bytesPerTile = bytesPerTile
        self.tilesOverBudget = tilesOverBudget
        self.profile = profile
        self.largestBlocks = largestBlocks
        self.peakStep = peakStep
    }

    public var description: String {
        let worst = profile.tiles[tile]
        let parts = MemoryCategory.allCases.compactMap { category -> String? in
            let bytes = worst.bytes(category)
            return bytes == 0 ? nil : "\(category.rawValue) \(bytes.grouped)"
        }
        return "Out of memory on tile \(tile): \(bytesUsed.grouped) bytes used, tiles have \(bytesPerTile.grouped) "
            + "(\(tilesOverBudget) tile(s) over budget). Tile \(tile): \(parts.joined(separator: ", ")); "
            + "always-live \(worst.alwaysLiveBytes.grouped), not-always-live peak \(worst.notAlwaysLivePeakBytes.grouped)"
            + (peakStep.map { " during step '\($0)'" } ?? "") + "."
            + (largestBlocks.isEmpty ? "" : " Largest there: " + largestBlocks.map { "\($0.name) (\($0.category.rawValue), \($0.bytes.grouped) B)" }.joined(separator: ", ") + ".")
    }
}

/// One placed block of a tile: what it holds and its size.
public struct MemoryBlock: Sendable, Hashable {
    /// The variable's name, or what the block is for.
    public var name: String
    /// Its category.
    public var category: MemoryCategory
    /// Its size in bytes.
    public var bytes: Int

    /// A block named `name` of `bytes` bytes in `category`.
    public init(name: String, category: MemoryCategory, bytes: Int) {
        self.name = name
        self.category = category
        self.bytes = bytes
    }
}

extension Int {
    /// The number with thousands separators, as in "702,311".
    public var grouped: String {
        let digits = String(magnitude)
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return self < 0 ? "-" + out : out
    }
}
