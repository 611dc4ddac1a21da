import DatasetBuilder
import Foundation
import PairVocabulary
import Metrics
import Pipeline
import Rig

// What the `--json` flags print. These structs are the scripting contract, documented key by key in docs/cli-json.md:
// keep them apart from the library types they are filled from, so that a change inside a module does not silently
// change what a script reads. Every key is always present; a value that is not known is null.

/// `rigctl model list --json`.
struct ModelListJSON: Encodable {
    struct Model: Encodable {
        var name: String
        var path: String
        var bytes: Int64
        /// deblurring, lpips or unknown (`InstalledModels.Kind`).
        var kind: String
    }
    var directory: String
    var models: [Model]
}

/// `rigctl model info --json`: snake_case keys, as documented since the command's first version.
struct ModelInfoJSON: Encodable {
    var model: String
    var architecture = "ifan"
    var iacIterations: Int
    var width: Int
    var height: Int
    var parameters: Int
    var macsPtflops: Int
    var macs: Int
    var macsIAC: Int

    enum CodingKeys: String, CodingKey {
        case model, architecture, iacIterations = "iac_iterations", width, height, parameters
        case macsPtflops = "macs_ptflops", macs, macsIAC = "macs_iac"
    }
}

/// `rigctl dataset verify --json`.
struct VerifyJSON: Encodable {
    struct Mismatch: Encodable {
        var path: String
        var expected: String
        var actual: String
    }
    var consistent: Bool
    var hashesChecked: Bool
    var checkedFiles: Int
    var checkedBytes: Int64
    var missing: [String]
    var mismatched: [Mismatch]
    var orphans: [String]
    var unsafe: [String]
    var pending: [String]
    var databaseProblems: [String]

    init(_ r: VerifyReport, hashes: Bool) {
        consistent = r.isConsistent
        hashesChecked = hashes
        checkedFiles = r.checkedFiles
        checkedBytes = r.checkedBytes
        missing = r.missing
        mismatched = r.mismatched.map { Mismatch(path: $0.path, expected: $0.expected, actual: $0.actual) }
        orphans = r.orphans
        unsafe = r.unsafe
        pending = r.pending
        databaseProblems = r.databaseProblems
    }
}

/// `rigctl import --json`: the pairs by name.
struct ImportJSON: Encodable {
    var dataset: String
    var added: [String]
    var alreadyPresent: [String]
    var mismatches: [String]
    var refused: [String]
    var skipped: [String]
    /// Pairs whose records came from a rigctl export's manifest.json.
    var fromManifest: Int
    var manifestNote: String?

    init(_ r: ImportReport, dataset: URL) {
        self.dataset = dataset.path
        added = r.added
        alreadyPresent = r.alreadyPresent
        mismatches = r.mismatches
        refused = r.refused
        skipped = r.skipped
        fromManifest = r.fromManifest
        manifestNote = r.manifestNote
    }
}

/// `rigctl export --json`.
struct ExportJSON: Encodable {
    var folder: String
    var pairs: Int
    var files: [String]

    init(_ r: ExportReport) {
        folder = r.folder.path
        pairs = r.pairs
        files = r.files
    }
}

/// One set of scores; PSNR is null when the images are identical (infinite), as JSON has no infinity.
struct ScoresJSON: Encodable {
    var psnr: Double?
    var ssim: Double
    var ssimGaussian: Double
    var mae: Double
    var lpips: Double?

    init(_ r: MetricReport) {
        psnr = r.psnr.isFinite ? r.psnr : nil
        ssim = r.ssim
        ssimGaussian = r.ssimGaussian
        mae = r.mae
        lpips = r.lpips
    }
}

/// One pair as `capture --dataset` and `process` finished it.
struct PairOutcomeJSON: Encodable {
    var captureID: Int64
    var pairID: Int64
    var scene: String
    var verdict: String
    var reasons: [String]
    var input: ScoresJSON?
    var model: String?
    var deblurred: ScoresJSON?
    /// The protocol `input` and `deblurred` follow (the dataset's first); nil for a rejected pair, not scored.
    var `protocol`: String?
    /// The scores under every protocol the dataset is scored in, the first repeating `input` and `deblurred`.
    var protocols: [ProtocolScoresJSON]
    /// Seconds per stage (decode, align, store, deblur, score).
    var seconds: [String: Double]

    struct ProtocolScoresJSON: Encodable {
        var `protocol`: String
        var input: ScoresJSON?
        var deblurred: ScoresJSON?
    }

    init(_ o: PairOutcome) {
        // 0 for an imported pair, which has no capture (as documented).
        captureID = o.captureID?.rawValue ?? 0
        pairID = o.pairID.rawValue
        scene = o.scene
        verdict = o.verdict.rawValue
        reasons = o.reasons
        input = o.input.map(ScoresJSON.init)
        model = o.deblurred == nil ? nil : o.modelName
        deblurred = o.deblurred.map(ScoresJSON.init)
        `protocol` = o.byProtocol.first?.named.rawValue
        protocols = o.byProtocol.map {
            ProtocolScoresJSON(protocol: $0.named.rawValue, input: $0.input.map(ScoresJSON.init),
                               deblurred: $0.deblurred.map(ScoresJSON.init))
        }
        seconds = o.timings
    }
}

/// `rigctl capture --dataset D --json` and `rigctl process --json`: what was done, what failed, what is left.
struct PipelineRunJSON: Encodable {
    var dataset: String
    var pairs: [PairOutcomeJSON]
    /// Pairs by verdict: accepted, review, rejected (each key always present).
    var verdicts: [String: Int]
    var failures: Int
    /// Captures catalogued but not aligned yet (`rigctl process` finishes them).
    var waitingCaptures: Int
    /// Stopped by Ctrl-C or SIGTERM (the exit status is then 130).
    var interrupted: Bool
    var seconds: Double

    init(dataset: URL, outcomes: [PairOutcome], failures: Int, waiting: Int, interrupted: Bool, seconds: Double) {
        self.dataset = dataset.path
        pairs = outcomes.map(PairOutcomeJSON.init)
        var counts = Dictionary(uniqueKeysWithValues: Verdict.allCases.map { ($0.rawValue, 0) })
        for o in outcomes { counts[o.verdict.rawValue, default: 0] += 1 }
        verdicts = counts
        self.failures = failures
        waitingCaptures = waiting
        self.interrupted = interrupted
        self.seconds = seconds
    }
}

/// `rigctl capture --out DIR --json`: the files of each pair.
struct FileCaptureJSON: Encodable {
    struct Pair: Encodable {
        var index: Int
        var shallow: String
        var deep: String
        var sidecar: String
        /// How the pair was fired: software, external or trigger-box.
        var trigger: TriggerMode
        /// Seconds between the two triggers; null for an external release or a trigger box.
        var triggerSkew: Double?
        var arrivalSkew: Double
    }
    var folder: String
    var pairs: [Pair]
    var interrupted: Bool
    var seconds: Double
}

extension FileCaptureJSON.Pair {
    init(_ p: CapturedPair) {
        index = p.index
        shallow = p.url(.shallow).path
        deep = p.url(.deep).path
        sidecar = p.sidecarURL.path
        trigger = p.trigger
        triggerSkew = p.triggerSkew
        arrivalSkew = p.arrivalSkew
    }
}

/// A line for a person on standard error, so that standard output keeps only the command's result.
func note(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
