import Alignment
import DatasetBuilder
import Evaluation
import Foundation
import IFANEngine
import Imaging
import Metrics
import PairVocabulary

/// How pairs are processed.
public struct ProcessingOptions: Sendable {
    /// The calibration for this run; nil aligns each capture with the one it was taken with (recorded with it).
    public var calibration: AlignmentCalibration?
    public var aligner = AlignerOptions()
    public var demosaic: Demosaic = .ahd
    /// The split new pairs are put in; nil: the split their capture asked for, else the side their scene is on,
    /// else unused (`rigctl dataset split` assigns them by scene later).
    public var split: Split?

    public init() {}
}

/// What happened to one capture.
public struct PairOutcome: Sendable {
    public var captureID: CaptureID?
    public var pairID: PairID
    public var scene: String
    /// The split the pair was filed under (nil where the outcome was not read back from the catalogue).
    public var split: Split? = nil
    public var verdict: Verdict
    public var reasons: [String]
    /// The input's scores against the aligned target (nil for rejected pairs).
    public var input: MetricReport?
    /// The model's scores (nil without a model, or for rejected pairs).
    public var deblurred: MetricReport?
    public var modelName: String?
    /// Seconds per stage: decode, align, store, deblur, score.
    public var timings: [String: Double]
    /// Why a score is missing, by metric (e.g. "lpips": "LPIPS weights not installed").
    public var missing: [String: String] = [:]
    /// How `input` and `deblurred` were computed (the dataset's first scoring protocol).
    public var scoreProtocol: ScoreProtocol?
    /// The scores under every protocol the dataset is scored in, the first being `input` and `deblurred`.
    public var byProtocol: [ProtocolScores] = []

    public init(captureID: CaptureID?, pairID: PairID, scene: String, split: Split? = nil, verdict: Verdict,
                reasons: [String], input: MetricReport? = nil, deblurred: MetricReport? = nil, modelName: String? = nil,
                timings: [String: Double] = [:]) {
        self.captureID = captureID
        self.pairID = pairID
        self.scene = scene
        self.split = split
        self.verdict = verdict
        self.reasons = reasons
        self.input = input
        self.deblurred = deblurred
        self.modelName = modelName
        self.timings = timings
    }

    /// Takes the input's and the model's scores under one protocol from a scoring run that took `totalSeconds`
    /// (deblurring included); the first protocol applied fills `input` and `deblurred`.
    mutating func apply(_ scores: [PairScore], under named: EvaluationProtocol, totalSeconds: Double) {
        let deblurBefore = timings["deblur"] ?? 0
        var entry = ProtocolScores(named: named)
        for s in scores {
            switch s.method.kind {
            case .input: entry.input = s.scores
            case .model: entry.deblurred = s.scores
            case .results: break
            }
            if s.origin == .ran, case .model = s.method.kind { timings["deblur", default: 0] += s.seconds }
            missing.merge(s.missing) { a, _ in a }
            entry.scoreProtocol = s.scoreProtocol
        }
        timings["score", default: 0] += max(0, totalSeconds - ((timings["deblur"] ?? 0) - deblurBefore))
        if byProtocol.isEmpty {
            input = entry.input
            deblurred = entry.deblurred
            scoreProtocol = entry.scoreProtocol
        }
        byProtocol.append(entry)
    }
}

/// A pair's scores under one evaluation protocol.
public struct ProtocolScores: Sendable, Equatable {
    public var named: EvaluationProtocol
    public var input: MetricReport?
    public var deblurred: MetricReport?
    public var scoreProtocol: ScoreProtocol?

    public init(named: EvaluationProtocol, input: MetricReport? = nil, deblurred: MetricReport? = nil,
                scoreProtocol: ScoreProtocol? = nil) {
        self.named = named
        self.input = input
        self.deblurred = deblurred
        self.scoreProtocol = scoreProtocol
    }
}

