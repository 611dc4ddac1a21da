import Foundation

/// Numbers as a person reads them in the text output; `--json` keeps full precision. Scores get the decimals the
/// papers print, other figures 4 significant digits, shutter times the photographer's 1/500.
enum HumanFormat {
    /// A name as one field of tab-separated output: a backslash, tab, newline or carriage return in it is written
    /// as `\\`, `\t`, `\n`, `\r` (other control characters as `\xNN`), so that a crafted name cannot split a line.
    static func field(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default:
                if scalar.properties.generalCategory == .control {
                    out += String(format: "\\x%02X", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// `x` with `places` decimals.
    static func fixed(_ x: Double, _ places: Int) -> String {
        x.isFinite ? String(format: "%.\(places)f", x) : (x.isNaN ? "nan" : (x > 0 ? "inf" : "-inf"))
    }

    /// `x` with `digits` significant digits (exponent notation only for very small or large magnitudes).
    static func significant(_ x: Double, _ digits: Int = 4) -> String {
        x.isFinite ? String(format: "%.\(digits)g", x) : fixed(x, 0)
    }

    /// PSNR in dB with 2 decimals, as the IFAN paper's tables print it.
    static func decibels(_ x: Double) -> String { fixed(x, 2) + " dB" }

    /// A shutter time as cameras show it: 1/500 s for fast ones, 0.5 s or 30 s for slow ones.
    static func shutter(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds > 0 else { return "? s" }
        // Up to 1/4 s the reciprocal is what is set on the camera (a stored 0.0020000000949949026 is 1/500).
        if seconds < 0.3 { return "1/\(Int((1 / seconds).rounded())) s" }
        return significant(seconds, 3) + " s"
    }

    /// An f-number: f/2, f/5.6, f/16.
    static func aperture(_ n: Double) -> String { "f/" + significant(n, 3) }

    /// A row-major 3x3 matrix as three aligned rows, indented. Six significant digits: the scale terms differ from
    /// 1 in the fourth decimal, and over a 6000-pixel frame that is a pixel.
    static func matrix3x3(_ m: [Double], indent: String = "  ") -> [String] {
        guard m.count == 9 else { return [indent + m.map { significant($0, 6) }.joined(separator: " ")] }
        let cells = m.map { significant($0, 6) }
        let width = cells.map(\.count).max() ?? 0
        return (0..<3).map { r in
            indent + "[ " + (0..<3).map { c in
                let cell = cells[r * 3 + c]
                return String(repeating: " ", count: width - cell.count) + cell
            }.joined(separator: "  ") + " ]"
        }
    }
}
