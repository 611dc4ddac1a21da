import AtomicFiles
import DatasetBuilder
import Evaluation
import Foundation
import Imaging
import Metrics
import PairVocabulary
import ThreadSupport

/// The name under which the input itself is scored (the tables' first row).
public let inputModelName = "input"

/// Something scored on catalogued pairs: the input itself, a deblurring model with weights, or another method's
/// outputs (a results folder), with what the catalogue records about it.
public struct CatalogueMethod: Sendable {
    public enum Kind: Sendable {
        case input
        /// Its outputs are kept in the catalogue and reused by any later scoring of the same weights.
        case model(DeblurModel)
        /// Outputs made elsewhere (read per pair); nothing is kept but the scores.
        case results(any RestorationMethod)
    }

    public var kind: Kind
    /// The name in the catalogue's model table.
    public var name: String
    /// The name in results tables ("Input" for the input, as the paper's tables print it).
    public var tableName: String
    public var complexity: ModelCost?

    public static let input = CatalogueMethod(kind: .input, name: inputModelName, tableName: InputMethod().name,
                                              complexity: nil)

    public static func model(_ model: DeblurModel) -> CatalogueMethod {
        CatalogueMethod(kind: .model(model), name: model.name, tableName: model.name,
                        complexity: model.cost)
    }

    public static func results(_ method: any RestorationMethod) -> CatalogueMethod {
        CatalogueMethod(kind: .results(method), name: method.name, tableName: method.name, complexity: method.complexity)
    }

    var registration: ModelInput {
        switch kind {
        case .input: ModelInput(name: name, weights: nil, notes: "the defocused input itself")
        case .model(let m): ModelInput(name: name, weights: m.weights, cost: m.cost)
        case .results: ModelInput(name: name, weights: nil, cost: complexity, notes: "outputs from a results folder")
        }
    }
}

/// A pair's stored images, as every method of one scoring run compares against them.
public struct PairImages: Sendable {
    public var source: RGBImage
    public var target: RGBImage
    /// Bits per sample of the stored target: outputs are quantised to it before they are kept and scored.
    public var bitDepth: Int

    public init(source: RGBImage, target: RGBImage, bitDepth: Int) {
        self.source = source
        self.target = target
        self.bitDepth = bitDepth
    }
}

/// One method's scores on one pair, and where they came from.
public struct PairScore: Sendable {
    public enum Origin: Sendable, Equatable {
        /// A complete row of this protocol was already in the catalogue; nothing was computed.
        case recorded
        /// The output the same weights made earlier was scored again (e.g. under another protocol, or to add LPIPS).
        case storedOutput
        /// The method ran.
        case ran
    }

    public var method: CatalogueMethod
    public var scores: MetricReport
    /// The method's seconds for the pair (for a reused output, the inference time recorded when it was made).
    public var seconds: Double
    public var origin: Origin
    public var scoreProtocol: ScoreProtocol
    /// Why a score is missing, by metric (e.g. "lpips": "LPIPS weights not installed").
    public var missing: [String: String]
    /// False when the catalogue cannot keep the scores (an output identical to its target: PSNR infinite).
    public var recorded: Bool
    /// The output as scored (framed like the target); only when the caller asked for images.
    public var output: RGBImage?
}

/// Scores catalogued pairs and records every score with its protocol: the one implementation behind the capture
/// pipeline (`PairProcessor`) and `rigctl evaluate --dataset`.
///
/// For each pair and method: a complete row of the same protocol identity is reused as it is (unless `rerun`); a
/// model whose weights already produced an output of the pair has that output scored instead of running again
/// (unless `rerun`); otherwise the method runs on the whole stored input, and a model's output is quantised to the
/// pair's bit depth and kept in `outputs/`. Framing (crop to multiples of 8) is applied after inference to input,
/// output and target alike. Rows are only ever added or completed; outputs are never deleted.
public struct PairScorer: Sendable {
    public let dataset: Dataset
    public var framing: ScoreProtocol.Framing
    /// LPIPS network; nil leaves LPIPS out, and `lpipsMissingReason` is recorded with the row.
    public var lpips: LPIPS?
    public var lpipsMissingReason: String
    /// Run the methods again even where a complete row or a stored output exists (the rows of the same protocol
    /// are replaced; the earlier outputs stay).
    public var rerun: Bool
    /// Catalogue ids of the methods registered so far, by name, so that weights are hashed once per run.
    private let registered = LockedValue<[String: Int64]>([:])

