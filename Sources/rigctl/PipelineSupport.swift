import Alignment
import DatasetBuilder
import Foundation
import IFANEngine
import Metrics
import NeuralCore
import PairVocabulary
import Pipeline
import Rig
import ThreadSupport

extension PipelineSettings {
    /// The settings of a `capture --dataset` or `process` run, their notes on standard error.
    init(model options: ModelOptions, rigFile: RigFile?, calibrationPath: String?, split: Split?) {
        self.init(model: options.model, modelName: options.modelName, noModel: options.noModel, rigFile: rigFile,
                  calibrationPath: calibrationPath, split: split)
        note = { FileHandle.standardError.write(Data("rigctl: note: \($0)\n".utf8)) }
    }
}

/// Ctrl-C (or SIGTERM) asks the pipeline to stop after the pair in hand, and the command then exits with status 130
/// (`ExitStatus.interrupted`) so that a script can tell a stopped run from a finished one; a second one exits at
/// once, with the same status, which is still safe because every step is crash-safe.
final class InterruptHandler {
    let stop = StopFlag()

    /// Whether a stop was asked for.
    var interrupted: Bool { stop.isRequested }
    /// Kept so that the signal sources live as long as the handler.
    private let sources: [DispatchSourceSignal]

    init(onFirst: @escaping @Sendable () -> Void) {
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            sources.append(DispatchSource.makeSignalSource(signal: sig, queue: .global()))
        }
        self.sources = sources
        let stop = self.stop, count = LockedValue(0)
        for source in sources {
            source.setEventHandler {
                let n = count.withLock { $0 += 1; return $0 }
                if n == 1 {
                    stop.request()
                    onFirst()
                } else {
                    FileHandle.standardError.write(Data("\nrigctl: stopped; unfinished work resumes with `rigctl process`\n".utf8))
                    exit(ExitStatus.interrupted)
                }
            }
            source.resume()
        }
    }
}

/// One line per pair as it is finished, and on a terminal a status line below them that is redrawn in place.
/// Events come from the capture loop and the worker thread at once; the screen state lives in one locked box.
final class PipelineDisplay: Sendable {
    private let screen: LockedValue<Screen>

    /// `standardError`: the lines go to standard error, for `--json`, whose result alone is on standard output.
    init(total: Int?, standardError: Bool = false) {
        screen = LockedValue(Screen(total: total, fd: standardError ? STDERR_FILENO : STDOUT_FILENO))
    }

    func handle(_ event: PipelineEvent) { screen.withLock { $0.handle(event) } }

    func finish() { screen.withLock { $0.finish() } }

    var failures: Int { screen.withLock { $0.failures } }

    /// The run's rejections (see `RejectionWatch`): its summary when every pair was rejected.
    var rejections: RejectionWatch { screen.withLock { $0.rejections } }

    static func describe(_ o: PairOutcome) -> String { Screen.describe(o) }

    /// One line per reason a score is missing, with how many pairs it applies to (e.g. LPIPS without weights).
    static func missingSummary(_ outcomes: [PairOutcome]) -> [String] {
        var pairs: [String: Int] = [:]
        for o in outcomes { for (metric, reason) in o.missing { pairs["\(metric) missing: \(reason)", default: 0] += 1 } }
        return pairs.keys.sorted().map { "\($0) (\(pairs[$0]!) pair(s)); run `rigctl process` again once it is fixed" }
    }
}

/// What the display has shown so far, changed only under the display's lock.
private struct Screen {
    /// Standard output or standard error.
    let fd: Int32
    let isTerminal: Bool
    var captured = 0
    let total: Int?
    var processed = 0
    var waiting = 0
    var current: String?
    var statusShown = false
    var failures = 0
    var rejections = RejectionWatch()

    init(total: Int?, fd: Int32) {
        self.total = total
        self.fd = fd
        isTerminal = isatty(fd) != 0
    }

