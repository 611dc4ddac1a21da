import Foundation

/// The beam splitter's reflected camera sees the scene mirrored; the target image is flipped back before
/// registration (an exact pixel permutation, not a resampling).
public enum Mirror: String, Sendable, Codable, CaseIterable {
    case none, horizontal, vertical
}

/// Brown-Conrady lens distortion of one camera (OpenCV's coefficient order k1, k2, p1, p2, k3), in coordinates
/// normalised by `focalLength` pixels about `centre`.
public struct LensDistortion: Sendable, Equatable, Codable {
    public var coefficients: [Double]
    /// Pixels; nil means half the image diagonal, so that the corners sit at normalised radius 1.
    public var focalLength: Double?
    /// Pixels (x, y); nil means the image centre.
    public var centre: [Double]?

    public init(coefficients: [Double], focalLength: Double? = nil, centre: [Double]? = nil) {
        self.coefficients = coefficients
        self.focalLength = focalLength
        self.centre = centre
    }

    /// Either a bare coefficient array or an object with `coefficients`, `focalLength`, `centre`.
    public init(from decoder: Decoder) throws {
        if let c = try? decoder.singleValueContainer(), let array = try? c.decode([Double].self) {
            self.init(coefficients: array)
        } else {
            enum K: String, CodingKey { case coefficients, focalLength, centre }
            let c = try decoder.container(keyedBy: K.self)
            self.init(coefficients: try c.decode([Double].self, forKey: .coefficients),
                      focalLength: try c.decodeIfPresent(Double.self, forKey: .focalLength),
                      centre: try c.decodeIfPresent([Double].self, forKey: .centre))
        }
        if let problem { throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: problem)) }
    }

    /// What makes the model unusable, in words; nil when it is fine.
    public var problem: String? {
        if coefficients.isEmpty || coefficients.count > 5 || !coefficients.allSatisfy(\.isFinite) {
            return "distortion needs 1 to 5 finite coefficients (k1, k2, p1, p2, k3)"
        }
        if let f = focalLength, !(f > 0 && f.isFinite) { return "focalLength must be positive" }
        if let c = centre, c.count != 2 || !c.allSatisfy(\.isFinite) { return "centre must be [x, y]" }
        return nil
    }
}

/// A frame size in pixels, written `[width, height]`.
public struct FrameSize: Sendable, Equatable, Codable {
    public var width: Int
    public var height: Int

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        let pair = try c.decode([Int].self)
        guard pair.count == 2, pair.allSatisfy({ $0 > 0 }) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "a frame size is [width, height], both positive")
        }
        self.init(width: pair[0], height: pair[1])
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode([width, height])
    }
}

/// What the rig's calibration says about geometry: the `"alignment"` object of a rig file, recorded with every
/// capture (so a later `process` aligns it as it was taken) and with every pair aligned under it. Defined here, below
/// the Rig, Alignment and DatasetBuilder modules, so that it crosses their seams as this one value.
public struct AlignmentCalibration: Sendable, Equatable, Codable {
    /// How the target (deep-DOF) image is mirrored relative to the source.
    public var mirror: Mirror
    public var distortion: Distortions?
    /// The rig's usual source -> target map (in the report's convention, mirror included), used as the coarse
    /// estimate instead of a search from scratch.
    public var referenceHomography: Homography?
    /// The frames `referenceHomography` was measured between, when not the images being aligned: `rig init`
    /// measures it on the two live views, which are smaller than the photographs. Nil: the images' own pixels.
    public var referenceFrames: ReferenceFrames?

    public struct Distortions: Sendable, Equatable, Codable {
        public var source: LensDistortion?
        public var target: LensDistortion?
        public init(source: LensDistortion? = nil, target: LensDistortion? = nil) {
            self.source = source
            self.target = target
        }
    }

    public struct ReferenceFrames: Sendable, Equatable, Codable {
        public var source: FrameSize
        public var target: FrameSize
        public init(source: FrameSize, target: FrameSize) {
            self.source = source
            self.target = target
        }
    }