    public init(dataset: Dataset, framing: ScoreProtocol.Framing, lpips: LPIPS?,
                lpipsMissingReason: String = "LPIPS weights not installed", rerun: Bool = false) {
        self.dataset = dataset
        self.framing = framing
        self.lpips = lpips
        self.lpipsMissingReason = lpipsMissingReason
        self.rerun = rerun
    }

    /// The protocol this scorer records for a pair of `bitDepth`.
    public func scoreProtocol(bitDepth: Int) -> ScoreProtocol {
        ScoreProtocol(framing: framing, bitDepth: bitDepth, lpips: lpips == nil ? nil : ScoreProtocol.lpipsV01Alex)
    }

    /// Reads a catalogued pair's stored source and target (links refused, as everywhere in the dataset).
    public func images(of pair: PairDetail) throws -> PairImages {
        let (source, _) = try Self.read(dataset.url(of: pair.source))
        let (target, bitDepth) = try Self.read(dataset.url(of: pair.target))
        guard source.width == target.width, source.height == target.height else {
            throw EvaluationError.inputTargetMismatch(pair: "\(pair.id)", input: "\(source.width)x\(source.height)",
                                                      target: "\(target.width)x\(target.height)")
        }
        return PairImages(source: source, target: target, bitDepth: bitDepth)
    }

    /// Registers a method in the catalogue once per scorer (the same name with other weights is refused here,
    /// before any pair is scored).
    @discardableResult
    public func register(_ method: CatalogueMethod) throws -> Int64 {
        if let id = registered.withLock({ $0[method.name] }) { return id }
        let id = try dataset.registerModel(method.registration).id
        registered.withLock { $0[method.name] = id }
        return id
    }

    /// Scores `methods` on one pair (see the type's comment), recording each score. `ahead` holds what
    /// `computeAhead` computed for this pair on another thread: for each method, the work is taken from it when it
    /// was computed under the decision (run, or rescore which stored output) this call reaches from the catalogue
    /// now, and done here otherwise, so the rows and scores are those of a call without it.
    public func score(pairID: PairID, images: PairImages, methods: [CatalogueMethod], pairName: String,
                      keepImages: Bool = false, ahead: ScoresAhead? = nil) throws -> [PairScore] {
        let scoring = scoreProtocol(bitDepth: images.bitDepth)
        let framedSource = frame(images.source), framedTarget = frame(images.target)
        var scored: [PairScore] = []
        for method in methods {
            let modelID = try register(method)
            let missing = lpips == nil ? ["lpips": lpipsMissingReason] : [:]
            let plan = try self.plan(pairID: pairID, method: method, modelID: modelID, scoring: scoring,
                                     framedSource: framedSource, keepImages: keepImages)
            let work: MethodWork
            switch plan {
            case .reuse(let reused):
                scored.append(reused)
                continue
            case .rescore(let stored):
                work = try ahead?.work(for: method.name, plan: .rescore(fileID: stored.fileID))?.get()
                    ?? compute(.rescore(stored), method: method, images: images, framedSource: framedSource,
                               framedTarget: framedTarget, pairName: pairName)
            case .run:
                work = try ahead?.work(for: method.name, plan: .run)?.get()
                    ?? compute(.run, method: method, images: images, framedSource: framedSource,
                               framedTarget: framedTarget, pairName: pairName)
            }
            let recordable = work.scores.psnr.isFinite
            if recordable {
                try record(work.scores, pairID: pairID, modelID: modelID, seconds: work.seconds, scoring: scoring,
                           missing: missing, keptOutput: work.keptOutput, newOutput: work.newOutput,
                           bitDepth: images.bitDepth)
            }
            scored.append(PairScore(method: method, scores: work.scores, seconds: work.seconds, origin: work.origin,
                                    scoreProtocol: scoring, missing: missing, recorded: recordable,
                                    output: keepImages ? work.output : nil))
        }
        return scored
    }

