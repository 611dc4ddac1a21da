import Alignment
import DatasetBuilder
import Evaluation
import Foundation
import IFANEngine
import Imaging
import Metrics
import PairVocabulary

/// The deblurring model the pipeline runs on every pair, with what the catalogue records about it.
public struct DeblurModel: Sendable {
    public var name: String
    public var deblurrer: any Deblurrer
    /// The weights file, copied into the dataset so that scores stay reproducible.
    public var weights: URL
    public var parameters: Int?
    /// Multiply-accumulates at 1280x720 (ptflops' convention, as the paper's tables).
    public var macs: Int?

    public init(name: String, deblurrer: any Deblurrer, weights: URL, parameters: Int? = nil, macs: Int? = nil) {
        self.name = name
        self.deblurrer = deblurrer
        self.weights = weights
        self.parameters = parameters
        self.macs = macs
    }

    /// The IFAN engine with weights from the model store or a .safetensors file.
    public static func ifan(name: String, weights: URL) throws -> DeblurModel {
        let network = try IFANModelFile.load(weights)
        let architecture = network.architecture
        return DeblurModel(name: name, deblurrer: IFANDeblurrer(name: name, network: network), weights: weights,
                           parameters: architecture.parameterCount,
                           macs: architecture.ptflopsMACs(width: 1280, height: 720))
    }
}

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

/// A calibration as the catalogue keeps it: canonical JSON (sorted keys), so that equal calibrations are equal text.
public enum CalibrationText {
    public static func of(_ calibration: AlignmentCalibration) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // A calibration holds only finite numbers (checked when it is read), so encoding cannot fail.
        return (try? encoder.encode(calibration)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    public static func parse(_ text: String, capture: Int64) throws -> AlignmentCalibration {
        try AlignmentCalibration.decode(Data(text.utf8), path: "the calibration recorded with capture \(capture)")
    }
}

/// What happened to one capture.
public struct PairOutcome: Sendable {
    public var captureID: Int64
    public var pairID: Int64
    public var scene: String
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
    /// How the scores were computed.
    public var scoreProtocol: ScoreProtocol?

    /// Takes the input's and the model's scores from a scoring run that took `totalSeconds` (deblurring included).
    mutating func apply(_ scores: [PairScore], totalSeconds: Double) {
        defer { timings["score", default: 0] += max(0, totalSeconds - (timings["deblur"] ?? 0)) }
        for s in scores {
            switch s.method.kind {
            case .input: input = s.scores
            case .model: deblurred = s.scores
            case .results: break
            }
            if s.origin == .ran, case .model = s.method.kind { timings["deblur", default: 0] += s.seconds }
            missing.merge(s.missing) { a, _ in a }
            scoreProtocol = s.scoreProtocol
        }
    }
}

/// Turns a catalogued capture into an aligned, catalogued, deblurred and scored pair. Every stage commits on its
/// own, so an interrupted run resumes where it stopped (`Dataset.capturesWithoutPair`, `pairsWithoutScores`).
/// Scores are whole-image at the stored pairs' 16 bits (`ScoreProtocol.Framing.whole`), through `PairScorer`.
public struct PairProcessor: Sendable {
    public let dataset: Dataset
    public let options: ProcessingOptions
    public let model: DeblurModel?
    public let lpips: LPIPS?
    /// Scores and records the input's and the model's scores (the same code `rigctl evaluate --dataset` uses).
    public let scorer: PairScorer

    public init(dataset: Dataset, options: ProcessingOptions, model: DeblurModel?, lpips: LPIPS?,
                lpipsMissingReason: String = "LPIPS weights not installed") {
        self.dataset = dataset
        self.options = options
        self.model = model
        self.lpips = lpips
        self.scorer = PairScorer(dataset: dataset, framing: .whole, lpips: lpips, lpipsMissingReason: lpipsMissingReason)
    }

    /// The methods every pair is scored with: the input, and the model when there is one.
    public var methods: [CatalogueMethod] { [.input] + (model.map { [CatalogueMethod.model($0)] } ?? []) }

    /// Decodes, aligns and catalogues a capture's pair, then deblurs and scores it.
    public func process(captureID: Int64) throws -> PairOutcome {
        try align(captureID: captureID, replacing: nil)
    }

    /// Aligns a captured pair again (with the calibration its capture was taken with, or the one given for this
    /// run) and replaces its alignment and verdict; scores of images that changed become stale and are computed
    /// again.
    public func realign(pairID: Int64) throws -> PairOutcome {
        let detail = try dataset.pair(String(pairID))
        guard let captureID = detail.capture?.id else { throw PipelineError.notCaptured(pairID: pairID) }
        return try align(captureID: captureID, replacing: detail)
    }

    /// Captured pairs whose verdict was reached with another calibration than the one this processor would use.
    public func pairsToRealign() throws -> [Int64] {
        try dataset.pairsAlignedWithOtherCalibration(than: options.calibration.map(CalibrationText.of))
    }

