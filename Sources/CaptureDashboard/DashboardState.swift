import Foundation
import Metrics
import PairVocabulary
import Pipeline
import Rig

/// One camera as the dashboard shows it: what the last reading said, and whether it is still there.
public struct DashboardCamera: Sendable, Equatable, Codable {
    public var role: CameraRole
    public var port: String
    public var model: String?
    public var battery: String?
    public var batteryPercent: Int?
    public var freeBytes: UInt64?
    /// Shots that still fit on its card (nil: it captures to the host, or gives no figure).
    public var shotsThatFit: UInt64?
    public var capturesToHost: Bool
    /// The settings as read back, in the order the page lists them.
    public var settings: [Setting]
    /// False once a failure says its link is gone.
    public var connected: Bool
    public var readAt: Date

    public struct Setting: Sendable, Equatable, Codable {
        public var name: String
        public var value: String
    }

    public init(_ p: CameraPreflight, at date: Date) {
        role = p.role
        port = p.port
        model = [p.manufacturer, p.model].compactMap { $0 }.joined(separator: " ").nilIfEmpty
        battery = p.battery
        batteryPercent = p.batteryPercent
        freeBytes = p.freeBytes
        shotsThatFit = p.shotsThatFit
        capturesToHost = p.capturesToHost
        let named: [(String, String?)] = [("aperture", p.aperture), ("shutter", p.shutter), ("ISO", p.iso),
                                          ("focus", p.focusMode), ("exposure program", p.exposureProgram),
                                          ("drive mode", p.driveMode), ("capture target", p.captureTarget)]
        settings = named.compactMap { name, value in value.map { Setting(name: name, value: $0) } }
        connected = true
        readAt = date
    }
}

/// The trigger as the dashboard shows it: how pairs are fired and when the last one was.
public struct DashboardTrigger: Sendable, Equatable, Codable {
    public var mode: TriggerMode
    /// The trigger box as set up and read back (trigger-box only).
    public var box: TriggerBoxState?
    public var firings = 0
    public var lastFired: Date?
    /// The rig file's largest allowed skew, seconds.
    public var maxSkew: Double?
}

/// One pair as it lands, then as it is judged and scored.
public struct DashboardPair: Sendable, Equatable, Codable {
    /// 1-based, in this run.
    public var number: Int
    public var captureID: CaptureID?
    public var pairID: PairID?
    public var trigger: TriggerMode
    public var firedAt: Date
    public var triggerSkew: Double?
    public var arrivalSkew: Double
    public var files: [String]
    public var scene: String?
    public var split: Split?
    public var verdict: Verdict?
    public var reasons: [String] = []
    public var input: MetricReport?
    public var deblurred: MetricReport?
    public var model: String?
    public var thumbnails: ThumbnailState = .pending

    /// The skew the verdict judges: the trigger's where the host fired both, the files' arrival otherwise.
    public var skew: Double { triggerSkew ?? arrivalSkew }

    public enum ThumbnailState: String, Sendable, Equatable, Codable { case pending, ready, failed }
}

/// A warning a person must not miss, shown loud at the top of the page until what caused it is over.
public struct DashboardWarning: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Equatable, Codable, CaseIterable {
        /// One camera's frame of a pair never came (or came without a partner).
        case missingFrame
        /// A camera's link is gone.
        case cameraGone
        case lowBattery
        /// Few pairs still fit on a card, or none.
        case lowCard
        /// Several pairs in a row rejected for the same kind of reason.
        case rejectionStreak
        /// A pair's skew exceeded the rig file's maxSkew.
        case skewOverLimit
        /// The capture stopped on an error that is none of the above (the trigger box, the output folder).
        case captureFailed
        /// Aligning, deblurring or scoring a pair failed; the capture goes on.
        case processingFailed
    }

    public var kind: Kind
    public var role: CameraRole?
    public var message: String
    public var since: Date
    /// How many times it happened (skews over the limit, failed pairs).
    public var count = 1
}

/// Everything the page shows, changed only through `apply`, which also decides the warnings: the one place that
/// turns what the rig and the pipeline report into what a person must see.
public struct DashboardState: Sendable {
    public enum Phase: String, Sendable, Codable {
        case starting, capturing, stopping, finished, failed
    }

