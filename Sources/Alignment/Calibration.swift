import Foundation
import PairVocabulary

extension LensDistortion {
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

extension AlignmentCalibration {
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
            throw AlignmentError.badCalibration(path: path, detail: error.located)
        } catch {
            throw AlignmentError.badCalibration(path: path, detail: "\(error)")
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
