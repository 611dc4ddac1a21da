import Alignment
import AtomicFiles
import DatasetBuilder
import Foundation
import Imaging
import PairVocabulary
import Rig
import ThreadSupport

/// What the pipeline reports as it goes, for a live display or a log.
public enum PipelineEvent: Sendable {
    /// A pair was captured and catalogued; `waiting` captures are queued for processing.
    case captured(index: Int, captureID: CaptureID, skew: Double?, waiting: Int, pair: CapturedPair)
    case stage(captureID: CaptureID, name: String)
    case processed(PairOutcome)
    /// A unit of work failed (nil: the list of work could not be read); the error names the capture or pair and
    /// the stage.
    case failed(work: PairWork?, error: any Error)
    /// A stop was requested (Ctrl-C): the pair in hand is finished, the rest waits for `rigctl process`. Sent by
    /// whoever handles the request, at once.
    case stopping
}

/// A request to stop, set from a signal handler or another thread and read between pairs.
public final class StopFlag: Sendable {
    private let requested = LockedValue(false)
    public init() {}
    public func request() { requested.withLock { $0 = true } }
    public var isRequested: Bool { requested.value }
}

/// Capture with every stage behind it: each pair, as it arrives, is catalogued, then aligned, deblurred and scored
/// on a worker thread while the next pair is being captured.
///
/// Nothing is lost on a stop or a crash: the rig writes both files (and then their sidecar) into the dataset's
/// `incoming/` folder, the capture is catalogued from there in one step, and only then are the incoming files
/// removed. `catalogueIncoming` picks up pairs that a crash left in `incoming/`, and captures that were catalogued
/// but not processed are found by `Dataset.capturesWithoutPair`.
public final class CapturePipeline: Sendable {
    public static let incomingFolder = Dataset.incomingFolder

    public let dataset: Dataset
    public let processor: PairProcessor
    public let scene: SceneInput
    public let session: String?
    /// The split new captures ask for (kept with each capture, so that `rigctl process` honours it after a stop);
    /// nil leaves it to the scene.
    public let split: Split?
    /// Captures waiting for the worker before new ones are left to the catalogue's backlog.
    public let queueCapacity: Int

    public init(dataset: Dataset, processor: PairProcessor, scene: SceneInput, session: String? = nil, split: Split? = nil,
                queueCapacity: Int = 4) {
        self.queueCapacity = queueCapacity
        self.split = split
        self.dataset = dataset
        self.processor = processor
        self.scene = scene
        self.session = session
    }

    public var incoming: URL { dataset.incoming }

    /// Captures `count` pairs with `rig` (stopping early when `stop` is set) while a worker processes them.
    /// Returns the outcomes of the pairs processed in this run.
    public func run(rig: Rig, count: Int, interval: TimeInterval = 0, stop: StopFlag,
                    events: @escaping @Sendable (PipelineEvent) -> Void) throws -> [PairOutcome] {
        // The rig file's calibration goes with every capture, so that whoever aligns it later uses it.
        let calibration = Self.calibration(of: rig.file)
        // Made (or checked) through the dataset's descriptor: a link there is refused before anything is written.
        try dataset.prepareIncoming()
        // ... and with the pairs a crash leaves in incoming/, which `process` catalogues later.
        let settings = IncomingSettings(calibration: calibration, split: split, scene: scene.name, sceneNotes: scene.notes,
                                        sceneTags: scene.tags, session: session, rig: rig.file.name,
                                        maxSkew: rig.file.maxSkew)
        try AtomicFile.write(try JSONEncoder().encode(settings), to: incoming.appendingPathComponent(IncomingSettings.fileName))
        // Capture ids between the capture loop and the processing worker. The capture side never waits: when the
        // queue is full the capture stays in the catalogue as unprocessed, and the worker picks it up from there
        // once it has caught up.
        let queue = BoundedChannel<CaptureID>(capacity: queueCapacity)
        let results = OutcomeList()
        let processor = self.processor
        let dataset = self.dataset
        // Joined before this returns, and the worker's captures (the dataset among them) are released by its
        // start routine: nothing the worker holds is left to its thread's exit teardown.
        let worker = try JoinableThread(name: "pipeline-worker") {
            Self.work(queue: queue, processor: processor, dataset: dataset, stop: stop, results: results, events: events)
        }
        var captureError: Error?
        for n in 0..<count {
            if stop.isRequested { break }
            if n > 0 && interval > 0 { Thread.sleep(forTimeInterval: interval) }
            do {
                let index = Rig.nextIndex(in: incoming)
                let pair = try rig.nextPair(index: index, into: incoming)
                let id = try catalogue(pair, rig: rig.file.name, calibration: calibration, split: split, maxSkew: rig.file.maxSkew,
                                       scene: scene,
                                       session: session)
                let queued = queue.offer(id)
                events(.captured(index: n + 1, captureID: id, skew: pair.triggerSkew ?? pair.arrivalSkew,
                                 waiting: queue.count + (queued ? 0 : 1), pair: pair))
            } catch RigError.pairAborted(_, let failures) {
                // The rig numbers pairs by their files in incoming/, which is emptied after each one: name the pair
                // as the user counts it in this session instead.
                captureError = RigError.pairAborted(index: n + 1, failures: failures)
                break
            } catch {
                captureError = error
                break
            }
        }
        queue.close()
        worker.join()
        removeIncomingSettingsWhenDone()
        if let captureError { throw captureError }
        return results.all
    }