    /// Runs the methods and computes their scores for a pair without writing anything, so that it can be done on
    /// another thread while earlier pairs are recorded; `score(..., ahead:)` then records them. With `pairID`
    /// nil the pair is not catalogued yet, so nothing is recorded for it: every method runs. Otherwise each
    /// method's decision is read from the catalogue as `score` reads it, and only methods already registered
    /// (by an earlier `register` or `score`) are computed, since registering writes. A method's failure is kept
    /// and thrown by `score` where the one-by-one run would throw it.
    public func computeAhead(pairID: PairID?, images: PairImages, methods: [CatalogueMethod],
                             pairName: String) -> ScoresAhead {
        let scoring = scoreProtocol(bitDepth: images.bitDepth)
        let framedSource = frame(images.source), framedTarget = frame(images.target)
        var ahead = ScoresAhead()
        for method in methods {
            let decided: Result<Plan, Error>
            if let pairID {
                guard let modelID = registered.withLock({ $0[method.name] }) else { continue }
                decided = Result {
                    try plan(pairID: pairID, method: method, modelID: modelID, scoring: scoring,
                             framedSource: framedSource, keepImages: false)
                }
            } else {
                decided = .success(.run)
            }
            // A failed read is left to `score`, which reads the catalogue again and meets the error itself.
            guard case .success(let plan) = decided else { continue }
            let key: ScoresAhead.PlanKey
            switch plan {
            case .reuse: continue
            case .rescore(let stored): key = .rescore(fileID: stored.fileID)
            case .run: key = .run
            }
            let work = Result {
                try compute(plan, method: method, images: images, framedSource: framedSource,
                            framedTarget: framedTarget, pairName: pairName)
            }
            ahead.entries[method.name] = (key, work)
        }
        return ahead
    }

    /// What `score` does for a method on a pair, decided from the catalogue.
    enum Plan {
        /// A complete row of the protocol is reused as it is.
        case reuse(PairScore)
        /// The output the same weights made earlier is scored again.
        case rescore(StoredOutput)
        /// The method runs.
        case run
    }

    func plan(pairID: PairID, method: CatalogueMethod, modelID: Int64, scoring: ScoreProtocol, framedSource: RGBImage,
              keepImages: Bool) throws -> Plan {
        let known = try dataset.score(pairID: pairID, modelID: modelID, identity: scoring.identity)
        if let known, !rerun, known.detail.lpips != nil || lpips == nil,
           let reused = try recorded(known, method: method, modelID: modelID, pairID: pairID,
                                     source: framedSource, keepImages: keepImages) {
            return .reuse(reused)
        }
        if case .model = method.kind, !rerun, let stored = try dataset.storedOutput(pairID: pairID, modelID: modelID) {
            return .rescore(stored)
        }
        return .run
    }

