import Alignment
import DatasetBuilder
import Evaluation
import Foundation
import IFANEngine
import Imaging
import Metrics

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
    public var verdict: DatasetBuilder.Verdict
    public var reasons: [String]
    /// The input's scores against the aligned target (nil for rejected pairs).
    public var input: MetricReport?
    /// The model's scores (nil without a model, or for rejected pairs).
    public var deblurred: MetricReport?
    public var modelName: String?
    /// Seconds per stage: decode, align, store, deblur, score.
    public var timings: [String: Double]
}

/// The name under which the input itself is scored (the tables' first row).
public let inputModelName = "input"

/// Turns a catalogued capture into an aligned, catalogued, deblurred and scored pair. Every stage commits on its
/// own, so an interrupted run resumes where it stopped (`Dataset.capturesWithoutPair`, `pairsWithoutEvaluation`).
public struct PairProcessor: Sendable {
    public let dataset: Dataset
    public let options: ProcessingOptions
    public let model: DeblurModel?
    public let lpips: LPIPS?

    public init(dataset: Dataset, options: ProcessingOptions, model: DeblurModel?, lpips: LPIPS?) {
        self.dataset = dataset
        self.options = options
        self.model = model
        self.lpips = lpips
    }

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
        let verdict = Self.verdict(result.verdict)
        let stored = try timed("store") { () throws -> (RGBImage, RGBImage, Int64) in
            let a = Self.quantised(result.alignedSource ?? source)
            let b = Self.quantised(result.alignedTarget ?? target)
            let aURL = scratch.appendingPathComponent("source.png"), bURL = scratch.appendingPathComponent("target.png")
            try PNGFile.write(a, to: aURL, bitDepth: 16, compressionLevel: 3)
            try PNGFile.write(b, to: bURL, bitDepth: 16, compressionLevel: 3)
            let split: Split = verdict == .rejected ? .unused : (options.split ?? recorded.split ?? recorded.sceneSplit ?? .unused)
            let input = PairInput(captureID: captureID, name: replacing?.name ?? "capture-\(captureID)", source: aURL, target: bURL,
                                  homography: result.homography.m, colour: Self.colour(result.colour),
                                  crop: result.crop.map { DatasetBuilder.CropRect(x: $0.x, y: $0.y, width: $0.width, height: $0.height) },
                                  quality: Self.quality(result.quality), verdict: verdict, reasons: result.reasons,
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
        let scores = try evaluate(pairID: pairID, source: alignedSource, target: alignedTarget,
                                  known: Set(detail.evaluations.map(\.model)))
        outcome.input = scores.input
        outcome.deblurred = scores.deblurred
        for (stage, seconds) in scores.timings { outcome.timings[stage, default: 0] += seconds }
        return outcome
    }

    /// Adds the scores a catalogued pair lacks: the input's, and the model's when there is one (pairs taken before
    /// the model or the LPIPS weights were installed).
    public func evaluate(pairID: Int64) throws -> PairOutcome {
        let detail = try dataset.pair(String(pairID))
        let source = try ImageFile.read(dataset.url(of: detail.source))
        let target = try ImageFile.read(dataset.url(of: detail.target))
        let scores = try evaluate(pairID: pairID, source: source, target: target,
                                  known: Set(detail.evaluations.map(\.model)))
        return PairOutcome(captureID: detail.capture?.id ?? 0, pairID: pairID, scene: detail.scene,
                           verdict: DatasetBuilder.Verdict(rawValue: detail.verdict) ?? .accepted, reasons: detail.reasons,
                           input: scores.input, deblurred: scores.deblurred, modelName: model?.name, timings: scores.timings)
    }

    /// Scores `source` and the model's output against `target`, for the models not in `known` yet.
    func evaluate(pairID: Int64, source: RGBImage, target: RGBImage, known: Set<String>) throws
        -> (input: MetricReport?, deblurred: MetricReport?, timings: [String: Double]) {
        var timings: [String: Double] = [:]
        var input: MetricReport?
        if !known.contains(inputModelName) {
            let start = DispatchTime.now().uptimeNanoseconds
            let scores = try MetricReport(output: source, target: target, lpips: lpips)
            let inputModel = try dataset.registerModel(ModelInput(name: inputModelName, weights: nil,
                                                                  notes: "the defocused input itself"))
            try dataset.recordEvaluation(EvaluationInput(pairID: pairID, modelID: inputModel.id, psnr: scores.psnr,
                                                         ssim: scores.ssim, ssimGaussian: scores.ssimGaussian,
                                                         mae: scores.mae, lpips: scores.lpips, seconds: 0))
            timings["score"] = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            input = scores
        }
        guard let model, !known.contains(model.name) else { return (input, nil, timings) }
        var start = DispatchTime.now().uptimeNanoseconds
        let output = Self.quantised(try model.deblurrer.deblur(source))
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        timings["deblur"] = seconds
        start = DispatchTime.now().uptimeNanoseconds
        let scores = try MetricReport(output: output, target: target, lpips: lpips)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("rigctl-output-" + UUID().uuidString + ".png")
        defer { try? FileManager.default.removeItem(at: scratch) }
        try PNGFile.write(output, to: scratch, bitDepth: 16, compressionLevel: 3)
        let registered = try dataset.registerModel(ModelInput(name: model.name, weights: model.weights,
                                                              parameterCount: model.parameters.map(Int64.init),
                                                              macs: model.macs.map(Int64.init)))
        try dataset.recordEvaluation(EvaluationInput(pairID: pairID, modelID: registered.id, psnr: scores.psnr,
                                                     ssim: scores.ssim, ssimGaussian: scores.ssimGaussian,
                                                     mae: scores.mae, lpips: scores.lpips, seconds: seconds,
                                                     output: scratch))
        timings["score", default: 0] += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return (input, scores, timings)
    }

    /// Display-encoded and rounded to 16 bits, so that what is scored is exactly what is stored.
    static func quantised(_ image: RGBImage) -> RGBImage {
        RGBImage(raster: image.displayEncoded().raster16(), transfer: .display)
    }

    static func verdict(_ v: Alignment.Verdict) -> DatasetBuilder.Verdict {
        switch v {
        case .accept: .accepted
        case .review: .review
        case .reject: .rejected
        }
    }

    static func colour(_ report: ColourReport?) -> DatasetBuilder.ColourModel? {
        guard let report else { return nil }
        return DatasetBuilder.ColourModel(name: report.model, parameters: report.parameters.matrix + report.parameters.offset,
                                          residual: report.residual)
    }

    static func quality(_ q: QualityReport) -> [String: Double] {
        var figures = ["overlap": q.overlap, "clipped": q.clipped, "correlation": q.correlation,
                       "registrationCorrelation": q.registrationCorrelation, "inFocus": q.inFocus]
        if let m = q.misalignment {
            figures["misalignedBlocks"] = Double(m.misaligned.count)
            figures["measuredBlocks"] = Double(m.measured)
            figures["medianShift"] = m.medianShift
            figures["p95Shift"] = m.p95Shift
            figures["maxShift"] = m.maxShift
        }
        return figures.filter { $0.value.isFinite }
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
