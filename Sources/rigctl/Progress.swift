import Foundation

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