    /// Processes catalogued captures that have no pair yet and pairs that lack the input's or the model's scores,
    /// until there are none or `stop` is set: the work `rigctl process` resumes.
    /// With `realign`, captured pairs whose verdict was reached with another calibration than their capture's (or
    /// the one given for this run) are aligned again first. `overlapped` (the default) overlaps the stages of
    /// successive pairs (`PairProcessor.run`); the catalogue ends up as after the one-by-one run.
    public func processBacklog(stop: StopFlag, realign: Bool = false, overlapped: Bool = true,
                               events: @escaping @Sendable (PipelineEvent) -> Void) throws -> [PairOutcome] {
        _ = try catalogueIncoming()
        let results = OutcomeList()
        Self.processRemaining(processor: processor, dataset: dataset, stop: stop, results: results,
                              overlapped: overlapped, events: events)
        let toRealign: [PairID] = try realign ? processor.pairsToRealign() : []
        Self.run(toRealign.map { .realign(pairID: $0) }, processor: processor, stop: stop, results: results,
                 overlapped: overlapped, events: events)
        // Pairs taken before the model (or the LPIPS weights) were installed get the missing scores.
        Self.run(try pendingEvaluations().map { .scores(pairID: $0) }, processor: processor, stop: stop,
                 results: results, overlapped: overlapped, events: events)
        return results.all
    }

    /// Runs works through the processor, reporting each as it is done.
    static func run(_ works: [PairWork], processor: PairProcessor, stop: StopFlag, results: OutcomeList,
                    overlapped: Bool, events: @Sendable (PipelineEvent) -> Void) {
        processor.run(works, overlapped: overlapped, isCancelled: { stop.isRequested }, starting: { work in
            if case .capture(let id) = work { events(.stage(captureID: id, name: "processing")) }
        }, report: { work, result in
            switch result {
            case .success(let outcome):
                results.append(outcome)
                events(.processed(outcome))
            case .failure(let error):
                events(.failed(work: work, error: error))
            }
        })
    }

    /// Pairs missing a score of the input or the model under one of the dataset's protocols - or its LPIPS, once
    /// LPIPS weights are there.
    func pendingEvaluations() throws -> [PairID] {
        var ids = Set<PairID>()
        for method in processor.methods {
            for scorer in processor.scorers {
                ids.formUnion(try dataset.pairsWithoutScores(model: method.catalogueName, framing: scorer.framing,
                                                             ssim: scorer.scoring.ssim, channels: scorer.scoring.channels,
                                                             requireLPIPS: processor.lpips != nil))
            }
        }
        return ids.sorted()
    }