/// Turns a catalogued capture into an aligned, catalogued, deblurred and scored pair. Every stage commits on its
/// own, so an interrupted run resumes where it stopped (`Dataset.capturesWithoutPair`, `pairsWithoutScores`).
/// Scores are recorded under each of the dataset's scoring protocols (`Dataset.scoringProtocols`; by default
/// `dpdd`, the whole image at the stored pairs' 16 bits), through `PairScorer`. The model runs once per pair: the
/// protocols after the first score its stored output.
public struct PairProcessor: Sendable {
    public let dataset: Dataset
    public let options: ProcessingOptions
    public let model: DeblurModel?
    public let lpips: LPIPS?
    /// One scorer per protocol, in the dataset's order (the same code `rigctl evaluate --dataset` uses).
    public let scorers: [PairScorer]

    public init(dataset: Dataset, options: ProcessingOptions, model: DeblurModel?, lpips: LPIPS?,
                lpipsMissingReason: String = "LPIPS weights not installed",
                protocols: [EvaluationProtocol] = Dataset.defaultScoringProtocols) {
        self.dataset = dataset
        self.options = options
        self.model = model
        self.lpips = lpips
        self.scorers = (protocols.isEmpty ? Dataset.defaultScoringProtocols : protocols).map {
            PairScorer(dataset: dataset, protocol: $0, lpips: lpips, lpipsMissingReason: lpipsMissingReason)
        }
    }

    /// The first protocol's scorer: it reads the stored pairs, and its scores are the ones progress lines show.
    public var scorer: PairScorer { scorers[0] }

    /// The methods every pair is scored with: the input, and the model when there is one.
    public var methods: [any RestorationMethod] { [InputMethod()] + (model.map { [$0] } ?? []) }

    /// Decodes, aligns and catalogues a capture's pair, then deblurs and scores it.
    public func process(captureID: CaptureID) throws -> PairOutcome {
        try runOne(.capture(captureID))
    }

    /// Aligns a captured pair again (with the calibration its capture was taken with, or the one given for this
    /// run) and replaces its alignment and verdict; scores of images that changed become stale and are computed
    /// again.
    public func realign(pairID: PairID) throws -> PairOutcome {
        try runOne(.realign(pairID: pairID))
    }

    /// Captured pairs whose verdict was reached with another calibration than the one this processor would use.
    public func pairsToRealign() throws -> [PairID] {
        try dataset.pairsAlignedWithOtherCalibration(than: options.calibration)
    }

    /// Adds the scores a catalogued pair lacks: the input's, and the model's when there is one (pairs taken before
    /// the model or the LPIPS weights were installed). A model's stored output is scored again, not re-run.
    public func evaluate(pairID: PairID) throws -> PairOutcome {
        try runOne(.scores(pairID: pairID))
    }

    /// One work's stages in turn on the calling thread (see `run(_:overlapped:...)` in PairStages.swift).
    func runOne(_ work: PairWork) throws -> PairOutcome {
        var item = PairInFlight(work)
        read(&item)
        alignAndEncode(&item)
        return try commit(item)
    }
}

public enum PipelineError: Error, CustomStringConvertible, Equatable {
    case missingCapture(CaptureID)
    case incomingPair(path: String, reason: String)
    /// Only captured pairs can be aligned again (imported ones keep their set's alignment).
    case notCaptured(pairID: PairID)
    /// The catalogue could not list the captures left to process.
    case backlogUnreadable(String)

    public init(backlogUnreadable error: any Error) { self = .backlogUnreadable("\(error)") }

    public var description: String {
        switch self {
        case .missingCapture(let id): "capture \(id) is not in the catalogue (or lacks a shot)"
        case .notCaptured(let id): "pair \(id) was imported, not captured, so it cannot be aligned again"
        case .incomingPair(let path, let reason): "cannot catalogue the captured pair \(path): \(reason)"
        case .backlogUnreadable(let reason): "cannot list the captures left to process: \(reason)"
        }
    }
}