    public var destination: String
    public var scene: String?
    public var planned: Int
    public var phase: Phase = .starting
    public var cameras: [DashboardCamera] = []
    public var trigger: DashboardTrigger
    /// Every pair of the run, oldest first.
    public var pairs: [DashboardPair] = []
    public var warnings: [DashboardWarning] = []
    /// Pre-flight findings that are worth a look but need no alarm (focus mode, settings, exposure program).
    public var notices: [String] = []
    /// The rig's pairs that still fit, from the card that fills first.
    public var fit: PairsThatFit?
    public var processingWaiting = 0
    /// What the cameras said when asked again after a failure.
    public var afterFailure: [CameraRole: RigCamera.AfterFailure] = [:]
    /// Bumped by every change, so the page asks only for news.
    public private(set) var version = 0
    private var rejections = RejectionWatch()

    public init(destination: String, scene: String?, planned: Int, trigger: TriggerMode, maxSkew: Double?) {
        self.destination = destination
        self.scene = scene
        self.planned = planned
        self.trigger = DashboardTrigger(mode: trigger, maxSkew: maxSkew)
    }

    public mutating func apply(_ event: DashboardEvent, at now: Date = Date()) {
        version += 1
        switch event {
        case .preflight(let report):
            cameras = report.cameras.map { DashboardCamera($0, at: now) }
            fit = report.fit
            trigger.box = report.triggerBox ?? trigger.box
            notices = report.warnings.filter { ![.lowBattery, .fewPairsFit].contains($0.kind) }.map(\.message)
            judgeCameras(now)
        case .cameras(let cameras):
            for c in cameras {
                var fresh = DashboardCamera(c, at: now)
                // A reading does not bring a camera back that a failure said was gone.
                if let old = self.cameras.first(where: { $0.role == c.role }) { fresh.connected = old.connected }
                self.cameras.removeAll { $0.role == c.role }
                self.cameras.append(fresh)
            }
            self.cameras.sort { $0.role == .shallow && $1.role == .deep }
            judgeCameras(now)
        case .fit(let fit):
            guard let fit else { return }
            self.fit = fit
            if let i = cameras.firstIndex(where: { $0.role == fit.role }) { cameras[i].shotsThatFit = fit.pairs }
            judgeCameras(now)
        case .capturing:
            phase = .capturing
        case .captured(let number, let captureID, let pair, let scene):
            let fired = pair.shallow.triggerTime ?? pair.deep.triggerTime ?? pair.shallow.arrival
            pairs.append(DashboardPair(number: number, captureID: captureID, trigger: pair.trigger, firedAt: fired,
                                       triggerSkew: pair.triggerSkew, arrivalSkew: pair.arrivalSkew,
                                       files: [pair.shallow.fileName, pair.deep.fileName], scene: scene))
            trigger.firings += 1
            trigger.lastFired = fired
            if !pair.discarded.isEmpty {
                raise(.missingFrame, role: nil, "pair \(number): file(s) \(pair.discarded.joined(separator: ", ")) came "
                      + "without a partner from the other camera and were left unpaired: one camera missed a release", now)
            }
            if let limit = trigger.maxSkew, abs(pairs.last!.skew) > limit {
                raise(.skewOverLimit, role: nil, String(format: "pair %d: skew %.3f ms exceeds the rig file's maxSkew of %.3f ms",
                                                        number, pairs.last!.skew * 1000, limit * 1000), now, counting: true)
            }
        case .processed(let outcome):
            guard let i = pairs.lastIndex(where: { $0.captureID != nil && $0.captureID == outcome.captureID }) else { return }
            pairs[i].pairID = outcome.pairID
            pairs[i].scene = outcome.scene
            pairs[i].split = outcome.split
            pairs[i].verdict = outcome.verdict
            pairs[i].reasons = outcome.reasons
            pairs[i].input = outcome.input
            pairs[i].deblurred = outcome.deblurred
            pairs[i].model = outcome.modelName
            if let streak = rejections.add(outcome.verdict, reasons: outcome.reasons) {
                raise(.rejectionStreak, role: nil, streak, now)
            } else if outcome.verdict != .rejected {
                clear(.rejectionStreak)
            }
        case .thumbnails(let number, let ready):
            guard let i = pairs.firstIndex(where: { $0.number == number }) else { return }
            pairs[i].thumbnails = ready ? .ready : .failed
        case .processingFailed(let message):
            raise(.processingFailed, role: nil, message, now, counting: true)
        case .waiting(let count):
            processingWaiting = count
        case .processingStarted:
            processingWaiting = max(0, processingWaiting - 1)
        case .askedAfterFailure(let answers):
            afterFailure.merge(answers) { _, new in new }
        case .stopping:
            if phase == .capturing || phase == .starting { phase = .stopping }
        case .ended(let failure):
            guard let failure else {
                phase = .finished
                return
            }
            phase = .failed
            judge(failure, now)
        }
    }