    /// Catalogues the complete pairs a crash left in `incoming/` (a pair is complete once its sidecar exists) and
    /// removes their files; returns the new capture ids.
    @discardableResult
    public func catalogueIncoming() throws -> [CaptureID] {
        // Listed, read and removed through the dataset's descriptor like the managed folders: a link in incoming/
        // (or incoming/ itself as one) is an error, never followed.
        let names: [String]
        do {
            names = try dataset.incomingFiles()
        } catch {
            throw PipelineError.incomingPair(path: incoming.path, reason: "\(error)")
        }
        guard !names.isEmpty else { return [] }
        dataset.removeIncomingLeftovers()
        // The settings of the capture run that left the pairs (each run writes them before its first pair).
        let settings = names.contains(IncomingSettings.fileName)
            ? (try? dataset.readIncoming(IncomingSettings.fileName)).flatMap { try? JSONDecoder().decode(IncomingSettings.self, from: $0) }
            : nil
        var ids: [CaptureID] = []
        for name in names.sorted() where name.hasSuffix(".json") && !name.hasPrefix(".") {
            let sidecar = incoming.appendingPathComponent(name)
            do {
                var pair = try CapturedPair.decode(try dataset.readIncoming(name), sidecar: sidecar)
                pair.directory = incoming
                // The scene and session the capture asked for; this run's own only for a file that lacks them.
                ids.append(try catalogue(pair, rig: settings?.rig, calibration: settings?.calibration, split: settings?.split,
                                         maxSkew: settings?.maxSkew,
                                         scene: settings?.sceneInput ?? scene, session: settings?.session ?? session))
            } catch {
                throw PipelineError.incomingPair(path: sidecar.path, reason: "\(error)")
            }
        }
        removeIncomingSettingsWhenDone()
        return ids
    }

    /// The run's settings are needed only while a pair waits in incoming/.
    func removeIncomingSettingsWhenDone() {
        if (try? dataset.incomingFiles()) == [IncomingSettings.fileName] {
            dataset.removeIncoming([IncomingSettings.fileName])
        }
    }

    /// The rig file's alignment calibration (the default one when the file has no "alignment").
    static func calibration(of file: RigFile) -> AlignmentCalibration {
        file.alignment ?? AlignmentCalibration()
    }

    /// One step: both originals, their shots' companion files (the JPEGs of RAW+JPEG shots) and their settings
    /// into the catalogue, then the incoming files removed.
    func catalogue(_ pair: CapturedPair, rig: String?, calibration: AlignmentCalibration?, split: Split?, maxSkew: Double?,
                   scene: SceneInput,
                   session: String?) throws -> CaptureID {
        // A pair record left in incoming/ is read back from disk: every name in it must be a file of that folder,
        // or a crafted record would have files outside the dataset copied in and then deleted.
        for file in [pair.shallow, pair.deep] {
            for name in [file.fileName] + (file.companions ?? []) where !Self.isPlainFileName(name) {
                throw DatasetError.unsafePath(path: pair.sidecarURL.path,
                                              detail: "it names \(name), which is not a file of its own folder")
            }
        }
        func companions(_ role: CameraRole) -> [URL] {
            (pair.file(role).companions ?? []).map { pair.directory.appendingPathComponent($0) }
        }
        func shot(_ role: CameraRole) -> ShotInput {
            let file = pair.file(role), m = file.metadata
            return ShotInput(file: pair.url(role), camera: CameraIdentity(make: m.make, model: m.model, serial: m.serialNumber),
                             settings: CameraSettings(aperture: m.aperture, exposureTime: m.exposureTime, iso: m.iso,
                                                      focalLength: m.focalLength, captureTime: m.captureTime),
                             arrivalTime: file.arrival, companions: companions(role))
        }
        let input = CaptureInput(scene: scene, rig: rig, session: session, source: shot(.shallow), target: shot(.deep),
                                 triggerTime: pair.shallow.triggerTime ?? pair.shallow.arrival,
                                 skew: pair.triggerSkew ?? pair.arrivalSkew, calibration: calibration, split: split,
                                 trigger: pair.trigger, maxSkew: maxSkew)
        let id = try dataset.ingestCapture(input).id
        // The sidecar goes last: a pair without one is incomplete and is never catalogued twice. Regular files of
        // incoming/ only, no link followed.
        let names = [pair.shallow, pair.deep].flatMap { [$0.fileName] + ($0.companions ?? []) } + [pair.sidecarURL.lastPathComponent]
        dataset.removeIncoming(names)
        return id
    }