    /// Standard output goes through `print`'s buffer (so it stays in order with the command's other lines);
    /// standard error is unbuffered.
    private func write(_ text: String) {
        if fd == STDOUT_FILENO { print(text, terminator: "") } else { FileHandle.standardError.write(Data(text.utf8)) }
    }

    mutating func handle(_ event: PipelineEvent) {
        do {
            switch event {
            case .captured(let index, let id, let skew, let waitingNow, _):
                captured = index
                waiting = waitingNow
                let skewText = skew.map { String(format: ", skew %.2f ms", $0 * 1000) } ?? ""
                // Numbered by capture id, the number the processed line and the catalogue use too; the count in
                // this run only as "n of N".
                let ofTotal = total.map { " of \($0)" } ?? ""
                if !isTerminal { emit("capture \(id) taken (\(index)\(ofTotal) in this run\(skewText))") }
            case .stage(let id, let name):
                current = "capture \(id): \(name)"
                waiting = max(0, waiting - 1)
            case .processed(let outcome):
                processed += 1
                current = nil
                emit(Self.describe(outcome))
                if let warning = rejections.add(outcome.verdict, reasons: outcome.reasons) {
                    // Loud, on standard error whatever the output is: a person must not miss it mid-capture.
                    if statusShown { write("\r\u{1B}[K"); statusShown = false }
                    FileHandle.standardError.write(Data("rigctl: WARNING: \(warning)\n".utf8))
                }
            case .failed(_, let error):
                failures += 1
                current = nil
                // The error names the capture or pair, and the stage.
                emit("FAILED - \(error)")
            case .stopping:
                emit("stopping after the pair in hand (Ctrl-C again to quit at once)")
            }
            drawStatus()
        }
    }

    mutating func finish() {
        do {
            if statusShown { write("\r\u{1B}[K") }
            statusShown = false
            fflush(nil)
        }
    }

    private mutating func emit(_ line: String) {
        if statusShown { write("\r\u{1B}[K") }
        write(line + "\n")
        statusShown = false
    }

    private mutating func drawStatus() {
        guard isTerminal else { fflush(nil); return }
        var status = "captured \(captured)" + (total.map { "/\($0)" } ?? "") + " · processed \(processed)"
        if waiting > 0 { status += " · \(waiting) waiting" }
        if let current { status += " · \(current)" }
        write("\r\u{1B}[K" + status)
        statusShown = true
        fflush(nil)
    }

    static func describe(_ o: PairOutcome) -> String {
        // An imported pair scored again has no capture.
        var line = (o.captureID.map { "capture \($0) -> " } ?? "") + "pair \(o.pairID) [\(o.scene)] \(o.verdict.rawValue)"
        func scores(_ r: MetricReport) -> String {
            String(format: "%.2f dB, SSIM %.3f", r.psnr, r.ssim) + (r.lpips.map { String(format: ", LPIPS %.3f", $0) } ?? "")
        }
        if let input = o.input { line += " · input " + scores(input) }
        if let d = o.deblurred, let name = o.modelName { line += " · \(name) " + scores(d) }
        // The dataset's further protocols, each named.
        for other in o.byProtocol.dropFirst() where other.input != nil || other.deblurred != nil {
            var part = " · \(other.named):"
            if let input = other.input { part += " input " + scores(input) }
            if let d = other.deblurred, let name = o.modelName { part += (other.input == nil ? " " : ", ") + "\(name) " + scores(d) }
            line += part
        }
        if o.verdict != .accepted, !o.reasons.isEmpty { line += " · " + o.reasons.joined(separator: "; ") }
        for metric in o.missing.keys.sorted() { line += " · \(metric.uppercased()) missing: \(o.missing[metric]!)" }
        let stages = ["align", "deblur"].compactMap { s in o.timings[s].map { String(format: "%@ %.1f s", s, $0) } }
        if !stages.isEmpty { line += " (" + stages.joined(separator: ", ") + ")" }
        return line
    }
}
