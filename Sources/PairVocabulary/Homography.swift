import Foundation

/// A plane projective map, 3x3 row-major.
///
/// The one direction used everywhere (alignment reports, the catalogue, exported manifests, calibration files):
/// **source -> target**. It maps a pixel of the source camera's original frame (x right, y down, origin at the
/// centre of the top-left pixel) to where the same scene point lies in the target camera's original frame. The
/// aligned target is made by sampling the original target at `H(x, y)` for every source pixel `(x, y)`; an
/// exported pair's pixel `(u, v)` is source pixel `(u + crop.x, v + crop.y)`.
public struct Homography: Sendable, Equatable, Codable, CustomStringConvertible {
    /// Row-major entries, normalised so that the last one is 1 where possible.
    public private(set) var m: [Double]

    public init(_ m: [Double]) throws {
        guard m.count == 9, m.allSatisfy(\.isFinite) else {
            throw VocabularyError.invalidHomography("a homography needs 9 finite numbers, got \(m)")
        }
        self.m = m
        normalise()
        guard abs(determinant) > 1e-12 else {
            throw VocabularyError.invalidHomography("the homography \(m) is singular")
        }
    }

    /// For maps built from numbers known to be valid (no check, normalised).
    package init(unchecked m: [Double]) {
        self.m = m
        normalise()
    }

    public static let identity = Homography(unchecked: [1, 0, 0, 0, 1, 0, 0, 0, 1])

    public static func translation(_ dx: Double, _ dy: Double) -> Homography {
        Homography(unchecked: [1, 0, dx, 0, 1, dy, 0, 0, 1])
    }

    /// x' = s x + t, y' = s y + u.
    public static func scaleTranslation(_ s: Double, _ tx: Double, _ ty: Double) -> Homography {
        Homography(unchecked: [s, 0, tx, 0, s, ty, 0, 0, 1])
    }

    /// A rotation by `degrees` about `(cx, cy)` with scale `s`, then a translation.
    public static func similarity(degrees: Double, scale s: Double, centre: (Double, Double),
                                  translation: (Double, Double)) -> Homography {
        let a = degrees * .pi / 180
        let c = s * cos(a), sn = s * sin(a)
        let (cx, cy) = centre
        return Homography(unchecked: [c, -sn, cx - c * cx + sn * cy + translation.0,
                                      sn, c, cy - sn * cx - c * cy + translation.1,
                                      0, 0, 1])
    }

    private mutating func normalise() {
        let d = m[8]
        if abs(d) > 1e-12 { m = m.map { $0 / d } }
    }

    public var determinant: Double {
        m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6])
    }

    public var inverse: Homography? {
        let d = determinant
        guard abs(d) > 1e-15, d.isFinite else { return nil }
        let a = m
        let inv = [
            a[4] * a[8] - a[5] * a[7], a[2] * a[7] - a[1] * a[8], a[1] * a[5] - a[2] * a[4],
            a[5] * a[6] - a[3] * a[8], a[0] * a[8] - a[2] * a[6], a[2] * a[3] - a[0] * a[5],
            a[3] * a[7] - a[4] * a[6], a[1] * a[6] - a[0] * a[7], a[0] * a[4] - a[1] * a[3],
        ].map { $0 / d }
        return Homography(unchecked: inv)
    }

    /// `(a * b)(p) = a(b(p))`.
    public static func * (a: Homography, b: Homography) -> Homography {
        var r = [Double](repeating: 0, count: 9)
        for i in 0..<3 {
            for j in 0..<3 {
                r[i * 3 + j] = a.m[i * 3] * b.m[j] + a.m[i * 3 + 1] * b.m[3 + j] + a.m[i * 3 + 2] * b.m[6 + j]
            }
        }
        return Homography(unchecked: r)
    }

    public func apply(_ x: Double, _ y: Double) -> (x: Double, y: Double) {
        let w = m[6] * x + m[7] * y + m[8]
        return ((m[0] * x + m[1] * y + m[2]) / w, (m[3] * x + m[4] * y + m[5]) / w)
    }

    public var isFinite: Bool { m.allSatisfy(\.isFinite) }

    /// The largest distance between where the two maps send the corners of a `width` x `height` image: the usual
    /// accuracy figure of a recovered homography.
    public func worstCornerError(to other: Homography, width: Int, height: Int) -> Double {
        let corners = [(0.0, 0.0), (Double(width - 1), 0.0), (0.0, Double(height - 1)),
                       (Double(width - 1), Double(height - 1))]
        return corners.map { c in
            let a = apply(c.0, c.1), b = other.apply(c.0, c.1)
            return hypot(a.x - b.x, a.y - b.y)
        }.max() ?? .infinity
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode([[m[0], m[1], m[2]], [m[3], m[4], m[5]], [m[6], m[7], m[8]]])
    }

    /// Accepts 3 rows of 3 or 9 numbers row-major.
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let rows = try? c.decode([[Double]].self) {
            guard rows.count == 3, rows.allSatisfy({ $0.count == 3 }) else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "a homography has 3 rows of 3 numbers")
            }
            try self.init(rows.flatMap { $0 })
        } else {
            let flat = try c.decode([Double].self)
            do { try self.init(flat) } catch {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "\(error)")
            }
        }
    }

    public var description: String {
        "[" + m.map { String(format: "%.8g", $0) }.joined(separator: ", ") + "]"
    }
}

