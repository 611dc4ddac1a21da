import Foundation
import PairVocabulary

/// In-place iterative radix-2 complex FFT of length `n` (a power of two) on separate real/imaginary arrays,
/// with stride so that columns of a 2-D array can be transformed without copying.
func fft(_ re: UnsafeMutablePointer<Double>, _ im: UnsafeMutablePointer<Double>, n: Int, stride s: Int,
         inverse: Bool) {
    var j = 0
    for i in 1..<n {
        var bit = n >> 1
        while j & bit != 0 {
            j ^= bit
            bit >>= 1
        }
        j |= bit
        if i < j {
            swap(&re[i * s], &re[j * s])
            swap(&im[i * s], &im[j * s])
        }
    }
    var len = 2
    while len <= n {
        let angle = (inverse ? 2.0 : -2.0) * Double.pi / Double(len)
        let wr = cos(angle), wi = sin(angle)
        var start = 0
        while start < n {
            var cr = 1.0, ci = 0.0
            for k in 0..<(len / 2) {
                let a = (start + k) * s, b = (start + k + len / 2) * s
                let tr = re[b] * cr - im[b] * ci, ti = re[b] * ci + im[b] * cr
                re[b] = re[a] - tr
                im[b] = im[a] - ti
                re[a] += tr
                im[a] += ti
                let ncr = cr * wr - ci * wi
                ci = cr * wi + ci * wr
                cr = ncr
            }
            start += len
        }
        len <<= 1
    }
}

func fft2D(_ re: inout [Double], _ im: inout [Double], size n: Int, inverse: Bool) {
    re.withUnsafeMutableBufferPointer { r in
        im.withUnsafeMutableBufferPointer { i in
            let rp = r.baseAddress!, ip = i.baseAddress!
            for row in 0..<n { fft(rp + row * n, ip + row * n, n: n, stride: 1, inverse: inverse) }
            for col in 0..<n { fft(rp + col, ip + col, n: n, stride: n, inverse: inverse) }
        }
    }
}

/// The translation d with target(x + d) ~ source(x), by phase correlation of Hann-windowed images; `peak` is the
/// height of the correlation peak (near 1 for a pure shift, near 0 for unrelated images).
func phaseCorrelation(source: Plane, target: Plane) -> (dx: Double, dy: Double, peak: Double) {
    var n = 1
    while n < max(source.width, source.height, target.width, target.height) { n <<= 1 }
    func prepared(_ p: Plane) -> [Double] {
        var out = [Double](repeating: 0, count: n * n)
        let (mean, _) = p.meanAndDeviation()
        let wxs = (0..<p.width).map { 0.5 - 0.5 * cos(2 * Double.pi * (Double($0) + 0.5) / Double(p.width)) }
        for y in 0..<p.height {
            let wy = 0.5 - 0.5 * cos(2 * Double.pi * (Double(y) + 0.5) / Double(p.height))
            for x in 0..<p.width {
                out[y * n + x] = (Double(p.values[y * p.width + x]) - mean) * wxs[x] * wy
            }
        }
        return out
    }
    var ar = prepared(source), ai = [Double](repeating: 0, count: n * n)
    var br = prepared(target), bi = [Double](repeating: 0, count: n * n)
    fft2D(&ar, &ai, size: n, inverse: false)
    fft2D(&br, &bi, size: n, inverse: false)
    // Cross power spectrum B * conj(A), whitened: its inverse peaks at the shift of B relative to A.
    var cr = [Double](repeating: 0, count: n * n), ci = [Double](repeating: 0, count: n * n)
    for k in 0..<(n * n) {
        let r = br[k] * ar[k] + bi[k] * ai[k]
        let i = bi[k] * ar[k] - br[k] * ai[k]
        let mag = (r * r + i * i).squareRoot() + 1e-12
        cr[k] = r / mag
        ci[k] = i / mag
    }
    fft2D(&cr, &ci, size: n, inverse: true)
    var best = 0
    for k in 0..<(n * n) where cr[k] > cr[best] { best = k }
    let norm = Double(n * n)
    let bx = best % n, by = best / n
    func at(_ x: Int, _ y: Int) -> Double { cr[((y + n) % n) * n + ((x + n) % n)] }
    func parabola(_ l: Double, _ c: Double, _ r: Double) -> Double {
        let d = l - 2 * c + r
        return abs(d) > 1e-12 ? max(-0.5, min(0.5, 0.5 * (l - r) / d)) : 0
    }
    let ox = parabola(at(bx - 1, by), at(bx, by), at(bx + 1, by))
    let oy = parabola(at(bx, by - 1), at(bx, by), at(bx, by + 1))
    let sx = Double(bx > n / 2 ? bx - n : bx) + ox
    let sy = Double(by > n / 2 ? by - n : by) + oy
    return (sx, sy, cr[best] / norm)
}