    /// One path component, not `.` or `..`: a file of the folder itself.
    static func isPlainFileName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("\0")
    }

    /// The worker: queued captures as they come, then whatever the catalogue still lists.
    static func work(queue: BoundedChannel<CaptureID>, processor: PairProcessor, dataset: Dataset, stop: StopFlag,
                     results: OutcomeList, events: @Sendable (PipelineEvent) -> Void) {
        // Queued captures are new; the backlog runs only once the queue is closed and drained.
        while !stop.isRequested, let id = queue.receive() {
            process(id, processor: processor, results: results, events: events)
        }
        processRemaining(processor: processor, dataset: dataset, stop: stop, results: results, events: events)
    }

    /// The backlog: captures that did not fit in the queue, or were left by an earlier run. Nothing is captured
    /// meanwhile, so the list is read once; each capture is tried once.
    static func processRemaining(processor: PairProcessor, dataset: Dataset, stop: StopFlag, results: OutcomeList,
                                 overlapped: Bool = true, events: @Sendable (PipelineEvent) -> Void) {
        let waiting: [CaptureID]
        do {
            waiting = try dataset.capturesWithoutPair()
        } catch {
            events(.failed(work: nil, error: PipelineError(backlogUnreadable: error)))
            return
        }
        run(waiting.map { .capture($0) }, processor: processor, stop: stop, results: results, overlapped: overlapped,
            events: events)
    }

    static func process(_ id: CaptureID, processor: PairProcessor, results: OutcomeList,
                        events: @Sendable (PipelineEvent) -> Void) {
        events(.stage(captureID: id, name: "processing"))
        do {
            let outcome = try processor.process(captureID: id)
            results.append(outcome)
            events(.processed(outcome))
        } catch {
            events(.failed(work: .capture(id), error: error))
        }
    }
}

/// `incoming/.capture-settings.json`: everything the capture run that writes into incoming/ asked for - calibration,
/// split, scene (name, notes, tags), session, rig and the rig file's maxSkew - so that pairs a crash leaves there are catalogued as that run
/// would have catalogued them (a hidden name: it is no pair's sidecar). Files of older rigctl have only the first two.
/// The calibration is written as its canonical JSON text, as the catalogue keeps it.
struct IncomingSettings: Codable {
    static let fileName = ".capture-settings.json"
    var calibration: AlignmentCalibration
    var split: Split?
    var scene: String?
    var sceneNotes: String?
    var sceneTags: [String]?
    var session: String?
    var rig: String?
    var maxSkew: Double?

    /// The scene the capture asked for, when the file names one.
    var sceneInput: SceneInput? {
        scene.map { SceneInput(name: $0, notes: sceneNotes ?? "", tags: sceneTags ?? []) }
    }

    init(calibration: AlignmentCalibration, split: Split?, scene: String?, sceneNotes: String?, sceneTags: [String]?,
         session: String?, rig: String?, maxSkew: Double? = nil) {
        self.maxSkew = maxSkew
        self.calibration = calibration
        self.split = split
        self.scene = scene
        self.sceneNotes = sceneNotes
        self.sceneTags = sceneTags
        self.session = session
        self.rig = rig
    }

    enum CodingKeys: String, CodingKey { case calibration, split, scene, sceneNotes, sceneTags, session, rig, maxSkew }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        calibration = try AlignmentCalibration(canonicalJSON: try c.decode(String.self, forKey: .calibration))
        split = try c.decodeIfPresent(Split.self, forKey: .split)
        scene = try c.decodeIfPresent(String.self, forKey: .scene)
        sceneNotes = try c.decodeIfPresent(String.self, forKey: .sceneNotes)
        sceneTags = try c.decodeIfPresent([String].self, forKey: .sceneTags)
        session = try c.decodeIfPresent(String.self, forKey: .session)
        maxSkew = try c.decodeIfPresent(Double.self, forKey: .maxSkew)
        rig = try c.decodeIfPresent(String.self, forKey: .rig)
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(calibration.canonicalJSON, forKey: .calibration)
        try c.encodeIfPresent(split, forKey: .split)
        try c.encodeIfPresent(scene, forKey: .scene)
        try c.encodeIfPresent(sceneNotes, forKey: .sceneNotes)
        try c.encodeIfPresent(sceneTags, forKey: .sceneTags)
        try c.encodeIfPresent(session, forKey: .session)
        try c.encodeIfPresent(rig, forKey: .rig)
        try c.encodeIfPresent(maxSkew, forKey: .maxSkew)
    }
}

/// Outcomes collected from the worker thread.
final class OutcomeList: Sendable {
    private let items = LockedValue<[PairOutcome]>([])
    func append(_ outcome: PairOutcome) { items.withLock { $0.append(outcome) } }
    var all: [PairOutcome] { items.value }
}
