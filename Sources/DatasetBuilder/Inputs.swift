import Foundation
import PairVocabulary

/// One physical camera, told apart from its twin by the serial number.
public struct CameraIdentity: Sendable, Codable, Hashable {
    public var make: String
    public var model: String
    public var serial: String

    public init(make: String, model: String, serial: String) {
        self.make = make
        self.model = model
        self.serial = serial
    }
}

/// The exposure a shot was taken with, as the camera reported it. Unknown values stay nil.
public struct CameraSettings: Sendable, Codable, Hashable {
    /// f-number, e.g. 1.8.
    public var aperture: Double?
    /// Seconds, e.g. 0.004 for 1/250.
    public var exposureTime: Double?
    public var iso: Int?
    /// Millimetres.
    public var focalLength: Double?
    /// The camera's own clock at the shot (EXIF DateTimeOriginal), UTC.
    public var captureTime: Date?

    public init(aperture: Double? = nil, exposureTime: Double? = nil, iso: Int? = nil, focalLength: Double? = nil,
                captureTime: Date? = nil) {
        self.aperture = aperture
        self.exposureTime = exposureTime
        self.iso = iso
        self.focalLength = focalLength
        self.captureTime = captureTime
    }
}

/// Written through `FiniteFigures`: a crafted non-finite figure is null (and named), never an encoding error.
extension CameraSettings {
    public func encode(to encoder: Encoder) throws {
        var figures = FiniteFigures()
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeFigure(aperture, forKey: .aperture, &figures)
        try c.encodeFigure(exposureTime, forKey: .exposureTime, &figures)
        try c.encodeIfPresent(iso, forKey: .iso)
        try c.encodeFigure(focalLength, forKey: .focalLength, &figures)
        try c.encodeIfPresent(captureTime, forKey: .captureTime)
        try figures.encodeNotes(to: encoder)
    }
}

/// One of the two shots of a capture, as the rig delivered it.
public struct ShotInput: Sendable {
    /// The camera's original file (RAW, JPEG, ...). It is copied into the dataset and never modified.
    public var file: URL
    public var camera: CameraIdentity
    public var settings: CameraSettings
    /// When the file arrived on the host.
    public var arrivalTime: Date?
    /// The shot's other files (the JPEG of a RAW+JPEG shot), copied in and catalogued with the shot.
    public var companions: [URL]

    public init(file: URL, camera: CameraIdentity, settings: CameraSettings, arrivalTime: Date? = nil,
                companions: [URL] = []) {
        self.file = file
        self.camera = camera
        self.settings = settings
        self.arrivalTime = arrivalTime
        self.companions = companions
    }
}

/// Where and when a capture was made, beyond the shots themselves.
public struct SceneInput: Sendable {
    /// The scene's name; pairs of one scene always land on the same side of the train/test split.
    public var name: String
    public var notes: String
    public var tags: [String]

    public init(name: String, notes: String = "", tags: [String] = []) {
        self.name = name
        self.notes = notes
        self.tags = tags
    }
}

/// A simultaneous pair of shots from the rig.
public struct CaptureInput: Sendable {
    public var scene: SceneInput
    /// The rig's name; cameras are attached to it.
    public var rig: String?
    /// The capture session's name (e.g. a date and place); sessions group captures.
    public var session: String?
    public var source: ShotInput
    public var target: ShotInput
    /// When the host fired both cameras.
    public var triggerTime: Date?
    /// Seconds between the two exposures as measured (target minus source).
    public var skew: Double?
    /// The rig file's alignment calibration the capture was taken with; nil when unknown.
    public var calibration: AlignmentCalibration?
    /// The split the capture asked for; nil leaves it to the capture's scene.
    public var split: Split?
    /// How the cameras were fired (software trigger, trigger box, external release); nil when unknown.
    public var trigger: TriggerMode?
    /// The largest skew the rig file allows (seconds); a pair whose skew exceeds it goes to review. nil: no limit.
    public var maxSkew: Double?

    public init(scene: SceneInput, rig: String? = nil, session: String? = nil, source: ShotInput, target: ShotInput,
                triggerTime: Date? = nil, skew: Double? = nil, calibration: AlignmentCalibration? = nil, split: Split? = nil,
                trigger: TriggerMode? = nil, maxSkew: Double? = nil) {
        self.trigger = trigger
        self.maxSkew = maxSkew
        self.scene = scene
        self.rig = rig
        self.session = session
        self.source = source
        self.target = target
        self.triggerTime = triggerTime
        self.skew = skew
        self.calibration = calibration
        self.split = split
    }
}

