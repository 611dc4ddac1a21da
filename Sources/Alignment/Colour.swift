import Foundation
import PairVocabulary
import Imaging

/// Which colour model to fit.
public enum ColourModelChoice: String, Sendable, Codable, CaseIterable {
    /// Both are fitted; the affine model is used only when it fits clearly better.
    case auto
    case gainOffset = "gain-offset"
    case affine
    /// No colour matching (identity).
    case none
}

extension ColourFit {
    /// Applies the transform in place.
    public func apply(to image: inout RGBImage) {
        let n = image.planeSize
        let m = matrix.map { Float($0) }, o = offset.map { Float($0) }
        image.pixels.withUnsafeMutableBufferPointer { buf in
            let p = buf.baseAddress!
            Parallel.forEach(count: n, minChunk: 65536) { r in
                for i in r {
                    let a = p[i], b = p[n + i], c = p[2 * n + i]
                    p[i] = m[0] * a + m[1] * b + m[2] * c + o[0]
                    p[n + i] = m[3] * a + m[4] * b + m[5] * c + o[1]
                    p[2 * n + i] = m[6] * a + m[7] * b + m[8] * c + o[2]
                }
            }
        }
    }
}

/// Low-pass colour samples of a pair on the same grid: block means where both images are well exposed.
struct ColourSamples {
    var source: [[Double]] = [[], [], []]
    var target: [[Double]] = [[], [], []]
    var count: Int { source[0].count }

    /// Block means of `block` x `block` pixels over the pair (same size), keeping blocks whose every pixel is
    /// below `high` and whose means are above `low` in all channels of both images, and whose `valid` mask
    /// is fully set.
    init(source s: RGBImage, target t: RGBImage, block: Int, low: Float = 0.02, high: Float = 0.97) {
        let w = s.width, n = s.planeSize
        let bw = w / block, bh = s.height / block
        let rows = s.pixels.withUnsafeBufferPointer { ps in
            t.pixels.withUnsafeBufferPointer { pt in
                Parallel.map(count: bh, minChunk: 1) { range -> [[Double]] in
                    var found: [[Double]] = []
                    for by in range {
                        for bx in 0..<bw {
                            var ok = true
                            var means = [Double](repeating: 0, count: 6)
                            for c in 0..<3 where ok {
                                var accS: Float = 0, accT: Float = 0
                                for y in (by * block)..<((by + 1) * block) where ok {
                                    let row = c * n + y * w
                                    for x in (bx * block)..<((bx + 1) * block) {
                                        let a = ps[row + x], b = pt[row + x]
                                        if !(a < high && b < high) { ok = false; break }
                                        accS += a
                                        accT += b
                                    }
                                }
                                let area = Float(block * block)
                                means[c] = Double(accS / area)
                                means[3 + c] = Double(accT / area)
                                if means[c] < Double(low) || means[3 + c] < Double(low) { ok = false }
                            }
                            if ok { found.append(means) }
                        }
                    }
                    return found
                }
            }
        }
        for part in rows {
            for means in part {
                for c in 0..<3 {
                    source[c].append(means[c])
                    target[c].append(means[3 + c])
                }
            }
        }
    }
}

/// Robust (Huber IRLS) fit of one colour model.
func fitColour(_ samples: ColourSamples, model: ColourModel) -> (fit: ColourFit, samples: Int)? {
    let n = samples.count
    let unknowns = model == .gainOffset ? 2 : 4
    guard n >= 4 * unknowns else { return nil }
    var weights = [Double](repeating: 1, count: n)
    var matrix = [Double](repeating: 0, count: 9), offset = [Double](repeating: 0, count: 3)
    var sigma = 0.0
    for _ in 0..<8 {
        for c in 0..<3 {
            var a = [Double](repeating: 0, count: unknowns * unknowns), b = [Double](repeating: 0, count: unknowns)
            var row = [Double](repeating: 0, count: unknowns)
            for i in 0..<n {
                if model == .gainOffset {
                    row[0] = samples.target[c][i]
                    row[1] = 1
                } else {
                    row[0] = samples.target[0][i]
                    row[1] = samples.target[1][i]
                    row[2] = samples.target[2][i]
                    row[3] = 1
                }
                let wt = weights[i], y = samples.source[c][i]
                for p in 0..<unknowns {
                    b[p] += wt * row[p] * y
                    for q in 0..<unknowns { a[p * unknowns + q] += wt * row[p] * row[q] }
                }
            }
            for p in 0..<unknowns { a[p * unknowns + p] += 1e-9 }
            guard let x = solveSPD(a, b, n: unknowns) else { return nil }
            if model == .gainOffset {
                for k in 0..<3 { matrix[c * 3 + k] = k == c ? x[0] : 0 }
                offset[c] = x[1]
            } else {
                matrix[c * 3] = x[0]; matrix[c * 3 + 1] = x[1]; matrix[c * 3 + 2] = x[2]
                offset[c] = x[3]
            }
        }
        var norms = [Double](repeating: 0, count: n)
        var all: [Double] = []
        all.reserveCapacity(3 * n)
        for i in 0..<n {
            var s2 = 0.0
            for c in 0..<3 {
                let pred = matrix[c * 3] * samples.target[0][i] + matrix[c * 3 + 1] * samples.target[1][i]
                    + matrix[c * 3 + 2] * samples.target[2][i] + offset[c]
                let r = pred - samples.source[c][i]
                s2 += r * r
                all.append(abs(r))
            }
            norms[i] = (s2 / 3).squareRoot()
        }
        all.sort()
        sigma = 1.4826 * all[all.count / 2]
        let k = 1.345 * max(sigma, 1e-5)
        for i in 0..<n { weights[i] = norms[i] <= k ? 1 : k / norms[i] }
    }
    return (ColourFit(model: model, matrix: matrix, offset: offset, residual: sigma), n)
}
