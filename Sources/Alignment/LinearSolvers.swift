import Foundation
import PairVocabulary

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
