import Foundation

/// A plain-text table with columns sized to their widest cell.
struct TextTable {
    enum Alignment { case left, right }

    var columns: [(header: String, alignment: Alignment)]
    var rows: [[String]] = []

    init(_ columns: [(String, Alignment)]) {
        self.columns = columns.map { (header: $0.0, alignment: $0.1) }
    }

    mutating func append(_ row: [String]) { rows.append(row) }

    /// The table, one line per row after a header line (unless `header` is false), every line
    /// indented by `indent`, without trailing spaces.
    func render(indent: String = "  ", header: Bool = true) -> String {
        var widths = columns.map { $0.header.count }
        for row in rows {
            for (column, cell) in row.enumerated() { widths[column] = max(widths[column], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            var parts: [String] = []
            for (column, cell) in cells.enumerated() {
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                let isLast = column == cells.count - 1
                switch columns[column].alignment {
                case .left: parts.append(isLast ? cell : cell + padding)
                case .right: parts.append(padding + cell)
                }
            }
            var text = indent + parts.joined(separator: "  ")
            while text.last == " " { text.removeLast() }
            return text
        }
        return ((header ? [line(columns.map { $0.header })] : []) + rows.map(line)).joined(separator: "\n") + "\n"
    }
}

/// `part` as a percentage of `whole` with one decimal ("12.3%"), or "-" when `whole` is zero.
func percent(_ part: Int, of whole: Int) -> String {
    whole == 0 ? "-" : percent(Double(part) / Double(whole))
}

/// A fraction as a percentage with one decimal ("12.3%").
func percent(_ fraction: Double) -> String { String(format: "%.1f%%", fraction * 100) }

/// A number with a fixed count of decimals.
func fixed(_ value: Double, _ decimals: Int) -> String { String(format: "%.\(decimals)f", value) }

/// A hertz value in the largest unit that keeps it above one ("1.33 GHz").
func frequency(_ hertz: Double) -> String {
    if hertz >= 1e9 { return fixed(hertz / 1e9, 2) + " GHz" }
    if hertz >= 1e6 { return fixed(hertz / 1e6, 2) + " MHz" }
    return fixed(hertz, 0) + " Hz"
}

/// `text` cut to `limit` characters, with an ellipsis where it was cut.
func clipped(_ text: String, _ limit: Int) -> String {
    text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
}

extension String {
    /// The string as a JSON string literal, quotes included.
    var jsonQuoted: String {
        var out = "\""
        for scalar in unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// The string with XML's five special characters escaped and control characters XML 1.0 forbids
    /// replaced by "?", for text and attribute values.
    var xmlEscaped: String {
        var out = ""
        for character in self {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case _ where character.unicodeScalars.allSatisfy({ $0.value < 0x20 && $0 != "\t" && $0 != "\n" && $0 != "\r" }):
                out += "?"  // XML 1.0 cannot carry other control characters, even escaped
            default: out.append(character)
            }
        }
        return out
    }
}