    /// Battery and card warnings from the cameras as last read.
    private mutating func judgeCameras(_ now: Date) {
        for c in cameras {
            if let percent = c.batteryPercent, percent < CameraPreflight.lowBatteryPercent {
                raise(.lowBattery, role: c.role, "\(c.role) camera: battery at \(c.battery ?? "\(percent)%"): change it "
                      + "before it dies mid-pair", now)
            }
        }
        if let fit, fit.pairs < CardSpace.fewPairs {
            let text = fit.pairs == 0 ? "the \(fit.role) camera's card is full: no more pairs fit"
                                      : CardSpace.fewPairsWarning(fit)
            raise(.lowCard, role: fit.role, text, now)
        }
    }

    /// A failure that ended the capture, turned into the warning that says what happened to which camera.
    private mutating func judge(_ failure: CaptureFailure, _ now: Date) {
        guard !failure.cameras.isEmpty else {
            raise(.captureFailed, role: nil, failure.message, now)
            return
        }
        for f in failure.cameras where !f.becauseTheOtherFailed {
            if f.isConnectionLost || afterFailure[f.role] == .gone {
                if let i = cameras.firstIndex(where: { $0.role == f.role }) { cameras[i].connected = false }
                raise(.cameraGone, role: f.role, "\(failure.pairLabel)\(f.description); it no longer answers", now)
            } else if f.isCardFull || afterFailure[f.role] == .cardFull {
                raise(.lowCard, role: f.role, "\(failure.pairLabel)the \(f.role) camera's card is full: \(f.description)", now)
            } else if f.stage == .waitingForFile {
                raise(.missingFrame, role: f.role, "\(failure.pairLabel)the \(f.role) camera's frame never arrived: \(f.description)", now)
            } else {
                raise(.captureFailed, role: f.role, failure.message, now)
            }
        }
    }

    private mutating func raise(_ kind: DashboardWarning.Kind, role: CameraRole?, _ message: String, _ now: Date,
                                counting: Bool = false) {
        if let i = warnings.firstIndex(where: { $0.kind == kind && $0.role == role }) {
            warnings[i].message = message
            if counting { warnings[i].count += 1 }
        } else {
            warnings.append(DashboardWarning(kind: kind, role: role, message: message, since: now))
        }
    }

    private mutating func clear(_ kind: DashboardWarning.Kind) { warnings.removeAll { $0.kind == kind } }

    /// Pairs per scene and per split, as far as the pipeline has filed them (a pair not yet processed counts
    /// under its scene as asked and under "waiting").
    public var counts: (scenes: [(String, Int)], splits: [(String, Int)], verdicts: [(String, Int)]) {
        var scenes: [String: Int] = [:], splits: [String: Int] = [:], verdicts: [String: Int] = [:]
        for p in pairs {
            scenes[p.scene ?? scene ?? "–", default: 0] += 1
            splits[p.split?.rawValue ?? "waiting", default: 0] += 1
            verdicts[p.verdict?.rawValue ?? "waiting", default: 0] += 1
        }
        let splitOrder = Split.allCases.map(\.rawValue) + ["waiting"]
        let verdictOrder = Verdict.allCases.map(\.rawValue) + ["waiting"]
        return (scenes.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                splitOrder.compactMap { k in splits[k].map { (k, $0) } },
                verdictOrder.compactMap { k in verdicts[k].map { (k, $0) } })
    }
}

extension String {
    fileprivate var nilIfEmpty: String? { isEmpty ? nil : self }
}
