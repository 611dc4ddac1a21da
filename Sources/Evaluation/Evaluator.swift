import Foundation
import PairVocabulary
import IFANEngine
import Imaging
import Metrics
import ThreadSupport

/// One method's scores on one pair.
public struct PairResult: Sendable, Equatable, Codable {
    public var pair: String
    public var method: String
    public var scores: MetricReport
    /// Wall-clock seconds the method took for this pair (reading a results file counts for folders).
    public var seconds: Double

    public init(pair: String, method: String, scores: MetricReport, seconds: Double) {
        self.pair = pair
        self.method = method
        self.scores = scores
        self.seconds = seconds
    }
}

/// A method's row of the results table: means over the pairs.
public struct MethodSummary: Sendable, Equatable, Codable {
    public var name: String
    public var pairs: Int
    public var psnr: Double
    public var ssim: Double
    public var ssimGaussian: Double
    public var mae: Double
    /// Nil when any pair lacks an LPIPS score.
    public var lpips: Double?
    public var complexity: ModelCost?
    public var secondsPerImage: Double
    /// How the row's scores were computed (written to JSON as its one-line description).
    public var scoreProtocol: ScoreProtocol?
    /// 95 % intervals of the means, bootstrapped over scenes (`EvaluationReport.addUncertainty`); JSON `intervals`.
    public var uncertainty: MethodUncertainty?
    /// This row against the reference row on the same pairs (paired bootstrap over scenes); JSON `comparison`.
    public var comparison: MethodComparison?
    /// The subset the row is over ("scene=kitchen", "tag=indoor", `evaluate --by`); nil for the whole set.
    public var subset: String?

    public init(name: String, pairs: Int, psnr: Double, ssim: Double, ssimGaussian: Double, mae: Double, lpips: Double?,
                complexity: ModelCost?, secondsPerImage: Double) {
        self.name = name
        self.pairs = pairs
        self.psnr = psnr
        self.ssim = ssim
        self.ssimGaussian = ssimGaussian
        self.mae = mae
        self.lpips = lpips
        self.complexity = complexity
        self.secondsPerImage = secondsPerImage
    }

    enum CodingKeys: String, CodingKey {
        case name, pairs, psnr, ssim, ssimGaussian = "ssim_gaussian", mae, lpips, complexity
        case secondsPerImage = "seconds_per_image"
        case scoreProtocol = "protocol"
        case protocolDetail = "protocol_detail"
        case uncertainty = "intervals", comparison, subset
    }

    /// PSNR is infinite for a perfect output; JSON has no infinity, so it is written as null (as MetricReport does).
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(pairs, forKey: .pairs)
        try c.encode(psnr.isFinite ? psnr : nil, forKey: .psnr)
        try c.encode(ssim, forKey: .ssim)
        try c.encode(ssimGaussian, forKey: .ssimGaussian)
        try c.encode(mae, forKey: .mae)
        try c.encode(lpips, forKey: .lpips)
        try c.encode(complexity, forKey: .complexity)
        try c.encode(secondsPerImage, forKey: .secondsPerImage)
        try c.encodeIfPresent(scoreProtocol?.label, forKey: .scoreProtocol)
        try c.encodeIfPresent(scoreProtocol?.description, forKey: .protocolDetail)
        try c.encodeIfPresent(uncertainty, forKey: .uncertainty)
        try c.encodeIfPresent(comparison, forKey: .comparison)
        try c.encodeIfPresent(subset, forKey: .subset)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        pairs = try c.decode(Int.self, forKey: .pairs)
        psnr = try c.decodeIfPresent(Double.self, forKey: .psnr) ?? .infinity
        ssim = try c.decode(Double.self, forKey: .ssim)
        ssimGaussian = try c.decode(Double.self, forKey: .ssimGaussian)
        mae = try c.decode(Double.self, forKey: .mae)
        lpips = try c.decodeIfPresent(Double.self, forKey: .lpips)
        complexity = try c.decodeIfPresent(ModelCost.self, forKey: .complexity)
        secondsPerImage = try c.decode(Double.self, forKey: .secondsPerImage)
        scoreProtocol = try (c.decodeIfPresent(String.self, forKey: .protocolDetail)
            ?? c.decodeIfPresent(String.self, forKey: .scoreProtocol)).flatMap(ScoreProtocol.init(described:))
        uncertainty = try c.decodeIfPresent(MethodUncertainty.self, forKey: .uncertainty)
        comparison = try c.decodeIfPresent(MethodComparison.self, forKey: .comparison)
        subset = try c.decodeIfPresent(String.self, forKey: .subset)
    }
}

