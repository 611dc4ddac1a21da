import Alignment
import ArgumentParser
import CaptureDashboard
import DatasetBuilder
import Foundation
import Metrics
import PairVocabulary
import Pipeline
import Rig
import ThreadSupport

struct CaptureCommand: AsyncParsableCommand {
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

            With --serve, a page shows the capture as it runs: both cameras (battery, card, settings read back, \
            connection), the trigger, every pair as it lands (thumbnails, skew, verdict, scores), counts per scene and \
            split, and loud warnings (a missing frame, a camera gone, battery or card low, pairs rejected in a row, \
            skew over the rig file's maxSkew). It is served on 127.0.0.1 unless --host says otherwise (then with a \
            printed token) and stays up after the capture ends, until Ctrl-C.
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

    @Flag(help: "Serve a live page of the capture (see above); the address is printed first.")
    var serve = false

    @Option(help: "Port of the --serve page (0: any free port).")
    var port: Int = 8419

    @Option(help: "Address of the --serve page; other than loopback, every request must carry the printed token.")
    var host: String = "127.0.0.1"

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
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
        guard !host.isEmpty else { throw ValidationError("--host must not be empty") }
    }

    func run() async throws {
        let stopping = StopNotice()
        let interrupt = InterruptHandler { stopping.say() }
        if serve { return try await runServing(interrupt: interrupt, stopping: stopping) }
        try capture(dashboard: nil, interrupt: interrupt.stop, stopping: stopping)
    }

    /// The capture itself, with or without a page: `dashboard` is told everything the page shows.
    func capture(dashboard: DashboardFeed?, interrupt: StopFlag, stopping: StopNotice) throws {
        try reportingErrors {
            do {
                try captureReporting(dashboard: dashboard, interrupt: interrupt, stopping: stopping)
                dashboard?.apply(.ended(nil))
            } catch {
                // An exit status the capture chose (rejections, failed processing) is not a failure of the rig.
                dashboard?.apply(.ended(error is ExitCode ? nil : CaptureFailure(error)))
                throw error
            }
        }
    }

    private func captureReporting(dashboard: DashboardFeed?, interrupt: StopFlag, stopping: StopNotice) throws {
        let file = try RigFile.load(URL(fileURLWithPath: rig))
        // Everything that can be wrong with the arguments is found before a camera is touched: the dataset, the
        // model and the calibration are opened first, so a bad one never leaves a fired pair behind.
        let prepared = out == nil ? try prepareDataset(file: file) : nil
        let library = try GPhotoLibrary()
        let connected = try Rig(file: file, library: library)
        defer { connected.close() }
        do {
            try captureConnected(connected, file: file, prepared: prepared, dashboard: dashboard, interrupt: interrupt,
                                 stopping: stopping)
        } catch {
            // The page says "gone" or "card full" only of what the camera says when asked again: libgphoto2 reports
            // a dropped PTP/IP link and a full card as the same general error as a refused shot.
            if let dashboard {
                let failed = (error as? RigError)?.failures.filter { !$0.becauseTheOtherFailed }.map(\.role) ?? []
                dashboard.apply(.askedAfterFailure(Dictionary(uniqueKeysWithValues: failed.map { ($0, connected.camera($0).askAfterFailure()) })))
            }
            throw error
        }
    }

    private func captureConnected(_ connected: Rig, file: RigFile, prepared: (dataset: Dataset, processor: PairProcessor)?,
                                  dashboard: DashboardFeed?, interrupt: StopFlag, stopping: StopNotice) throws {
        if !noSettings { try connected.applySettings() }
        // The pre-flight before the first pair: what would stop the session or spoil its pairs.
        let preflight = try connected.preflight(apply: false)
        // The rig file's settings were just applied: a difference from them is not news (unless --no-settings).
        for w in preflight.warnings where noSettings || w.kind != .settingDiffers {
            FileHandle.standardError.write(Data("rigctl: warning: \(w)\n".utf8))
        }
        var shown = preflight
        shown.warnings = preflight.warnings.filter { noSettings || $0.kind != .settingDiffers }
        dashboard?.apply(.preflight(shown))
        if let e = preflight.errors.first { throw RigError.camera(CameraFailure(role: .shallow, camera: "rig", stage: .checking, reason: e)) }
        let space = CardSpaceMonitor(rig: connected, preflight: preflight)
        let reporter = dashboard.map { DashboardReporter(feed: $0) }
        dashboard?.apply(.capturing)
        if let prepared {
            return try captureIntoDataset(rig: connected, file: file, prepared: prepared, space: space,
                                          interrupt: interrupt, stopping: stopping, reporter: reporter)
        }
        guard let out else { return }
        try captureFiles(rig: connected, file: file, into: URL(fileURLWithPath: out), space: space,
                         interrupt: interrupt, stopping: stopping, reporter: reporter)
    }