    /// The calibration a capture is aligned with: the one given for this run, else the one it was taken with
    /// (none when that is unknown). A capture whose calibration is unknown gets the one given recorded.
    func calibration(for captureID: Int64, recorded: CaptureProcessing) throws -> (AlignmentCalibration, String) {
        if let given = options.calibration {
            let text = CalibrationText.of(given)
            if recorded.calibration == nil { try dataset.recordCalibration(text, forCapture: captureID) }
            return (given, text)
        }
        if let text = recorded.calibration { return (try CalibrationText.parse(text, capture: captureID), text) }
        let none = AlignmentCalibration()
        return (none, CalibrationText.of(none))
    }

    func align(captureID: Int64, replacing: PairDetail?) throws -> PairOutcome {
        var timings: [String: Double] = [:]
        func timed<T>(_ stage: String, _ body: () throws -> T) rethrows -> T {
            let start = DispatchTime.now().uptimeNanoseconds
            defer { timings[stage, default: 0] += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
            return try body()
        }
        guard let capture = try dataset.capture(id: captureID),
              let sourceShot = capture.shot(.source), let targetShot = capture.shot(.target) else {
            throw PipelineError.missingCapture(captureID)
        }
        let recorded = try dataset.captureProcessing(id: captureID)
        let (calibration, calibrationText) = try self.calibration(for: captureID, recorded: recorded)
        let (source, target) = try timed("decode") {
            (try ImageFile.read(dataset.url(of: sourceShot.file), demosaic: options.demosaic),
             try ImageFile.read(dataset.url(of: targetShot.file), demosaic: options.demosaic))
        }
        let result = try timed("align") {
            try Aligner(options.aligner).align(source: source, target: target, calibration: calibration)
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("rigctl-pair-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }

        // Pairs are stored display-encoded (sRGB) at 16 bits, as the networks and metrics take them. A rejected
        // pair keeps its unaligned images, so that a person can see why.
        let verdict = result.verdict
        let stored = try timed("store") { () throws -> (RGBImage, RGBImage, Int64) in
            let a = PairScorer.quantised(result.alignedSource ?? source, bitDepth: 16)
            let b = PairScorer.quantised(result.alignedTarget ?? target, bitDepth: 16)
            let aURL = scratch.appendingPathComponent("source.png"), bURL = scratch.appendingPathComponent("target.png")
            try PNGFile.write(a, to: aURL, bitDepth: 16, compressionLevel: 3)
            try PNGFile.write(b, to: bURL, bitDepth: 16, compressionLevel: 3)
            let split: Split = verdict == .rejected ? .unused : (options.split ?? recorded.split ?? recorded.sceneSplit ?? .unused)
            let name: String
            if let replacing {
                name = replacing.name
            } else {
                guard let next = try dataset.pairName(forCapture: captureID) else { throw PipelineError.missingCapture(captureID) }
                name = next
            }
            let input = PairInput(captureID: captureID, name: name, source: aURL, target: bURL,
                                  homography: result.homography, colour: result.colour?.fit, crop: result.crop,
                                  quality: result.quality.figures.figures, verdict: verdict, reasons: result.reasons,
                                  split: split, origin: replacing?.origin ?? "capture", calibration: calibrationText)
            let id = try replacing.map { try dataset.replaceAlignment(pairID: $0.id, with: input).id } ?? dataset.addPair(input).id
            return (a, b, id)
        }
        let (alignedSource, alignedTarget, pairID) = stored
        let detail = try dataset.pair(String(pairID))
        var outcome = PairOutcome(captureID: captureID, pairID: pairID, scene: detail.scene, verdict: verdict,
                                  reasons: result.reasons, input: nil, deblurred: nil, modelName: model?.name,
                                  timings: timings)
        guard verdict != .rejected else { return outcome }
        let start = DispatchTime.now().uptimeNanoseconds
        let scores = try scorer.score(pairID: pairID, images: PairImages(source: alignedSource, target: alignedTarget, bitDepth: 16),
                                      methods: methods, pairName: detail.name)
        outcome.apply(scores, totalSeconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        return outcome
    }

    /// Adds the scores a catalogued pair lacks: the input's, and the model's when there is one (pairs taken before
    /// the model or the LPIPS weights were installed). A model's stored output is scored again, not re-run.
    public func evaluate(pairID: Int64) throws -> PairOutcome {
        let detail = try dataset.pair(String(pairID))
        let start = DispatchTime.now().uptimeNanoseconds
        let scores = try scorer.score(pairID: pairID, images: try scorer.images(of: detail), methods: methods,
                                      pairName: detail.name)
        let total = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        var outcome = PairOutcome(captureID: detail.capture?.id ?? 0, pairID: pairID, scene: detail.scene,
                                  verdict: detail.verdict,
                                  reasons: detail.reasons, input: nil, deblurred: nil, modelName: model?.name,
                                  timings: [:])
        outcome.apply(scores, totalSeconds: total)
        return outcome
    }
}

public enum PipelineError: Error, CustomStringConvertible, Equatable {
    case missingCapture(Int64)
    case incomingPair(path: String, reason: String)
    /// Only captured pairs can be aligned again (imported ones keep their set's alignment).
    case notCaptured(pairID: Int64)

    public var description: String {
        switch self {
        case .missingCapture(let id): "capture \(id) is not in the catalogue (or lacks a shot)"
        case .notCaptured(let id): "pair \(id) was imported, not captured, so it cannot be aligned again"
        case .incomingPair(let path, let reason): "cannot catalogue the captured pair \(path): \(reason)"
        }
    }
}