extension ScoreProtocol {
    /// What a table's `protocol` column says: the published protocol's name, or the whole line when none fits.
    public var label: String { named?.rawValue ?? description }
}

/// The outcome of an evaluation: the table's rows and every per-pair score behind them.
public struct EvaluationReport: Sendable, Equatable, Codable {
    public var methods: [MethodSummary]
    public var results: [PairResult]
    /// Whether inputs and targets were cropped bottom/right to multiples of 8, as the paper's evaluation does.
    public var croppedToMultipleOf8: Bool
    /// How the scores were computed (framing, bit depth, how outputs were held, SSIM, LPIPS, rigctl release);
    /// nil when not stated. JSON carries its one-line description.
    public var scoreProtocol: ScoreProtocol?
    /// Rows per subset (`evaluate --by`), after the whole set's `methods`; JSON `subsets`, absent when empty.
    public var subsets: [MethodSummary] = []

    public init(methods: [MethodSummary], results: [PairResult], croppedToMultipleOf8: Bool,
                scoreProtocol: ScoreProtocol? = nil) {
        self.methods = methods
        self.results = results
        self.croppedToMultipleOf8 = croppedToMultipleOf8
        self.scoreProtocol = scoreProtocol
    }

    enum CodingKeys: String, CodingKey {
        case methods, results, croppedToMultipleOf8, scoreProtocol, protocolName = "protocol", subsets
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(methods, forKey: .methods)
        try c.encode(results, forKey: .results)
        try c.encode(croppedToMultipleOf8, forKey: .croppedToMultipleOf8)
        try c.encodeIfPresent(scoreProtocol?.description, forKey: .scoreProtocol)
        try c.encodeIfPresent(scoreProtocol?.named?.rawValue, forKey: .protocolName)
        if !subsets.isEmpty { try c.encode(subsets, forKey: .subsets) }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        methods = try c.decode([MethodSummary].self, forKey: .methods)
        results = try c.decode([PairResult].self, forKey: .results)
        croppedToMultipleOf8 = try c.decode(Bool.self, forKey: .croppedToMultipleOf8)
        scoreProtocol = try c.decodeIfPresent(String.self, forKey: .scoreProtocol).flatMap(ScoreProtocol.init(described:))
        subsets = try c.decodeIfPresent([MethodSummary].self, forKey: .subsets) ?? []
    }
}

/// What the evaluator hands to observers (the HTML report, the catalogue) for each pair as soon as it is scored,
/// so that no image has to be kept for the whole run.
public struct ScoredPair {
    public var index: Int
    public var pair: ImagePair
    public var input: RGBImage
    public var target: RGBImage
    public var outputs: [(method: String, image: RGBImage, scores: MetricReport)]

    public init(index: Int, pair: ImagePair, input: RGBImage, target: RGBImage,
                outputs: [(method: String, image: RGBImage, scores: MetricReport)]) {
        self.index = index
        self.pair = pair
        self.input = input
        self.target = target
        self.outputs = outputs
    }
}

public enum EvaluationError: Error, CustomStringConvertible {
    case sizeMismatch(pair: String, method: String, output: String, target: String)
    case inputTargetMismatch(pair: String, input: String, target: String)
    case noPairs
    case noMethods
    /// Stopped on request after `scored` of `of` pairs.
    case cancelled(scored: Int, of: Int)

    public var description: String {
        switch self {
        case .sizeMismatch(let p, let m, let o, let t): "\(m) produced \(o) for pair \(p), whose target is \(t)"
        case .inputTargetMismatch(let p, let i, let t): "pair \(p): the input is \(i) but the target is \(t)"
        case .noPairs: "there are no pairs to evaluate"
        case .noMethods: "no method to evaluate"
        case .cancelled(let n, let total): "stopped after \(n) of \(total) pairs"
        }
    }
}

/// Scores methods on a folder set of pairs the way the IFAN paper's evaluation does: 8-bit images read as /255,
/// cropped bottom/right to multiples of 8, outputs scored as produced, per-image scores averaged over the set.
/// Each pair goes through `PairScoring`, as the catalogue's pairs do.
public struct Evaluator: Sendable {
    public var methods: [any RestorationMethod]
    public var scoring: PairScoring
    /// The row every other row is compared with (paired bootstrap); nil: the input when it is evaluated.
    public var reference: String?
    /// The intervals' bootstrap; a folder set's pairs are each their own scene.
    public var bootstrap = SceneBootstrap()

