import Foundation

/// A plane projective map, 3x3 row-major. In reports it maps a source pixel (x right, y down, origin at the
/// centre of the top-left pixel) to target pixel coordinates.
public struct Homography: Sendable, Equatable, Codable, CustomStringConvertible {
    /// Row-major entries, normalised so that the last one is 1 where possible.
    public private(set) var m: [Double]

    public init(_ m: [Double]) throws {
        guard m.count == 9, m.allSatisfy(\.isFinite) else {
            throw AlignmentError.invalidHomography("a homography needs 9 finite numbers, got \(m)")
        }
        self.m = m
        normalise()
        guard abs(determinant) > 1e-12 else {
            throw AlignmentError.invalidHomography("the homography \(m) is singular")
        }
    }

    init(unchecked m: [Double]) {
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

    mutating func normalise() {
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

/// Solves the symmetric positive definite system A x = b (n x n, row-major) by Cholesky; nil if A is not
/// positive definite. The systems here are at most 8x8, far below where BLAS/LAPACK calls pay off.
func solveSPD(_ a: [Double], _ b: [Double], n: Int) -> [Double]? {
    var l = [Double](repeating: 0, count: n * n)
    for i in 0..<n {
        for j in 0...i {
            var s = a[i * n + j]
            for k in 0..<j { s -= l[i * n + k] * l[j * n + k] }
            if i == j {
                guard s > 1e-300, s.isFinite else { return nil }
                l[i * n + i] = s.squareRoot()
            } else {
                l[i * n + j] = s / l[j * n + j]
            }
        }
    }
    var y = [Double](repeating: 0, count: n)
    for i in 0..<n {
        var s = b[i]
        for k in 0..<i { s -= l[i * n + k] * y[k] }
        y[i] = s / l[i * n + i]
    }
    var x = [Double](repeating: 0, count: n)
    for i in stride(from: n - 1, through: 0, by: -1) {
        var s = y[i]
        for k in (i + 1)..<n { s -= l[k * n + i] * x[k] }
        x[i] = s / l[i * n + i]
    }
    return x
}

/// Solves a general small system by Gaussian elimination with partial pivoting; nil if singular.
func solveGeneral(_ a: [Double], _ b: [Double], n: Int) -> [Double]? {
    var a = a, b = b
    for col in 0..<n {
        var p = col
        for r in col..<n where abs(a[r * n + col]) > abs(a[p * n + col]) { p = r }
        guard abs(a[p * n + col]) > 1e-14 else { return nil }
        if p != col {
            for k in 0..<n { a.swapAt(p * n + k, col * n + k) }
            b.swapAt(p, col)
        }
        for r in (col + 1)..<n {
            let f = a[r * n + col] / a[col * n + col]
            for k in col..<n { a[r * n + k] -= f * a[col * n + k] }
            b[r] -= f * b[col]
        }
    }
    var x = [Double](repeating: 0, count: n)
    for i in stride(from: n - 1, through: 0, by: -1) {
        var s = b[i]
        for k in (i + 1)..<n { s -= a[i * n + k] * x[k] }
        x[i] = s / a[i * n + i]
    }
    return x.allSatisfy(\.isFinite) ? x : nil
}

/// The homography that maps four points exactly onto four others (direct linear transform); nil when
/// degenerate.
public func homographyFromCorrespondences(_ from: [(Double, Double)], _ to: [(Double, Double)]) -> Homography? {
    guard from.count == 4, to.count == 4 else { return nil }
    var a = [Double](repeating: 0, count: 64), b = [Double](repeating: 0, count: 8)
    for i in 0..<4 {
        let (x, y) = from[i], (u, v) = to[i]
        let r1 = 2 * i, r2 = 2 * i + 1
        a.replaceSubrange((r1 * 8)..<(r1 * 8 + 8), with: [x, y, 1, 0, 0, 0, -u * x, -u * y])
        a.replaceSubrange((r2 * 8)..<(r2 * 8 + 8), with: [0, 0, 0, x, y, 1, -v * x, -v * y])
        b[r1] = u
        b[r2] = v
    }
    guard let h = solveGeneral(a, b, n: 8) else { return nil }
    return Homography(unchecked: h + [1])
}