/// An aligned pair as the alignment step produced it.
public struct PairInput: Sendable {
    /// The capture it was aligned from; nil for pairs imported from existing sets.
    public var captureID: CaptureID?
    /// The scene, used when there is no capture (a capture brings its own scene).
    public var scene: SceneInput?
    /// A human-readable name (the original file stem for imports).
    public var name: String
    /// Aligned, cropped source (defocused) image, usually PNG.
    public var source: URL
    /// Aligned, cropped target (all-in-focus) image.
    public var target: URL
    /// Dual-pixel left and right views of the source (DPDD); nil elsewhere.
    public var left: URL?
    public var right: URL?
    /// Source -> target in the cameras' original frames (see `Homography`); nil when unknown (imports).
    public var homography: Homography?
    public var colour: ColourFit?
    public var crop: CropRect?
    /// Named quality figures (e.g. "ecc": 0.98, "sharpnessRatio": 3.1).
    public var quality: QualityFigures
    public var verdict: Verdict
    /// Why the verdict was reached (each failed or borderline check).
    public var reasons: [String]
    public var split: Split
    /// Where the pair came from, e.g. "import:realdof:source/0001.png"; free text.
    public var origin: String
    /// The alignment calibration the verdict was reached with; nil when unknown or not aligned here.
    public var calibration: AlignmentCalibration?
    /// For a pair without a capture: what tells it apart from another pair with the same images (a rigctl export's
    /// pair key), so that two such pairs of one export stay two. Nil: the images alone identify an imported pair.
    public var identity: String?
    /// For a pair imported from a rigctl export: the cameras and files that export recorded, kept for re-export.
    public var provenance: PairProvenance?

    public init(captureID: CaptureID? = nil, scene: SceneInput? = nil, name: String, source: URL, target: URL,
                left: URL? = nil, right: URL? = nil, homography: Homography? = nil, colour: ColourFit? = nil,
                crop: CropRect? = nil, quality: QualityFigures = [:], verdict: Verdict, reasons: [String] = [],
                split: Split = .unused, origin: String = "", calibration: AlignmentCalibration? = nil) {
        self.calibration = calibration
        self.captureID = captureID
        self.scene = scene
        self.name = name
        self.source = source
        self.target = target
        self.left = left
        self.right = right
        self.homography = homography
        self.colour = colour
        self.crop = crop
        self.quality = quality
        self.verdict = verdict
        self.reasons = reasons
        self.split = split
        self.origin = origin
    }
}

/// A deblurring network as evaluated on the dataset, or a baseline without weights (the input itself).
public struct ModelInput: Sendable {
    public var name: String
    /// The weights file; copied into the dataset so that results stay reproducible. Nil for a baseline.
    public var weights: URL?
    /// Parameters and multiply-accumulates (the catalogue keeps both counts; the MACs are at 1280x720).
    public var cost: ModelCost?
    public var notes: String

    public init(name: String, weights: URL?, cost: ModelCost? = nil, notes: String = "") {
        self.name = name
        self.weights = weights
        self.cost = cost
        self.notes = notes
    }
}

/// Scores of one model on one pair.
public struct EvaluationInput: Sendable {
    public var pairID: PairID
    public var modelID: Int64
    public var psnr: Double
    /// SSIM as scikit-image computes it (uniform 7x7 window, mean over RGB), the IFAN paper's figure.
    public var ssim: Double
    /// SSIM as Wang et al. 2004 and RealBlur compute it (11x11 Gaussian, sigma 1.5, mean over RGB).
    public var ssimGaussian: Double?
    public var mae: Double?
    public var lpips: Double?
    /// Seconds for the inference.
    public var seconds: Double?
    /// The model's output image; copied into the dataset when given.
    public var output: URL?
    /// An output already in the catalogue (the same weights' output reused), instead of `output`.
    public var outputFileID: Int64?
    /// How the scores were computed. Nil: the capture pipeline's protocol (whole image, 16-bit, scikit-image
    /// SSIM, LPIPS v0.1 alex when an LPIPS score is given).
    public var scoreProtocol: ScoreProtocol?
    /// Why a score is missing, by column name (e.g. "lpips": "LPIPS weights not installed").
    public var missing: [String: String] = [:]

    /// The protocol recorded with the row.
    public var effectiveProtocol: ScoreProtocol {
        scoreProtocol ?? ScoreProtocol(framing: .whole, bitDepth: 16, lpips: lpips == nil ? nil : ScoreProtocol.lpipsV01Alex)
    }

    public init(pairID: PairID, modelID: Int64, psnr: Double, ssim: Double, ssimGaussian: Double? = nil,
                mae: Double? = nil, lpips: Double? = nil, seconds: Double? = nil, output: URL? = nil,
                outputFileID: Int64? = nil, scoreProtocol: ScoreProtocol? = nil, missing: [String: String] = [:]) {
        self.outputFileID = outputFileID
        self.scoreProtocol = scoreProtocol
        self.missing = missing
        self.pairID = pairID
        self.modelID = modelID
        self.psnr = psnr
        self.ssim = ssim
        self.ssimGaussian = ssimGaussian
        self.mae = mae
        self.lpips = lpips
        self.seconds = seconds
        self.output = output
    }
}