    /// A method's output (whole: the stored one of the same weights, or the method's), framed, and its scores:
    /// everything of `score` but the catalogue's writes.
    func compute(_ plan: Plan, method: CatalogueMethod, images: PairImages, framedSource: RGBImage,
                 framedTarget: RGBImage, pairName: String) throws -> MethodWork {
        var origin = PairScore.Origin.ran
        var seconds = 0.0
        var output: RGBImage
        var keptOutput: Int64?
        var newOutput: RGBImage?
        switch method.kind {
        case .input:
            output = images.source
        case .model(let model):
            if case .rescore(let stored) = plan {
                output = try Self.read(dataset.url(of: stored.file)).image
                seconds = stored.seconds ?? 0
                keptOutput = stored.fileID
                origin = .storedOutput
            } else {
                let start = DispatchTime.now().uptimeNanoseconds
                let whole = try Self.naming(pairName, .restoring(method: method.tableName)) {
                    try model.deblurrer.deblur(images.source)
                }
                output = Self.quantised(whole, bitDepth: images.bitDepth)
                seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                newOutput = output
            }
        case .results(let results):
            let start = DispatchTime.now().uptimeNanoseconds
            output = try results.restore(framedSource, pair: ImagePair(name: pairName, source: dataset.root,
                                                                       target: dataset.root))
            seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        if case .results = method.kind {} else { output = frame(output) }
        guard output.width == framedTarget.width, output.height == framedTarget.height else {
            throw EvaluationError.sizeMismatch(pair: pairName, method: method.tableName,
                                               output: "\(output.width)x\(output.height)",
                                               target: "\(framedTarget.width)x\(framedTarget.height)")
        }
        let scores = try Self.naming(pairName, .scoring(method: method.tableName)) {
            try MetricReport(output: output, target: framedTarget, lpips: lpips)
        }
        return MethodWork(output: output, scores: scores, seconds: seconds, origin: origin, keptOutput: keptOutput,
                          newOutput: newOutput)
    }

    /// A complete row reused as it is; nil when the caller needs the output image and it is not at hand without
    /// running a model (then the pair is scored again).
    func recorded(_ stored: StoredScore, method: CatalogueMethod, modelID: Int64, pairID: PairID, source: RGBImage,
                  keepImages: Bool) throws -> PairScore? {
        let known = stored.detail
        var output: RGBImage?
        if keepImages {
            switch method.kind {
            case .input: output = source
            case .model:
                guard let file = known.output else { return nil }
                output = frame(try Self.read(dataset.url(of: file)).image)
            case .results: return nil
            }
        }
        let scores = MetricReport(psnr: known.psnr, ssim: known.ssim, ssimGaussian: known.ssimGaussian ?? .nan,
                                  mae: known.mae ?? .nan, lpips: known.lpips)
        return PairScore(method: method, scores: scores, seconds: known.seconds ?? 0, origin: .recorded,
                         scoreProtocol: known.scoreProtocol ?? scoreProtocol(bitDepth: 0), missing: known.missing,
                         recorded: true, output: output)
    }

    func record(_ scores: MetricReport, pairID: PairID, modelID: Int64, seconds: Double, scoring: ScoreProtocol,
                missing: [String: String], keptOutput: Int64?, newOutput: RGBImage?, bitDepth: Int) throws {
        var scratch: URL?
        if let newOutput {
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("rigctl-output-" + UUID().uuidString + ".png")
            try PNGFile.write(newOutput, to: url, bitDepth: bitDepth == 8 ? 8 : 16, compressionLevel: 3)
            scratch = url
        }
        defer { if let scratch { try? FileManager.default.removeItem(at: scratch) } }
        try dataset.recordEvaluation(EvaluationInput(
            pairID: pairID, modelID: modelID, psnr: scores.psnr, ssim: scores.ssim,
            ssimGaussian: scores.ssimGaussian.isFinite ? scores.ssimGaussian : nil, mae: scores.mae.isFinite ? scores.mae : nil,
            lpips: scores.lpips, seconds: seconds, output: scratch, outputFileID: keptOutput, scoreProtocol: scoring,
            missing: missing))
    }

    /// Runs `body`, naming the pair and the stage in its error (as `Evaluator` does for folder sets).
    static func naming<T>(_ pair: String, _ stage: PairFailure.Stage, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let failure as PairFailure {
            throw failure
        } catch {
            throw PairFailure(pair: pair, stage: stage, underlying: error)
        }
    }

    func frame(_ image: RGBImage) -> RGBImage {
        framing == .cropToMultipleOf8 ? Evaluator.cropToMultipleOf8(image) : image
    }

    /// Display-encoded and rounded to the pair's bit depth, so that what is scored is exactly what is stored.
    public static func quantised(_ image: RGBImage, bitDepth: Int) -> RGBImage {
        let display = image.displayEncoded()
        return bitDepth == 8 ? RGBImage(raster: display.raster8(), transfer: .display)
            : RGBImage(raster: display.raster16(), transfer: .display)
    }

    /// An image and its bits per sample (PNG: as stored; JPEG: 8; RAW: 16, as decoded).
    static func read(_ url: URL) throws -> (image: RGBImage, bitDepth: Int) {
        let data: Data
        do {
            data = try FileContents.read(path: url.path)
        } catch let error as FileReadError {
            throw ImagingError.unreadable(path: url.path, reason: error.reason)
        }
        switch ImageFormat.sniff(data) {
        case .png:
            let raster = try PNGFile.decode(data, path: url.path)
            return (raster.rgbImage(), raster.bitDepth)
        case .jpeg: return (try ImageFile.read(url), 8)
        case .raw: return (try ImageFile.read(url), 16)
        }
    }
}

/// One method's computed output and scores on a pair, not yet recorded.
struct MethodWork: Sendable {
    var output: RGBImage
    var scores: MetricReport
    var seconds: Double
    var origin: PairScore.Origin
    var keptOutput: Int64?
    /// A model's new output, to be kept in the catalogue with the row.
    var newOutput: RGBImage?
}

/// What `PairScorer.computeAhead` computed for one pair, by method, with the decision each was computed under.
public struct ScoresAhead: Sendable {
    enum PlanKey: Equatable, Sendable {
        case run
        case rescore(fileID: Int64)
    }

    var entries: [String: (key: PlanKey, work: Result<MethodWork, Error>)] = [:]

    public init() {}

    /// Whether nothing was computed ahead.
    public var isEmpty: Bool { entries.isEmpty }

    /// The work for `method` if it was computed under `plan`.
    func work(for method: String, plan: PlanKey) -> Result<MethodWork, Error>? {
        guard let entry = entries[method], entry.key == plan else { return nil }
        return entry.work
    }
}
