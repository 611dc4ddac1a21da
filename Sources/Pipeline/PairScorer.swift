import AtomicFiles
import DatasetBuilder
import Evaluation
import Foundation
import Imaging
import Metrics
import PairVocabulary
import ThreadSupport

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

    public var method: any RestorationMethod
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
    /// How each pair is scored (always with outputs quantised: what is scored is what the catalogue keeps).
    public var scoring: PairScoring
    /// Recorded with a row that has no LPIPS score (`scoring.lpips` nil).
    public var lpipsMissingReason: String
    /// Run the methods again even where a complete row or a stored output exists (the rows of the same protocol
    /// are replaced; the earlier outputs stay).
    public var rerun: Bool
    /// Catalogue ids of the methods registered so far, by catalogue name, so that weights are hashed once per run.
    private let registered = LockedValue<[String: Int64]>([:])

    /// The catalogue's scorer for a published protocol (outputs always quantised, as they are kept).
    public init(dataset: Dataset, protocol named: EvaluationProtocol, lpips: LPIPS?,
                lpipsMissingReason: String = "LPIPS weights not installed", rerun: Bool = false) {
        self.dataset = dataset
        self.scoring = PairScoring(named, outputs: .quantised, lpips: lpips)
        self.lpipsMissingReason = lpipsMissingReason
        self.rerun = rerun
    }

    /// The unaligned protocol of `framing` (the capture pipeline's whole image, or the paper's crop).
    public init(dataset: Dataset, framing: ScoreProtocol.Framing, lpips: LPIPS?,
                lpipsMissingReason: String = "LPIPS weights not installed", rerun: Bool = false) {
        self.init(dataset: dataset, protocol: framing == .cropToMultipleOf8 ? .ifan : .dpdd, lpips: lpips,
                  lpipsMissingReason: lpipsMissingReason, rerun: rerun)
    }

    public var framing: ScoreProtocol.Framing { scoring.framing }
    /// The published protocol this scorer records.
    public var named: EvaluationProtocol { scoring.named }
    public var lpips: LPIPS? { scoring.lpips }

    /// The protocol this scorer records for a pair of `bitDepth`.
    public func scoreProtocol(bitDepth: Int) -> ScoreProtocol { scoring.scoreProtocol(bitDepth: bitDepth) }

    /// Reads a catalogued pair's stored source and target (links refused, as everywhere in the dataset).
    public func images(of pair: PairDetail) throws -> PairImages {
        try scoring.read(source: dataset.url(of: pair.source), target: dataset.url(of: pair.target), pair: "\(pair.id)")
    }

    /// Registers a method in the catalogue once per scorer (the same name with other weights is refused here,
    /// before any pair is scored).
    @discardableResult
    public func register(_ method: any RestorationMethod) throws -> Int64 {
        let name = method.catalogueName
        if let id = registered.withLock({ $0[name] }) { return id }
        let id = try dataset.registerModel(Self.registration(of: method)).id
        registered.withLock { $0[name] = id }
        return id
    }

    /// What the catalogue's model table records about a method.
    static func registration(of method: any RestorationMethod) -> ModelInput {
        switch method.kind {
        case .input: ModelInput(name: method.catalogueName, weights: nil, notes: "the defocused input itself")
        case .model(let weights): ModelInput(name: method.catalogueName, weights: weights, cost: method.complexity)
        case .results: ModelInput(name: method.catalogueName, weights: nil, cost: method.complexity,
                                  notes: "outputs from a results folder")
        }
    }

    /// Scores `methods` on one pair (see the type's comment), recording each score. `ahead` holds what
    /// `computeAhead` computed for this pair on another thread: for each method, the work is taken from it when it
    /// was computed under the decision (run, or rescore which stored output) this call reaches from the catalogue
    /// now, and done here otherwise, so the rows and scores are those of a call without it.
    public func score(pairID: PairID, images: PairImages, methods: [any RestorationMethod], pairName: String,
                      keepImages: Bool = false, ahead: ScoresAhead? = nil) throws -> [PairScore] {
        let used = scoreProtocol(bitDepth: images.bitDepth)
        let framedSource = scoring.frame(images.source), framedTarget = scoring.frame(images.target)
        var scored: [PairScore] = []
        for method in methods {
            let modelID = try register(method)
            let missing = lpips == nil ? ["lpips": lpipsMissingReason] : [:]
            let plan = try self.plan(pairID: pairID, method: method, modelID: modelID, scoring: used,
                                     framedSource: framedSource, keepImages: keepImages)
            let work: MethodWork
            switch plan {
            case .reuse(let reused):
                scored.append(reused)
                continue
            case .rescore(let stored):
                work = try ahead?.work(for: method.catalogueName, plan: .rescore(fileID: stored.fileID))?.get()
                    ?? compute(.rescore(stored), method: method, images: images, framedSource: framedSource,
                               framedTarget: framedTarget, pairName: pairName)
            case .run:
                work = try ahead?.work(for: method.catalogueName, plan: .run)?.get()
                    ?? compute(.run, method: method, images: images, framedSource: framedSource,
                               framedTarget: framedTarget, pairName: pairName)
            }
            let recordable = work.scores.psnr.isFinite
            if recordable {
                try record(work.scores, pairID: pairID, modelID: modelID, seconds: work.seconds, scoring: used,
                           missing: missing, keptOutput: work.keptOutput, newOutput: work.newOutput,
                           bitDepth: images.bitDepth)
            }
            scored.append(PairScore(method: method, scores: work.scores, seconds: work.seconds, origin: work.origin,
                                    scoreProtocol: used, missing: missing, recorded: recordable,
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
    public func computeAhead(pairID: PairID?, images: PairImages, methods: [any RestorationMethod],
                             pairName: String) -> ScoresAhead {
        let used = scoreProtocol(bitDepth: images.bitDepth)
        let framedSource = scoring.frame(images.source), framedTarget = scoring.frame(images.target)
        var ahead = ScoresAhead()
        for method in methods {
            let decided: Result<Plan, Error>
            if let pairID {
                guard let modelID = registered.withLock({ $0[method.catalogueName] }) else { continue }
                decided = Result {
                    try plan(pairID: pairID, method: method, modelID: modelID, scoring: used,
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
            ahead.entries[method.catalogueName] = (key, work)
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

    func plan(pairID: PairID, method: any RestorationMethod, modelID: Int64, scoring: ScoreProtocol, framedSource: RGBImage,
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
    func compute(_ plan: Plan, method: any RestorationMethod, images: PairImages, framedSource: RGBImage,
                 framedTarget: RGBImage, pairName: String) throws -> MethodWork {
        var origin = PairScore.Origin.ran
        var seconds = 0.0
        var output: RGBImage
        var keptOutput: Int64?
        var newOutput: RGBImage?
        let pair = ImagePair(name: pairName, source: dataset.root, target: dataset.root)
        if case .rescore(let stored) = plan {
            output = try PairScoring.read(dataset.url(of: stored.file)).image
            seconds = stored.seconds ?? 0
            keptOutput = stored.fileID
            origin = .storedOutput
        } else {
            // A model runs on the whole stored input (its output is kept whole); a results folder holds framed
            // outputs of framed inputs.
            let given = method.kind == .results ? framedSource : images.source
            let start = DispatchTime.now().uptimeNanoseconds
            output = try PairFailure.naming(pairName, .restoring(method: method.name)) {
                try method.restore(given, pair: pair)
            }
            seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if case .model = method.kind {
                output = scoring.held(output, bitDepth: images.bitDepth)
                newOutput = output
            }
        }
        if method.kind != .results { output = scoring.frame(output) }
        // The report shows what was compared (under an aligning protocol, the output aligned onto the target).
        let (scores, compared) = try scoring.scoreShowing(output, against: framedTarget, pair: pairName,
                                                          method: method.name, kind: method.kind)
        return MethodWork(output: compared, scores: scores, seconds: seconds, origin: origin, keptOutput: keptOutput,
                          newOutput: newOutput)
    }

    /// A complete row reused as it is; nil when the caller needs the output image and it is not at hand without
    /// running a model (then the pair is scored again).
    func recorded(_ stored: StoredScore, method: any RestorationMethod, modelID: Int64, pairID: PairID, source: RGBImage,
                  keepImages: Bool) throws -> PairScore? {
        let known = stored.detail
        var output: RGBImage?
        if keepImages {
            // The aligned image an aligning protocol compared is not kept: score again to show it.
            if scoring.alignsOutputs && method.kind != .input { return nil }
            switch method.kind {
            case .input: output = source
            case .model:
                guard let file = known.output else { return nil }
                output = scoring.frame(try PairScoring.read(dataset.url(of: file)).image)
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