    public init(mirror: Mirror = .none, distortion: Distortions? = nil, referenceHomography: Homography? = nil,
                referenceFrames: ReferenceFrames? = nil) {
        self.mirror = mirror
        self.distortion = distortion
        self.referenceHomography = referenceHomography
        self.referenceFrames = referenceFrames
    }

    public enum CodingKeys: String, CodingKey, CaseIterable { case mirror, distortion, referenceHomography, referenceFrames }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        mirror = try c.decodeIfPresent(Mirror.self, forKey: .mirror) ?? .none
        distortion = try c.decodeIfPresent(Distortions.self, forKey: .distortion)
        referenceHomography = try c.decodeIfPresent(Homography.self, forKey: .referenceHomography)
        referenceFrames = try c.decodeIfPresent(ReferenceFrames.self, forKey: .referenceFrames)
        if referenceFrames != nil && referenceHomography == nil {
            throw DecodingError.dataCorruptedError(forKey: .referenceFrames, in: c,
                                                   debugDescription: "referenceFrames without a referenceHomography")
        }
    }

    /// The reference homography for a `source` x `target` pair of images: as written, or scaled from the frames it
    /// was measured on (pixel centres kept: x' = (x + 0.5) * s - 0.5). Nil when there is none, or when a frame's
    /// shape differs from its image's by more than 2 % (a live view cropped to another aspect ratio, which a
    /// scaling cannot carry over).
    public func reference(source: FrameSize, target: FrameSize) -> Homography? {
        guard let h = referenceHomography else { return nil }
        guard let frames = referenceFrames else { return h }
        func aspect(_ f: FrameSize) -> Double { Double(f.width) / Double(f.height) }
        guard abs(aspect(frames.source) / aspect(source) - 1) <= 0.02, abs(aspect(frames.target) / aspect(target) - 1) <= 0.02
        else { return nil }
        return .scaling(from: frames.target, to: target) * h * .scaling(from: source, to: frames.source)
    }

    /// Reads `canonicalJSON` (or any JSON of the same keys) back.
    public init(canonicalJSON text: String) throws {
        self = try JSONDecoder().decode(AlignmentCalibration.self, from: Data(text.utf8))
    }

    /// Canonical JSON (sorted keys): how the catalogue records a calibration, so that equal calibrations are equal
    /// text. A calibration holds only finite numbers (`Homography` and `LensDistortion` check), so encoding cannot
    /// fail.
    public var canonicalJSON: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

extension Homography {
    /// The splitter's mirror as a map of a `width` x `height` frame onto itself (its own inverse).
    public static func flip(_ mirror: Mirror, width: Int, height: Int) -> Homography {
        switch mirror {
        case .none: .identity
        case .horizontal: Homography(unchecked: [-1, 0, Double(width - 1), 0, 1, 0, 0, 0, 1])
        case .vertical: Homography(unchecked: [1, 0, 0, 0, -1, Double(height - 1), 0, 0, 1])
        }
    }

    /// A frame's pixels onto the same view resampled to another size, pixel centres kept: x' = (x + 0.5) * s - 0.5.
    public static func scaling(from: FrameSize, to: FrameSize) -> Homography {
        let sx = Double(to.width) / Double(from.width), sy = Double(to.height) / Double(from.height)
        return Homography(unchecked: [sx, 0, 0.5 * sx - 0.5, 0, sy, 0.5 * sy - 0.5, 0, 0, 1])
    }
}

extension DecodingError {
    /// "distortion.source: centre must be [x, y]": where in the document, and what, for an error that names the file.
    package var located: String {
        switch self {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .keyNotFound(_, let c), .dataCorrupted(let c):
            let path = c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return path.isEmpty ? c.debugDescription : "\(path): \(c.debugDescription)"
        @unknown default:
            return "\(self)"
        }
    }
}
