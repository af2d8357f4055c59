import TesseraCompiler

/// An SVG picture of per-tile memory: one square per tile, in tile order row by row, coloured by
/// `totalBytes / bytesPerTile` on the viridis ramp (dark purple empty, yellow full); tiles over
/// budget are red with a black outline. Hovering a square shows "tile N: X bytes (Y%)".
///
/// The title names the target and the fullest tile; a legend below the grid gives the scale.
/// The text is standalone SVG 1.1 (valid XML), built without dependencies.
public struct MemoryHeatmap: Sendable {
    /// How the grid is drawn.
    public struct Options: Sendable, Hashable {
        /// Squares per row; nil picks the narrowest grid at least 46:32 wide (46 × 32 for 1,472 tiles).
        public var columns: Int?
        /// Side of a square, in pixels (squares are one pixel apart).
        public var cellSize: Int

        /// Options with `columns` squares per row (nil: automatic) of `cellSize` pixels.
        public init(columns: Int? = nil, cellSize: Int = 12) {
            self.columns = columns
            self.cellSize = cellSize
        }
    }

    /// Fill of tiles over budget.
    public static let overBudgetColor = "#e3001b"

    /// Squares per row.
    public let columns: Int
    /// Rows of squares.
    public let rows: Int
    /// The SVG document's text.
    public let svg: String

    /// The picture of `profile`.
    public init(_ profile: MemoryProfile, options: Options = Options()) {
        let tiles = profile.tiles.count
        columns = max(1, options.columns ?? Self.automaticColumns(tiles: tiles))
        rows = (tiles + columns - 1) / columns
        svg = Self.draw(profile, columns: columns, rows: rows, cell: max(1, options.cellSize))
    }

    /// The fewest columns `c` with `c / rows ≥ 46 / 32`, where `rows = ⌈tiles / c⌉` is about `c × 32 / 46`.
    static func automaticColumns(tiles: Int) -> Int {
        var columns = 1
        while columns * columns * 32 < tiles * 46 { columns += 1 }
        return columns
    }

    private static func draw(_ profile: MemoryProfile, columns: Int, rows: Int, cell: Int) -> String {
        let target = profile.target, budget = target.bytesPerTile
        let over = profile.tilesOverBudget.count
        let title = "Tile memory, target \(target.name)" + (over > 0 ? ": OUT OF MEMORY" : "")
        var lines = ["\(profile.tiles.count.grouped) tiles × \(budget.grouped) bytes; used \(profile.totalBytes.grouped)"
            + " of \(target.totalBytes.grouped) bytes (\(percent(profile.totalBytes, of: target.totalBytes)))"]
        if !profile.tiles.isEmpty {
            let fullest = profile.fullestTile
            lines.append("fullest tile \(fullest.tile): \(fullest.totalBytes.grouped) bytes (\(percent(fullest.totalBytes, of: budget)))"
                + (over > 0 ? "; \(over.grouped) tile(s) over budget" : ""))
        }

        // Text widths are estimated (about 0.6 em per character) to size the picture.
        let margin = 16, pitch = cell + 1, gridTop = 40 + 18 * lines.count
        let gridWidth = columns * pitch - 1, gridHeight = max(0, rows * pitch - 1)
        let legendWidth = 300, legendTop = gridTop + gridHeight + 22
        let textWidth = max(title.count * 9, (lines.map { $0.count }.max() ?? 0) * 7)
        let width = max(gridWidth, legendWidth + 190, textWidth) + 2 * margin
        let height = legendTop + 12 + 34 + margin

        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"\(width)\" height=\"\(height)\" "
            + "viewBox=\"0 0 \(width) \(height)\" font-family=\"sans-serif\">\n"
        out += "<title>\(([title] + lines).joined(separator: "; ").xmlEscaped)</title>\n"
        out += "<defs><linearGradient id=\"ramp\" x1=\"0\" y1=\"0\" x2=\"1\" y2=\"0\">"
        for index in Viridis.samples.indices {
            out += "<stop offset=\"\(index * 10)%\" stop-color=\"\(Viridis.hex(sample: index))\"/>"
        }
        out += "</linearGradient></defs>\n"
        out += "<rect x=\"0\" y=\"0\" width=\"\(width)\" height=\"\(height)\" fill=\"#ffffff\"/>\n"
        out += "<text x=\"\(margin)\" y=\"24\" font-size=\"15\" font-weight=\"bold\"\(over > 0 ? " fill=\"\(overBudgetColor)\"" : "")>"
            + "\(title.xmlEscaped)</text>\n"
        for (index, line) in lines.enumerated() {
            out += "<text x=\"\(margin)\" y=\"\(44 + 18 * index)\" font-size=\"12\">\(line.xmlEscaped)</text>\n"
        }

        out += "<g stroke-width=\"1.5\">\n"
        for (position, tile) in profile.tiles.enumerated() {
            let x = margin + (position % columns) * pitch, y = gridTop + (position / columns) * pitch
            let isOver = tile.totalBytes > budget
            let fill = isOver ? overBudgetColor : Viridis.hex(budget == 0 ? 1 : Double(tile.totalBytes) / Double(budget))
            let stroke = isOver ? " stroke=\"#000000\"" : ""
            out += "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(cell)\" height=\"\(cell)\" fill=\"\(fill)\"\(stroke)>"
                + "<title>tile \(tile.tile): \(tile.totalBytes.grouped) bytes (\(percent(tile.totalBytes, of: budget)))</title></rect>\n"
        }
        out += "</g>\n"

        out += "<g font-size=\"11\">\n"
        out += "<rect x=\"\(margin)\" y=\"\(legendTop)\" width=\"\(legendWidth)\" height=\"12\" fill=\"url(#ramp)\" stroke=\"#888888\" stroke-width=\"0.5\"/>\n"
        for quarter in 0...4 {
            let x = margin + legendWidth * quarter / 4
            let anchor = quarter == 0 ? "start" : quarter == 4 ? "end" : "middle"
            out += "<line x1=\"\(x)\" y1=\"\(legendTop + 12)\" x2=\"\(x)\" y2=\"\(legendTop + 16)\" stroke=\"#444444\"/>"
            out += "<text x=\"\(x)\" y=\"\(legendTop + 28)\" text-anchor=\"\(anchor)\">\(quarter * 25)%</text>"
            out += "<text x=\"\(x)\" y=\"\(legendTop + 41)\" text-anchor=\"\(anchor)\" fill=\"#555555\">\((budget * quarter / 4).grouped)</text>\n"
        }
        let swatch = margin + legendWidth + 20
        out += "<rect x=\"\(swatch)\" y=\"\(legendTop)\" width=\"12\" height=\"12\" fill=\"\(overBudgetColor)\" stroke=\"#000000\" stroke-width=\"1.5\"/>"
        out += "<text x=\"\(swatch + 18)\" y=\"\(legendTop + 10)\">over budget</text>\n"
        out += "<text x=\"\(swatch)\" y=\"\(legendTop + 28)\" fill=\"#555555\">bytes of \(budget.grouped) per tile</text>\n"
        out += "</g>\n</svg>\n"
        return out
    }
}