    public init(methods: [any RestorationMethod], scoring: PairScoring) {
        self.methods = methods
        self.scoring = scoring
    }

    /// A published protocol (IFAN's by default), with `lpips` nil leaving LPIPS out (weights not installed).
    public init(methods: [any RestorationMethod], protocol named: EvaluationProtocol = .ifan, lpips: LPIPS?) {
        self.init(methods: methods, scoring: PairScoring(named, lpips: lpips))
    }

    /// IFAN's protocol, or the whole image (DPDD's).
    public init(methods: [any RestorationMethod], lpips: LPIPS?, cropToMultipleOf8: Bool) {
        self.init(methods: methods, scoring: PairScoring(framing: cropToMultipleOf8 ? .cropToMultipleOf8 : .whole,
                                                         outputs: .asProduced, lpips: lpips))
    }

    /// Scores every method on every pair. `progress` is told as each pair's scoring starts (index, count, name);
    /// `imageProgress`, when given, where a method stands within an image (pair index, method name, tiles and
    /// stages), from the thread that runs the method. `isCancelled` is asked before each pair's decoding, methods
    /// and scoring; once it says yes no new work starts and the run throws `EvaluationError.cancelled` with the
    /// number of pairs scored (and observed) so far. An error in a pair is a `PairFailure` naming the pair and stage.
    ///
    /// `overlapped` (the default) runs the stages on three threads across pairs: one decodes the next pair while
    /// another runs the methods on the current one and the calling thread scores (and hands to `observe`) the one
    /// before, so single-threaded work (PNG decoding, SSIM, the report's pictures) fills the gaps of the
    /// multi-threaded network. At most one pair waits between two stages. Results, observations and the first
    /// error come in pair order, exactly as in the one-by-one run (`overlapped: false`).
    public func run(pairs: [ImagePair], overlapped: Bool = true, isCancelled: @escaping @Sendable () -> Bool = { false },
                    progress: (Int, Int, String) -> Void = { _, _, _ in },
                    imageProgress: (@Sendable (Int, String, DeblurProgress) -> Void)? = nil,
                    observe: (ScoredPair) throws -> Void = { _ in }) throws -> EvaluationReport {
        guard !pairs.isEmpty else { throw EvaluationError.noPairs }
        guard !methods.isEmpty else { throw EvaluationError.noMethods }
        var results: [PairResult] = []
        var scoredPairs = 0
        var bitDepths = Set<Int>()
        func score(_ pair: RestoredPair) throws {
            progress(pair.index, pairs.count, pair.pair.name)
            bitDepths.insert(pair.bitDepth)
            var outputs: [(method: String, image: RGBImage, scores: MetricReport)] = []
            for (method, kind, output, seconds) in pair.outputs {
                // Under an aligning protocol the report shows the output as it was scored: aligned onto the target.
                let (scores, compared) = try scoring.scoreShowing(output, against: pair.target, pair: pair.pair.name,
                                                                  method: method, kind: kind)
                results.append(PairResult(pair: pair.pair.name, method: method, scores: scores, seconds: seconds))
                outputs.append((method, compared, scores))
            }
            try observe(ScoredPair(index: pair.index, pair: pair.pair, input: pair.input, target: pair.target,
                                   outputs: outputs))
            scoredPairs += 1
        }
        if overlapped {
            try runOverlapped(pairs: pairs, isCancelled: isCancelled, imageProgress: imageProgress, score: score)
        } else {
            for (index, pair) in pairs.enumerated() {
                guard !isCancelled() else { break }
                let decoded = try decode(pair, index: index)
                guard !isCancelled() else { break }
                let restored = try restore(decoded, imageProgress: imageProgress)
                guard !isCancelled() else { break }
                try score(restored)
            }
        }
        guard scoredPairs == pairs.count else { throw EvaluationError.cancelled(scored: scoredPairs, of: pairs.count) }
        progress(pairs.count, pairs.count, "")
        // Targets of several bit depths leave the set's depth unknown (each pair was compared at its own).
        let described = scoring.scoreProtocol(bitDepth: bitDepths.count == 1 ? bitDepths.first! : 0)
        let summaries = methods.map { method in
            var row = Self.summarize(method: method, results: results.filter { $0.method == method.name })
            row.scoreProtocol = described
            return row
        }
        var report = EvaluationReport(methods: summaries, results: results,
                                      croppedToMultipleOf8: scoring.framing == .cropToMultipleOf8, scoreProtocol: described)
        report.addUncertainty(scene: { $0 }, reference: reference ?? methods.first { $0.kind == .input }?.name,
                              bootstrap: bootstrap)
        return report
    }

