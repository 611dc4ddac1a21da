import Foundation
import PairVocabulary

/// The beam splitter's reflected camera sees the scene mirrored; the target image is flipped back before
/// registration (an exact pixel permutation, not a resampling).
public enum Mirror: String, Sendable, Codable {
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
    }

    func validate() throws -> String? {
        if coefficients.isEmpty || coefficients.count > 5 || !coefficients.allSatisfy(\.isFinite) {
            return "distortion needs 1 to 5 finite coefficients (k1, k2, p1, p2, k3)"
        }
        if let f = focalLength, !(f > 0 && f.isFinite) { return "focalLength must be positive" }
        if let c = centre, c.count != 2 || !c.allSatisfy(\.isFinite) { return "centre must be [x, y]" }
        return nil
    }

    /// The model bound to an image size: maps between distorted (file) and undistorted pixel coordinates.
    func bound(width: Int, height: Int) -> BoundDistortion {
        var k = coefficients + [Double](repeating: 0, count: 5 - coefficients.count)
        k = Array(k.prefix(5))
        let f = focalLength ?? 0.5 * hypot(Double(width - 1), Double(height - 1))
        let c = centre ?? [Double(width - 1) / 2, Double(height - 1) / 2]
        return BoundDistortion(k1: k[0], k2: k[1], p1: k[2], p2: k[3], k3: k[4], f: f, cx: c[0], cy: c[1])
    }
}

struct BoundDistortion: Sendable {
    let k1, k2, p1, p2, k3, f, cx, cy: Double

    /// Undistorted pixel -> distorted (file) pixel.
    @inline(__always)
    func distort(_ x: Double, _ y: Double) -> (Double, Double) {
        let xn = (x - cx) / f, yn = (y - cy) / f
        let (xd, yd) = distortNormalised(xn, yn)
        return (xd * f + cx, yd * f + cy)
    }

    @inline(__always)
    func distortNormalised(_ x: Double, _ y: Double) -> (Double, Double) {
        let r2 = x * x + y * y
        let radial = 1 + r2 * (k1 + r2 * (k2 + r2 * k3))
        return (x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x),
                y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y)
    }

    /// Distorted (file) pixel -> undistorted pixel, by fixed-point iteration.
    @inline(__always)
    func undistort(_ x: Double, _ y: Double) -> (Double, Double) {
        let xd = (x - cx) / f, yd = (y - cy) / f
        var xu = xd, yu = yd
        for _ in 0..<20 {
            let r2 = xu * xu + yu * yu
            let radial = 1 + r2 * (k1 + r2 * (k2 + r2 * k3))
            let dx = 2 * p1 * xu * yu + p2 * (r2 + 2 * xu * xu)
            let dy = p1 * (r2 + 2 * yu * yu) + 2 * p2 * xu * yu
            let nx = (xd - dx) / radial, ny = (yd - dy) / radial
            let change = abs(nx - xu) + abs(ny - yu)
            xu = nx
            yu = ny
            if change < 1e-12 { break }
        }
        return (xu * f + cx, yu * f + cy)
    }
}

/// What the rig's calibration says about geometry: read from the optional top-level `"alignment"` object of the
/// rig file (other keys belong to the Rig module and are ignored), or from a file holding just these keys.
public struct AlignmentCalibration: Sendable, Equatable, Codable {
    /// How the target (deep-DOF) image is mirrored relative to the source.
    public var mirror: Mirror
    public var distortion: Distortions?
    /// The rig's usual source -> target map (in the report's convention), used as the coarse estimate.
    public var referenceHomography: Homography?

    public struct Distortions: Sendable, Equatable, Codable {
        public var source: LensDistortion?
        public var target: LensDistortion?
        public init(source: LensDistortion? = nil, target: LensDistortion? = nil) {
            self.source = source
            self.target = target
        }
    }

    public init(mirror: Mirror = .none, distortion: Distortions? = nil, referenceHomography: Homography? = nil) {
        self.mirror = mirror
        self.distortion = distortion
        self.referenceHomography = referenceHomography
    }

    enum CodingKeys: String, CodingKey { case mirror, distortion, referenceHomography }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        mirror = try c.decodeIfPresent(Mirror.self, forKey: .mirror) ?? .none
        distortion = try c.decodeIfPresent(Distortions.self, forKey: .distortion)
        referenceHomography = try c.decodeIfPresent(Homography.self, forKey: .referenceHomography)
    }

    /// Reads a calibration from JSON: the `"alignment"` object if there is one, else the top level.
    public static func decode(_ data: Data, path: String) throws -> AlignmentCalibration {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw AlignmentError.badCalibration(path: path, detail: "not valid JSON (\(error.localizedDescription))")
        }
        guard let top = object as? [String: Any] else {
            throw AlignmentError.badCalibration(path: path, detail: "the top level must be a JSON object")
        }
        let section: Any
        if let a = top["alignment"] {
            guard a is [String: Any] else {
                throw AlignmentError.badCalibration(path: path, detail: "\"alignment\" must be an object")
            }
            section = a
        } else {
            section = top.filter { CodingKeys(rawValue: $0.key) != nil }
        }
        let calibration: AlignmentCalibration
        do {
            let bytes = try JSONSerialization.data(withJSONObject: section)
            calibration = try JSONDecoder().decode(AlignmentCalibration.self, from: bytes)
        } catch let error as DecodingError {
            throw AlignmentError.badCalibration(path: path, detail: describe(error))
        } catch {
            throw AlignmentError.badCalibration(path: path, detail: "\(error)")
        }
        for (name, d) in [("source", calibration.distortion?.source), ("target", calibration.distortion?.target)] {
            if let d, let problem = try d.validate() {
                throw AlignmentError.badCalibration(path: path, detail: "distortion.\(name): \(problem)")
            }
        }
        return calibration
    }

    public static func read(_ url: URL) throws -> AlignmentCalibration {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw AlignmentError.badCalibration(path: url.path, detail: "cannot read the file")
        }
        return try decode(data, path: url.path)
    }
}

func describe(_ error: DecodingError) -> String {
    func path(_ c: DecodingError.Context) -> String {
        let p = c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        return p.isEmpty ? c.debugDescription : "\(p): \(c.debugDescription)"
    }
    switch error {
    case .typeMismatch(_, let c), .valueNotFound(_, let c), .keyNotFound(_, let c), .dataCorrupted(let c):
        return path(c)
    @unknown default:
        return "\(error)"
    }
}
