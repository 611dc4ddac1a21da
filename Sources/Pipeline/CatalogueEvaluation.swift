import DatasetBuilder
import Evaluation
import Foundation
import Imaging
import PairVocabulary
import ThreadSupport

/// How a catalogue evaluation got each score: what `rigctl evaluate --dataset` reports after the table.
public struct CatalogueEvaluationCounts: Sendable, Equatable {
    /// Per method (table name): rows already complete under the protocol, outputs of the same weights reused,
    /// and runs of the method.
    public var recorded: [String: Int] = [:]
    public var storedOutputs: [String: Int] = [:]
    public var ran: [String: Int] = [:]
    /// Scores the catalogue cannot keep (PSNR infinite: an output identical to its target), as "method on pair".
    public var notRecorded: [String] = []
    /// Why scores are missing, with how many rows each reason applies to.
    public var missing: [String: Int] = [:]
}

/// `rigctl evaluate --dataset`: the paper's table over catalogued pairs, every score kept in the catalogue with
/// its protocol, through the same `PairScorer` the capture pipeline uses (and so through `PairScoring`, as a
/// folder set's `Evaluator` is).
public struct CatalogueEvaluation: Sendable {
    public let scorer: PairScorer
    public let methods: [any RestorationMethod]
    /// The row every other row is compared with (paired bootstrap over scenes); nil: the input when evaluated.
    public var reference: String?
    /// Also a table per scene, scene tag or camera pair (`EvaluationReport.subsets`).
    public var by: SubsetKey?

    public init(scorer: PairScorer, methods: [any RestorationMethod]) {
        self.scorer = scorer
        self.methods = methods
    }

    /// Scores every pair; `observe` gets each pair's images as soon as it is scored (the HTML report), so no image
    /// is kept for the whole run. Pairs are named "<id>-<name>" in the results, as results folders name them.
    /// `overlapped` (the default) reads the next pair's stored images on a `StageChain` stage while the current
    /// pair is deblurred and scored (at most one pair read ahead); every catalogue write stays on the calling
    /// thread, in pair order, so the rows are those of the one-by-one run (`overlapped: false`).
    ///
    /// `isCancelled` is asked before each pair; once it says yes no further pair is scored and the run throws
    /// `EvaluationError.cancelled` with the number of pairs scored. A pair's scores are recorded only once it has
    /// been scored, so the catalogue then holds the complete rows of the pairs before and nothing of the rest.
    public func run(pairs: [PairDetail], keepImages: Bool, overlapped: Bool = true,
                    isCancelled: @escaping @Sendable () -> Bool = { false },
                    progress: (Int, Int, String) -> Void = { _, _, _ in },
                    observe: (ScoredPair) throws -> Void = { _ in }) throws -> (EvaluationReport, CatalogueEvaluationCounts) {
        guard !pairs.isEmpty else { throw EvaluationError.noPairs }
        guard !methods.isEmpty else { throw EvaluationError.noMethods }
        // Every model is registered (and a name clash refused) before any pair is scored.
        for method in methods { try scorer.register(method) }
        var results: [PairResult] = []
        var counts = CatalogueEvaluationCounts()
        var described: ScoreProtocol?
        let scorer = self.scorer
        let reader = overlapped ? try StageChain<Result<PairImages, Error>>.start(
            name: "eval-read", inputs: pairs, isCancelled: isCancelled) { _, pair in
            let item = Result { try scorer.images(of: pair) }
            return (item, item.isSuccess)
        } : nil
        defer { reader?.finish() }
        for (index, pair) in pairs.enumerated() {
            guard !isCancelled() else { throw EvaluationError.cancelled(scored: index, of: pairs.count) }
            let name = Self.resultName(of: pair)
            progress(index, pairs.count, name)
            let images = try reader.map { try ($0.receive() ?? .failure(EvaluationError.cancelled(scored: index, of: pairs.count))).get() }
                ?? scorer.images(of: pair)
            let scored = try scorer.score(pairID: pair.id, images: images, methods: methods, pairName: name,
                                          keepImages: keepImages)
            for s in scored {
                let method = s.method.name
                results.append(PairResult(pair: name, method: method, scores: s.scores, seconds: s.seconds))
                switch s.origin {
                case .recorded: counts.recorded[method, default: 0] += 1
                case .storedOutput: counts.storedOutputs[method, default: 0] += 1
                case .ran: counts.ran[method, default: 0] += 1
                }
                if !s.recorded { counts.notRecorded.append("\(method) on pair \(name)") }
                for (metric, reason) in s.missing { counts.missing["\(metric): \(reason)", default: 0] += 1 }
            }
            described = described ?? scorer.scoreProtocol(bitDepth: images.bitDepth)
            if keepImages {
                let source = scorer.scoring.frame(images.source), target = scorer.scoring.frame(images.target)
                try observe(ScoredPair(index: index, pair: ImagePair(name: name, source: scorer.dataset.root,
                                                                     target: scorer.dataset.root),
                                       input: source, target: target,
                                       outputs: scored.map { (method: $0.method.name, image: $0.output ?? source, scores: $0.scores) }))
            }
        }
        progress(pairs.count, pairs.count, "")
        let summaries = methods.map { method in
            var row = Evaluator.summarize(method: method, results: results.filter { $0.method == method.name })
            row.scoreProtocol = described
            return row
        }
        var report = EvaluationReport(methods: summaries, results: results,
                                      croppedToMultipleOf8: scorer.framing == .cropToMultipleOf8, scoreProtocol: described)
        // Intervals resample scenes: the pairs of one scene are not independent.
        let byName = Dictionary(pairs.map { (Self.resultName(of: $0), $0) }, uniquingKeysWith: { a, _ in a })
        let sceneOf = byName.mapValues(\.scene)
        let compared = reference ?? methods.first { $0.kind == .input }?.name
        report.addUncertainty(scene: { sceneOf[$0] ?? $0 }, reference: compared)
        if let by {
            let subsetsOf = byName.mapValues { Self.subsets(of: $0, by: by) }
            report.subsets = report.subsetRows(key: by, subsets: { subsetsOf[$0] ?? [] }, scene: { sceneOf[$0] ?? $0 },
                                               reference: compared)
        }
        return (report, counts)
    }

    /// A pair's name in the results and the report: "<id>-<name>", as results folders name them.
    public static func resultName(of pair: PairDetail) -> String { "\(pair.id)-\(pair.name)" }

    /// The subsets a pair is in: its scene, each tag of its scene ("untagged" without one), or its two cameras
    /// ("make model / make model", the defocused input's first; from the capture, else from an imported export's records).
    static func subsets(of pair: PairDetail, by key: SubsetKey) -> [String] {
        switch key {
        case .scene: return [pair.scene]
        case .tag: return pair.tags.isEmpty ? ["untagged"] : pair.tags
        case .cameras:
            let roles: [ShotRole] = [.source, .target]
            if let capture = pair.capture {
                let names = roles.compactMap { capture.shot($0).map { "\($0.camera.make) \($0.camera.model)" } }
                if !names.isEmpty { return [names.joined(separator: " / ")] }
            }
            if let cameras = pair.provenance?.cameras {
                let names = roles.compactMap { cameras[$0].map { "\($0.make) \($0.model)" } }
                if !names.isEmpty { return [names.joined(separator: " / ")] }
            }
            return ["unknown"]
        }
    }
}