    /// Files only: each pair written into the folder; Ctrl-C stops after the pair in hand, with status 130.
    func captureFiles(rig: Rig, file: RigFile, into directory: URL, space: CardSpaceMonitor, interrupt: StopFlag,
                      stopping: StopNotice, reporter: DashboardReporter?) throws {
        stopping.add { note("stopping after the pair in hand (Ctrl-C again to quit at once)") }
        if file.trigger == .external { note("waiting for an external release (\(count) pair(s))") }
        var skews: [Double] = []
        var pairs: [CapturedPair] = []
        let start = Date()
        for n in 0..<count {
            if n > 0 && interval > 0 { Thread.sleep(forTimeInterval: interval) }
            if interrupt.isRequested { break }
            let pair = try rig.capture(count: 1, into: directory)[0]
            pairs.append(pair)
            reporter?.captured(number: n + 1, captureID: nil, pair: pair, scene: nil) { role in
                let url = pair.url(role)
                return (try Data(contentsOf: url), url.path)
            }
            let skew = pair.triggerSkew.map { String(format: "trigger skew %.2f ms", $0 * 1000) }
                ?? (pair.trigger == .triggerBox ? "trigger box" : "external release")
            var line = String(format: "pair %d: %@ + %@  %@, arrival skew %.1f ms", pair.index, pair.shallow.fileName,
                              pair.deep.fileName, skew, pair.arrivalSkew * 1000)
            let (fit, cameras) = Self.spaceAfterPair(space, reporter: reporter)
            reporter?.afterPair(fit: fit, cameras: cameras)
            if let fit { line += ", \(fit.pairs) more pair(s) fit" }
            if json { note(line) } else { print(line) }
            if let s = pair.triggerSkew { skews.append(abs(s)) }
        }
        let elapsed = Date().timeIntervalSince(start)
        if json {
            try printJSON(FileCaptureJSON(folder: directory.path, pairs: pairs.map(FileCaptureJSON.Pair.init),
                                          interrupted: interrupt.isRequested, seconds: elapsed))
        } else {
            var summary = String(format: "%d pair(s) in %.1f s (%.1f pairs/min)", pairs.count, elapsed,
                                 Double(pairs.count) / max(elapsed, 1e-9) * 60)
            if !skews.isEmpty {
                summary += String(format: ", median |trigger skew| %.2f ms", skews.sorted()[skews.count / 2] * 1000)
            }
            print(summary + " into \(directory.path)")
        }
        if interrupt.isRequested { throw ExitCode(ExitStatus.interrupted) }
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
                            space: CardSpaceMonitor, interrupt: StopFlag, stopping: StopNotice,
                            reporter: DashboardReporter?) throws {
        let root = location.url
        let dataset = prepared.dataset
        let pipeline = CapturePipeline(dataset: dataset, processor: prepared.processor,
                                       scene: SceneInput(name: scene ?? "unsorted"),
                                       session: ISO8601DateFormatter().string(from: Date()), split: split)
        let display = PipelineDisplay(total: count, standardError: json)
        stopping.add { display.handle(.stopping) }
        if file.trigger == .external { note("waiting for an external release (\(count) pair(s))") }
        let start = Date()
        // The capture loop sends `.captured` between pairs, so the cards can be read then.
        let sceneName = pipeline.scene.name
        let outcomes = try pipeline.run(rig: rig, count: count, interval: interval, stop: interrupt, events: { event in
            display.handle(event)
            reporter?.pipeline(event)
            if case .captured(let index, let id, _, _, let pair) = event {
                reporter?.captured(number: index, captureID: id, pair: pair, scene: sceneName) { role in
                    guard let shot = try dataset.capture(id: id)?.shot(role.shot) else {
                        throw DatasetError.notFound(what: "capture", id: "\(id)")
                    }
                    return (try dataset.readManagedFile(shot.file), shot.file.path)
                }
                let (fit, cameras) = Self.spaceAfterPair(space, reporter: reporter)
                reporter?.afterPair(fit: fit, cameras: cameras)
            }
        })
        display.finish()
        let elapsed = Date().timeIntervalSince(start)
        let left = try dataset.capturesWithoutPair().count
        if json {
            try printJSON(PipelineRunJSON(dataset: root, outcomes: outcomes, failures: display.failures, waiting: left,
                                          interrupted: interrupt.isRequested, seconds: elapsed))
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
        if interrupt.isRequested { throw ExitCode(ExitStatus.interrupted) }
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
    /// The cards' figure after a pair, and the dashboard's full reading of the cameras when it is due (made from
    /// the same read of the cards); the session's one low-space warning goes to standard error.
    static func spaceAfterPair(_ space: CardSpaceMonitor, reporter: DashboardReporter?) -> (PairsThatFit?, [CameraPreflight]?) {
        let (fit, warning, cameras) = space.afterPair(readingCameras: reporter?.readingDue() ?? false)
        if let warning { FileHandle.standardError.write(Data("rigctl: warning: \(warning)\n".utf8)) }
        return (fit, cameras)
    }
}