    /// The three stages on their own threads, joined by channels of capacity 1 (`StageChain`). A failure travels
    /// down the chain in pair order and stops each stage after it; the calling thread's own failure (or a
    /// cancellation) finishes the chain, so the other stages stop at their next hand-over and are joined before
    /// returning.
    func runOverlapped(pairs: [ImagePair], isCancelled: @escaping @Sendable () -> Bool,
                       imageProgress: (@Sendable (Int, String, DeblurProgress) -> Void)?,
                       score: (RestoredPair) throws -> Void) throws {
        let chain = try StageChain<Result<DecodedPair, Error>>.start(name: "eval-decode", inputs: pairs,
                                                                      isCancelled: isCancelled) { [self] index, pair in
            let item = Result { try decode(pair, index: index) }
            return (item, item.isSuccess)
        }
        .then(name: "eval-restore", isCancelled: isCancelled) { [self] (item: Result<DecodedPair, Error>) in
            let next = item.flatMap { pair in Result { try restore(pair, imageProgress: imageProgress) } }
            return (next, next.isSuccess)
        }
        defer { chain.finish() }
        while let item = chain.receive() {
            let pair = try item.get()
            guard !isCancelled() else { return }
            try score(pair)
        }
    }

    /// A pair read and fitted to the protocol, waiting for the methods.
    struct DecodedPair: Sendable {
        var index: Int
        var pair: ImagePair
        var input: RGBImage
        var target: RGBImage
        var bitDepth: Int
    }

    /// A pair with every method's output (and the seconds it took), waiting to be scored.
    struct RestoredPair: Sendable {
        var index: Int
        var pair: ImagePair
        var input: RGBImage
        var target: RGBImage
        var bitDepth: Int
        var outputs: [(method: String, kind: MethodKind, image: RGBImage, seconds: Double)]
    }

    func decode(_ pair: ImagePair, index: Int) throws -> DecodedPair {
        let images = try PairFailure.naming(pair, .decoding) {
            try scoring.read(source: pair.source, target: pair.target, pair: pair.name)
        }
        return DecodedPair(index: index, pair: pair, input: scoring.frame(images.source),
                           target: scoring.frame(images.target), bitDepth: images.bitDepth)
    }

    func restore(_ d: DecodedPair, imageProgress: (@Sendable (Int, String, DeblurProgress) -> Void)?) throws -> RestoredPair {
        var outputs: [(method: String, kind: MethodKind, image: RGBImage, seconds: Double)] = []
        for method in methods {
            let name = method.name, index = d.index
            let start = DispatchTime.now().uptimeNanoseconds
            let report: DeblurProgressHandler? = imageProgress.map { forward in { @Sendable p in forward(index, name, p) } }
            let output = try PairFailure.naming(d.pair, .restoring(method: name)) {
                try method.restore(d.input, pair: d.pair, progress: report)
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            // Checked here, before scoring, so that a wrong size stops the run at the method that made it.
            guard output.width == d.target.width, output.height == d.target.height else {
                throw EvaluationError.sizeMismatch(pair: d.pair.name, method: method.name,
                                                   output: "\(output.width)x\(output.height)",
                                                   target: "\(d.target.width)x\(d.target.height)")
            }
            outputs.append((name, method.kind, scoring.held(output, bitDepth: d.bitDepth), seconds))
        }
        return RestoredPair(index: d.index, pair: d.pair, input: d.input, target: d.target, bitDepth: d.bitDepth,
                            outputs: outputs)
    }

    public static func summarize(method: any RestorationMethod, results: [PairResult]) -> MethodSummary {
        summarize(name: method.name, complexity: method.complexity, results: results)
    }

    /// A method's row of the table: the means of its per-pair results (LPIPS only when every pair has one).
    public static func summarize(name: String, complexity: ModelCost?, results: [PairResult]) -> MethodSummary {
        let n = Double(results.count)
        func mean(_ f: (MetricReport) -> Double) -> Double { results.reduce(0) { $0 + f($1.scores) } / n }
        let lpips: Double? = results.allSatisfy { $0.scores.lpips != nil } ? mean { $0.lpips! } : nil
        return MethodSummary(name: name, pairs: results.count, psnr: mean(\.psnr), ssim: mean(\.ssim),
                             ssimGaussian: mean(\.ssimGaussian), mae: mean(\.mae), lpips: lpips,
                             complexity: complexity,
                             secondsPerImage: results.reduce(0) { $0 + $1.seconds } / n)
    }
}
