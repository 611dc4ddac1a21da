import Alignment
import ArgumentParser
import DatasetBuilder
import Foundation
import Metrics
import PairVocabulary
import Pipeline
import Rig
import ThreadSupport

struct CaptureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Capture pairs with a two-camera rig.",
        discussion: """
            Applies the rig file's settings, then per pair fires both cameras from one barrier (software trigger), \
            fires the trigger box wired to them (trigger-box) or waits for an external release, downloads both files and writes NNNN_shallow.EXT, NNNN_deep.EXT and \
            NNNN.json (trigger and arrival times, skew, metadata) into the output folder. A pair that fails is not \
            written at all; the command stops with an error naming the camera and what it was doing.

            With --dataset instead of --out, every pair is catalogued as it arrives, then aligned, deblurred by the \
            installed IFAN weights and scored (input and output against the aligned target) on a worker thread \
            while the next pair is captured. Ctrl-C stops after the pair in hand; unfinished work resumes with \
            `rigctl process`, which aligns each capture with the rig file's calibration recorded with it and puts its \
            pair in the split the capture asked for. The dataset must exist (`rigctl dataset init DIR`) unless --init \
            is given.
            """
    )

    @Option(help: "The rig file (JSON, see docs/rig.md).")
    var rig: String

    @Option(help: "Output folder for the files alone (created if missing); numbering continues after pairs there.")
    var out: String?

    @OptionGroup var location: DatasetLocation

    @Flag(name: .customLong("init"), help: "Create the dataset if the folder holds none (default: it must exist).")
    var initDataset = false

    @Option(help: "The scene being shot (with --dataset).")
    var scene: String?

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: ArgumentHelp("Split for the new pairs: train, test or unused.", discussion: """
        Default: the side the scene is already on (from `rigctl dataset split` or an earlier capture), else unused \
        until `rigctl dataset split` assigns scenes. Rejected pairs are always unused.
        """))
    var split: Split?

    @Option(help: "Number of pairs.")
    var count: Int = 1

    @Option(help: "Seconds between pairs (software trigger).")
    var interval: Double = 0

    @Flag(name: .customLong("no-settings"), help: "Do not apply the rig file's settings.")
    var noSettings = false

    @Flag(help: "Print the result as JSON on standard output (docs/cli-json.md); the per-pair lines go to standard error.")
    var json = false

    func validate() throws {
        guard count >= 1 else { throw ValidationError("--count must be at least 1") }
        if out == nil && scene == nil { throw ValidationError("give --scene NAME to capture into a dataset (or --out DIR for files only)") }
        if out != nil && location.dataset != nil { throw ValidationError("give either --out or --dataset, not both") }
        guard interval >= 0 && interval.isFinite else { throw ValidationError("--interval must be a number of seconds, not negative") }
        if let scene, scene.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw ValidationError("--scene must name the scene, not be empty")
        }
        if let scene, scene.utf8.count > 200 { throw ValidationError("--scene is longer than 200 bytes") }
        if initDataset && out != nil { throw ValidationError("--init creates a dataset; it has no meaning with --out") }
    }

    func run() throws {
        try reportingErrors {
            let file = try RigFile.load(URL(fileURLWithPath: rig))
            // Everything that can be wrong with the arguments is found before a camera is touched: the dataset, the
            // model and the calibration are opened first, so a bad one never leaves a fired pair behind.
            let prepared = out == nil ? try prepareDataset(file: file) : nil
            let library = try GPhotoLibrary()
            let connected = try Rig(file: file, library: library)
            defer { connected.close() }
            if !noSettings { try connected.applySettings() }
            // The pre-flight before the first pair: what would stop the session or spoil its pairs.
            let preflight = try connected.preflight(apply: false)
            // The rig file's settings were just applied: a difference from them is not news (unless --no-settings).
            for w in preflight.warnings where noSettings || w.kind != .settingDiffers {
                FileHandle.standardError.write(Data("rigctl: warning: \(w)\n".utf8))
            }
            if let e = preflight.errors.first { throw RigError.camera(CameraFailure(role: .shallow, camera: "rig", stage: .checking, reason: e)) }
            let space = CardSpaceMonitor(rig: connected, preflight: preflight)
            if let prepared { return try captureIntoDataset(rig: connected, file: file, prepared: prepared, space: space) }
            guard let out else { return }
            try captureFiles(rig: connected, file: file, into: URL(fileURLWithPath: out), space: space)
        }
    }

    /// Files only: each pair written into the folder; Ctrl-C stops after the pair in hand, with status 130.
    func captureFiles(rig: Rig, file: RigFile, into directory: URL, space: CardSpaceMonitor) throws {
        let interrupt = InterruptHandler { note("stopping after the pair in hand (Ctrl-C again to quit at once)") }
        if file.trigger == .external { note("waiting for an external release (\(count) pair(s))") }
        var skews: [Double] = []
        var pairs: [CapturedPair] = []
        let start = Date()
        for n in 0..<count {
            if n > 0 && interval > 0 { Thread.sleep(forTimeInterval: interval) }
            if interrupt.interrupted { break }
            let pair = try rig.capture(count: 1, into: directory)[0]
            pairs.append(pair)
            let skew = pair.triggerSkew.map { String(format: "trigger skew %.2f ms", $0 * 1000) }
                ?? (pair.trigger == .triggerBox ? "trigger box" : "external release")
            var line = String(format: "pair %d: %@ + %@  %@, arrival skew %.1f ms", pair.index, pair.shallow.fileName,
                              pair.deep.fileName, skew, pair.arrivalSkew * 1000)
            if let fit = Self.spaceAfterPair(space) { line += ", \(fit.pairs) more pair(s) fit" }
            if json { note(line) } else { print(line) }
            if let s = pair.triggerSkew { skews.append(abs(s)) }
        }
        let elapsed = Date().timeIntervalSince(start)
        if json {
            try printJSON(FileCaptureJSON(folder: directory.path, pairs: pairs.map(FileCaptureJSON.Pair.init),
                                          interrupted: interrupt.interrupted, seconds: elapsed))
        } else {
            var summary = String(format: "%d pair(s) in %.1f s (%.1f pairs/min)", pairs.count, elapsed,
                                 Double(pairs.count) / max(elapsed, 1e-9) * 60)
            if !skews.isEmpty {
                summary += String(format: ", median |trigger skew| %.2f ms", skews.sorted()[skews.count / 2] * 1000)
            }
            print(summary + " into \(directory.path)")
        }
        if interrupt.interrupted { throw ExitCode(ExitStatus.interrupted) }
    }

    /// The whole pipeline: every pair catalogued, aligned, deblurred and scored as it arrives.
    func prepareDataset(file: RigFile) throws -> (dataset: Dataset, processor: PairProcessor) {
        // The rig file's calibration (checked when the file was read) is recorded with every capture, not given as
        // this run's calibration, so the captures are aligned the same way now and after a stop.
        let settings = PipelineSettings(model: modelOptions, rigFile: nil,
                                        calibrationPath: nil, split: split)
        let deblur = try settings.deblurModel()
        let dataset = try location.open(creating: initDataset)
        return (dataset, try settings.processor(for: dataset, model: deblur))
    }

    func captureIntoDataset(rig: Rig, file: RigFile, prepared: (dataset: Dataset, processor: PairProcessor),
                            space: CardSpaceMonitor) throws {
        let root = location.url
        let dataset = prepared.dataset
        let pipeline = CapturePipeline(dataset: dataset, processor: prepared.processor,
                                       scene: SceneInput(name: scene ?? "unsorted"),
                                       session: ISO8601DateFormatter().string(from: Date()), split: split)
        let display = PipelineDisplay(total: count, standardError: json)
        let interrupt = InterruptHandler { display.handle(.stopping) }
        if file.trigger == .external { note("waiting for an external release (\(count) pair(s))") }
        let start = Date()
        // The capture loop sends `.captured` between pairs, so the cards can be read then.
        let outcomes = try pipeline.run(rig: rig, count: count, interval: interval, stop: interrupt.stop, events: { event in
            display.handle(event)
            if case .captured = event { _ = Self.spaceAfterPair(space) }
        })
        display.finish()
        let elapsed = Date().timeIntervalSince(start)
        let left = try dataset.capturesWithoutPair().count
        if json {
            try printJSON(PipelineRunJSON(dataset: root, outcomes: outcomes, failures: display.failures, waiting: left,
                                          interrupted: interrupt.interrupted, seconds: elapsed))
        } else {
            print(Self.summary(outcomes, elapsed: elapsed, dataset: root.path))
        }
        if left > 0 { note("\(left) capture(s) wait for processing: rigctl process --dataset \(root.path)") }
        let made = Set(outcomes.map(\.pairID))
        let unsplit = try dataset.pairs(PairFilter(scene: scene, split: .unused))
            .filter { made.contains($0.id) && $0.verdict != .rejected }.count
        if unsplit > 0 {
            note("\(unsplit) pair(s) have no split yet (unused), so an export or evaluation of the test split "
                 + "leaves them out: assign scenes with `rigctl dataset split`, or capture with --split test or train")
        }
        // A failed pair outranks the interruption: it needs a look, the interruption was asked for.
        if let rejected = display.rejections.summary {
            FileHandle.standardError.write(Data("rigctl: error: \(rejected)\n".utf8))
        }
        if display.failures > 0 { throw ExitCode(ExitStatus.failure) }
        if interrupt.interrupted { throw ExitCode(ExitStatus.interrupted) }
        if display.rejections.allRejected { throw ExitCode(ExitStatus.rejectedPair) }
    }

    static func summary(_ outcomes: [PairOutcome], elapsed: TimeInterval, dataset: String) -> String {
        var counts: [String: Int] = [:]
        for o in outcomes { counts[o.verdict.rawValue, default: 0] += 1 }
        var text = String(format: "%d pair(s) processed in %.1f s (%.1f pairs/min): ", outcomes.count, elapsed,
                          Double(outcomes.count) / max(elapsed, 1e-9) * 60)
        text += Verdict.allCases.map { "\(counts[$0.rawValue] ?? 0) \($0.rawValue)" }.joined(separator: ", ")
        func mean(_ reports: [MetricReport]) -> String? {
            guard !reports.isEmpty else { return nil }
            let n = Double(reports.count)
            return String(format: "%.2f dB, SSIM %.3f", reports.map(\.psnr).reduce(0, +) / n, reports.map(\.ssim).reduce(0, +) / n)
        }
        if let input = mean(outcomes.compactMap(\.input)) { text += "\nmean input: " + input }
        if let name = outcomes.first(where: { $0.deblurred != nil })?.modelName, let d = mean(outcomes.compactMap(\.deblurred)) {
            text += "\nmean \(name): " + d
        }
        return text + "\ndataset: \(dataset)"
    }
}

extension CaptureCommand {
    /// The cards' figure after a pair; the session's one low-space warning goes to standard error.
    static func spaceAfterPair(_ space: CardSpaceMonitor) -> PairsThatFit? {
        let (fit, warning) = space.afterPair()
        if let warning { FileHandle.standardError.write(Data("rigctl: warning: \(warning)\n".utf8)) }
        return fit
    }
}
