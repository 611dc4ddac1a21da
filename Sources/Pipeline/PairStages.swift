import Alignment
import DatasetBuilder
import Evaluation
import Foundation
import Imaging
import Metrics
import PairVocabulary
import ThreadSupport

/// One unit of `rigctl process` work.
public enum PairWork: Sendable, Equatable {
    /// A catalogued capture without a pair: decode, align, catalogue, deblur and score.
    case capture(CaptureID)
    /// A captured pair aligned again (`--realign`).
    case realign(pairID: PairID)
    /// A catalogued pair that lacks scores (the model's, or LPIPS).
    case scores(pairID: PairID)

    /// How errors and the display name it.
    var subject: String {
        switch self {
        case .capture(let id): "capture \(id)"
        case .realign(let id), .scores(let id): "pair \(id)"
        }
    }
}

/// A failure of one unit of work, naming the capture or pair and the stage (a decoder's or the aligner's own
/// message often names neither).
public struct PairProcessingError: Error, CustomStringConvertible {
    public var subject: String
    public var stage: String
    public var underlying: any Error

    public var description: String { "\(subject), \(stage): \(underlying)" }

    static func naming<T>(_ work: PairWork, _ stage: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as PairProcessingError {
            throw error
        } catch let failure as PairFailure {
            throw failure  // the scorer's: it names the pair and the method already
        } catch {
            throw PairProcessingError(subject: work.subject, stage: stage, underlying: error)
        }
    }
}

