import Foundation
import IFANEngine

/// A one-line progress display on standard error: redrawn in place on a terminal, one line per step otherwise
/// (so logs stay readable).
struct ProgressLine {
    let label: String
    let isTerminal = isatty(STDERR_FILENO) != 0
    let start = Date()

    func update(_ done: Int, _ total: Int, _ item: String) {
        let elapsed = Date().timeIntervalSince(start)
        var line = "\(label) [\(done)/\(total)]"
        if done > 0 && done < total {
            let remaining = elapsed / Double(done) * Double(total - done)
            line += String(format: " %.0fs left", remaining)
        }
        if !item.isEmpty { line += " " + item }
        if isTerminal {
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + line + (done == total ? "\n" : "")).utf8))
        } else if done < total {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }
}

/// Progress within one image (tiles and network stages) on standard error, shown only on a terminal or when asked
/// for (`--progress`): redrawn in place on a terminal, one line per stage otherwise.
struct ImageProgressLine: Sendable {
    let label: String
    let isTerminal: Bool
    let start: Date

    /// Nil when progress is not wanted: standard error is not a terminal and `--progress` was not given.
    init?(label: String, requested: Bool) {
        let terminal = isatty(STDERR_FILENO) != 0
        guard terminal || requested else { return nil }
        self.label = label
        self.isTerminal = terminal
        self.start = Date()
    }

    /// The text for one report, e.g. "deblurring a.png: tile 3/24, IAC, 12%, 45 s left".
    static func text(label: String, _ p: DeblurProgress, elapsed: Double) -> String {
        var line = label + ":"
        if p.tiles > 1 { line += " tile \(p.tile)/\(p.tiles)," }
        line += " \(p.stage.rawValue), \(Int((p.fraction * 100).rounded(.down)))%"
        if p.fraction > 0.02 && p.fraction < 1 {
            line += String(format: ", %.0f s left", elapsed / p.fraction * (1 - p.fraction))
        }
        return line
    }

    func show(_ p: DeblurProgress, prefix: String = "") {
        let line = Self.text(label: prefix + label, p, elapsed: Date().timeIntervalSince(start))
        if isTerminal {
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + line + (p.stage == .done ? "\n" : "")).utf8))
        } else {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }

    var handler: DeblurProgressHandler { { show($0) } }
}