/// A scratch folder that is removed once nothing refers to it, whichever thread lets go of it last (a pair dropped
/// between two stages on a stop included).
final class ScratchFolder: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("rigctl-pair-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// A unit of work between the stages: what each stage found, and the first failure (after which the later stages
/// pass it on untouched, and the committing stage reports it).
struct PairInFlight: Sendable {
    var work: PairWork
    var timings: [String: Double] = [:]
    var failure: (any Error)?

    // Captures (new or aligned again).
    var captureID: CaptureID = 0
    var replacing: PairDetail?
    var calibration = AlignmentCalibration()
    /// The calibration given for this run, to be recorded with a capture that has none (a write, so it waits for
    /// the committing stage; the one-by-one run makes it before decoding, so it is made even when decoding fails).
    var calibrationToRecord: AlignmentCalibration?
    var name = ""
    var source: RGBImage?
    var target: RGBImage?
    var alignment: AlignmentResult?
    /// The aligned pair as it is stored: display-encoded, 16 bits, and its PNG files in `scratch`.
    var stored: PairImages?
    var scratch: ScratchFolder?

    // Catalogued pairs to score.
    var pair: PairDetail?

    /// The methods' outputs and scores computed before the committing stage, and the seconds that took.
    var ahead: ScoresAhead?
    var aheadSeconds = 0.0

    init(_ work: PairWork) { self.work = work }

    mutating func timed<T>(_ stage: String, _ body: () throws -> T) rethrows -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { timings[stage, default: 0] += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        return try body()
    }

    /// Runs a stage unless an earlier one failed; its error is kept, named by the work and `stage`.
    mutating func step(_ stage: String, _ body: (inout PairInFlight) throws -> Void) {
        guard failure == nil else { return }
        do {
            try PairProcessingError.naming(work, stage) { try body(&self) }
        } catch {
            failure = error
        }
    }
}

extension PairProcessor {
    /// Does `works` in order, handing each outcome (or failure) to `report` on the calling thread as soon as it is
    /// done, until they are all done or `isCancelled` says stop. Every catalogue write is made on the calling
    /// thread, in the order of `works`, so the catalogue ends up exactly as after the one-by-one run.
    ///
    /// `overlapped` (the default) runs three stages on threads of their own across successive works (a
    /// `StageChain`): reading and decoding; aligning and encoding the aligned pair; running the model and
    /// computing the scores (`PairScorer.computeAhead`). The calling thread catalogues each pair and records its
    /// scores, taking the precomputed work wherever the catalogue then calls for exactly that work. At most one
    /// work waits between two stages. On a stop, works already read ahead are dropped without a trace; they stay
    /// in the catalogue's backlog.
    public func run(_ works: [PairWork], overlapped: Bool = true, isCancelled: @escaping @Sendable () -> Bool = { false },
                    starting: (PairWork) -> Void = { _ in },
                    report: (PairWork, Result<PairOutcome, Error>) -> Void) {
        guard !works.isEmpty else { return }
        guard overlapped else {
            for work in works where !isCancelled() {
                starting(work)
                var item = PairInFlight(work)
                read(&item)
                alignAndEncode(&item)
                report(work, Result { try commit(item) })
            }
            return
        }
        do {
            let chain = try StageChain<PairInFlight>.start(name: "process-read", inputs: works, isCancelled: isCancelled) {
                [self] _, work in
                var item = PairInFlight(work)
                read(&item)
                return (item, true)
            }
            .then(name: "process-align", isCancelled: isCancelled) { [self] (item: PairInFlight) in
                var item = item
                alignAndEncode(&item)
                return (item, true)
            }
            .then(name: "process-score", isCancelled: isCancelled) { [self] (item: PairInFlight) in
                var item = item
                computeAhead(&item)
                return (item, true)
            }
            defer { chain.finish() }
            while let item = chain.receive() {
                guard !isCancelled() else { break }
                starting(item.work)
                report(item.work, Result { try commit(item) })
            }
        } catch {
            // No thread could be started: the one-by-one run needs none.
            run(Array(works), overlapped: false, isCancelled: isCancelled, starting: starting, report: report)
        }
    }

    /// The first stage: the catalogue's records of the work (reads only) and the decoded originals, or the stored
    /// images of a pair to score.
    func read(_ item: inout PairInFlight) {
        switch item.work {
        case .capture(let id):
            item.captureID = id
            readCapture(&item)
        case .realign(let pairID):
            item.step("reading the pair") { item in
                let detail = try dataset.pair(id: pairID)
                guard let captureID = detail.capture?.id else { throw PipelineError.notCaptured(pairID: pairID) }
                item.captureID = captureID
                item.replacing = detail
            }
            readCapture(&item)
        case .scores(let pairID):
            item.step("reading the stored images") { item in
                let detail = try dataset.pair(id: pairID)
                item.pair = detail
                item.stored = try scorer.images(of: detail)
            }
        }
    }

    func readCapture(_ item: inout PairInFlight) {
        var shots: (FileInfo, FileInfo)?
        item.step("reading the capture") { item in
            guard let capture = try dataset.capture(id: item.captureID),
                  let sourceShot = capture.shot(.source), let targetShot = capture.shot(.target) else {
                throw PipelineError.missingCapture(item.captureID)
            }
            shots = (sourceShot.file, targetShot.file)
            let recorded = try dataset.captureProcessing(id: item.captureID)
            if let given = options.calibration {
                item.calibration = given
                if recorded.calibration == nil { item.calibrationToRecord = given }
            } else if let taken = recorded.calibration {
                item.calibration = taken
            }
            // Derived from the captures alone, which processing never changes, so it can be read ahead.
            if let replacing = item.replacing {
                item.name = replacing.name
            } else {
                guard let next = try dataset.pairName(forCapture: item.captureID) else {
                    throw PipelineError.missingCapture(item.captureID)
                }
                item.name = next
            }
        }
        item.step("decoding the originals") { item in
            guard let (sourceFile, targetFile) = shots else { return }
            let demosaic = options.demosaic
            let (source, target) = try item.timed("decode") {
                (try ImageFile.read(dataset.url(of: sourceFile), demosaic: demosaic),
                 try ImageFile.read(dataset.url(of: targetFile), demosaic: demosaic))
            }
            item.source = source
            item.target = target
        }
    }

    /// The second stage: alignment, and the aligned pair quantised and encoded as it will be stored. A rejected
    /// pair keeps its unaligned images, so that a person can see why.
    func alignAndEncode(_ item: inout PairInFlight) {
        if case .scores = item.work { return }
        item.step("aligning") { item in
            guard let source = item.source, let target = item.target else { return }
            let calibration = item.calibration, aligner = options.aligner
            item.alignment = try item.timed("align") {
                try Aligner(aligner).align(source: source, target: target, calibration: calibration)
            }
        }
        item.step("encoding the aligned pair") { item in
            guard let result = item.alignment, let source = item.source, let target = item.target else { return }
            let scratch = try ScratchFolder()
            item.scratch = scratch
            // Pairs are stored display-encoded (sRGB) at 16 bits, as the networks and metrics take them.
            item.stored = try item.timed("store") {
                let a = PairScoring.quantised(result.alignedSource ?? source, bitDepth: 16)
                let b = PairScoring.quantised(result.alignedTarget ?? target, bitDepth: 16)
                try PNGFile.write(a, to: scratch.url.appendingPathComponent("source.png"), bitDepth: 16, compressionLevel: 3)
                try PNGFile.write(b, to: scratch.url.appendingPathComponent("target.png"), bitDepth: 16, compressionLevel: 3)
                return PairImages(source: a, target: b, bitDepth: 16)
            }
            // Only what the later stages use is kept.
            item.source = nil
            item.target = nil
            item.alignment?.alignedSource = nil
            item.alignment?.alignedTarget = nil
        }
    }

    /// The third stage: the model's output and every method's scores, nothing written.
    func computeAhead(_ item: inout PairInFlight) {
        guard item.failure == nil, let images = item.stored else { return }
        let start = DispatchTime.now().uptimeNanoseconds
        switch item.work {
        case .capture, .realign:
            guard item.alignment?.verdict != .rejected else { return }
            // Not catalogued yet as this pair (or aligned anew): every method runs.
            item.ahead = scorer.computeAhead(pairID: nil, images: images, methods: methods, pairName: item.name)
        case .scores(let pairID):
            guard let detail = item.pair else { return }
            item.ahead = scorer.computeAhead(pairID: pairID, images: images, methods: methods, pairName: detail.name)
        }
        item.aheadSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// The last stage, on the calling thread: every catalogue write of the work, in the one-by-one run's order.
    func commit(_ item: PairInFlight) throws -> PairOutcome {
        var item = item
        if let calibration = item.calibrationToRecord {
            try PairProcessingError.naming(item.work, "recording the calibration") {
                try dataset.recordCalibration(calibration, forCapture: item.captureID)
            }
        }
        if let failure = item.failure { throw failure }
        switch item.work {
        case .capture, .realign: return try commitCapture(&item)
        case .scores(let pairID): return try commitScores(item, pairID: pairID)
        }
    }

    /// The alignment's verdict, and a reason more when the capture's skew exceeds its rig file's `maxSkew`: an
    /// accepted pair then goes to review (a person decides whether anything moved between the exposures).
    static func judgingSkew(_ verdict: Verdict, _ reasons: [String], capture: CaptureProcessing) -> (Verdict, [String]) {
        guard let limit = capture.maxSkew, let skew = capture.skew, abs(skew) > limit else { return (verdict, reasons) }
        let reason = String(format: "skew %.3f ms exceeds the rig file's maxSkew of %.3f ms", skew * 1000, limit * 1000)
        return (verdict == .accepted ? .review : verdict, reasons + [reason])
    }

    private func commitCapture(_ item: inout PairInFlight) throws -> PairOutcome {
        guard let result = item.alignment, let images = item.stored, let scratch = item.scratch else {
            throw PipelineError.missingCapture(item.captureID)
        }
        let work = item.work, captureID = item.captureID, replacing = item.replacing, name = item.name
        let calibration = item.calibration
        let capture = try PairProcessingError.naming(work, "reading the capture") { try dataset.captureProcessing(id: captureID) }
        let (verdict, reasons) = Self.judgingSkew(result.verdict, result.reasons, capture: capture)
        let pairID = try PairProcessingError.naming(work, "storing the aligned pair") {
            try item.timed("store") { () throws -> PairID in
                // Re-read here: a scene's side follows the pairs catalogued before this one.
                let recorded = try dataset.captureProcessing(id: captureID)
                let split: Split = verdict == .rejected ? .unused : (options.split ?? recorded.split ?? recorded.sceneSplit ?? .unused)
                let input = PairInput(captureID: captureID, name: name, source: scratch.url.appendingPathComponent("source.png"),
                                      target: scratch.url.appendingPathComponent("target.png"),
                                      homography: result.homography, colour: result.colour?.fit, crop: result.crop,
                                      quality: result.quality.figures, verdict: verdict, reasons: reasons,
                                      split: split, origin: replacing?.origin ?? "capture", calibration: calibration)
                return try replacing.map { try dataset.replaceAlignment(pairID: $0.id, with: input).id } ?? dataset.addPair(input).id
            }
        }
        item.scratch = nil
        let detail = try PairProcessingError.naming(work, "reading the stored pair") { try dataset.pair(id: pairID) }
        var outcome = PairOutcome(captureID: captureID, pairID: pairID, scene: detail.scene, split: detail.split, verdict: verdict,
                                  reasons: reasons, input: nil, deblurred: nil, modelName: model?.name,
                                  timings: item.timings)
        guard verdict != .rejected else { return outcome }
        // Computed ahead under this pair's name; a pair already catalogued under another name is scored afresh.
        let ahead = detail.name == name ? item.ahead : nil
        try scoreUnderEveryProtocol(&outcome, work: work, pairID: pairID, images: images, pairName: detail.name,
                                    ahead: ahead, aheadSeconds: ahead == nil ? 0 : item.aheadSeconds)
        return outcome
    }

    /// Records the pair's scores under each protocol in turn. What was computed ahead is the first protocol's; the
    /// model runs once, so the later protocols score the output the first one stored.
    private func scoreUnderEveryProtocol(_ outcome: inout PairOutcome, work: PairWork, pairID: PairID, images: PairImages,
                                         pairName: String, ahead: ScoresAhead?, aheadSeconds: Double) throws {
        for (index, scorer) in scorers.enumerated() {
            let start = DispatchTime.now().uptimeNanoseconds
            let scores = try PairProcessingError.naming(work, "scoring (\(scorer.named))") {
                try scorer.score(pairID: pairID, images: images, methods: methods, pairName: pairName,
                                 ahead: index == 0 ? ahead : nil)
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 + (index == 0 ? aheadSeconds : 0)
            outcome.apply(scores, under: scorer.named, totalSeconds: seconds)
        }
    }

    private func commitScores(_ item: PairInFlight, pairID: PairID) throws -> PairOutcome {
        guard let detail = item.pair, let images = item.stored else { throw DatasetError.notFound(what: "pair", id: "\(pairID)") }
        var outcome = PairOutcome(captureID: detail.capture?.id, pairID: pairID, scene: detail.scene, split: detail.split,
                                  verdict: detail.verdict, reasons: detail.reasons, input: nil, deblurred: nil,
                                  modelName: model?.name, timings: [:])
        try scoreUnderEveryProtocol(&outcome, work: item.work, pairID: pairID, images: images, pairName: detail.name,
                                    ahead: item.ahead, aheadSeconds: item.aheadSeconds)
        return outcome
    }
}
