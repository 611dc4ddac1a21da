import Foundation
import PairVocabulary

/// Thresholds of the verdict. A pair below a `reject` threshold is never delivered as ground truth; one below a
/// `review` threshold is delivered with reasons for a person to look at.
public struct VerdictThresholds: Sendable, Equatable, Codable {
    /// Reject when less than this fraction of the source is covered by the target.
    public var minOverlap = 0.6
    /// Reject when the largest common rectangle is smaller than this fraction of the source.
    public var minCropFraction = 0.5
    /// Reject when the registration's (in-focus) correlation is below this: the images do not show the same
    /// scene.
    public var minCorrelation = 0.5
    /// Review when the registration's correlation is below this.
    public var reviewCorrelation = 0.85
    /// Review when more than this fraction of the crop is clipped in either image.
    public var maxClipped = 0.02
    /// Review when the colour fit's robust residual exceeds this.
    public var maxColourResidual = 0.02
    /// A block whose residual shift exceeds this (pixels) is misaligned.
    public var maxBlockShift = 0.5
    /// A textured in-focus block whose correlation is below this is misaligned (a moving object).
    public var minBlockCorrelation = 0.6
    /// Review when more than this many blocks are misaligned. One is tolerated: a lone block at the edge of the
    /// depth of field can show a spurious shift of up to about a pixel.
    public var maxMisalignedBlocks = 1
    /// ... unless that block's shift exceeds this (pixels): then one block is enough (a small moving object).
    public var loneBlockShift = 2.0
    /// Review when fewer blocks than this could be measured (local alignment unverified).
    public var minMeasuredBlocks = 4

    public init() {}
}

/// The block-wise residual alignment in in-focus, textured regions.
public struct MisalignmentReport: Sendable, Equatable, Codable {
    public struct Block: Sendable, Equatable, Codable {
        /// Top-left corner in the cropped images.
        public var x: Int
        public var y: Int
        public var dx: Double
        public var dy: Double
        public var correlation: Double
        public var shift: Double { hypot(dx, dy) }
    }

    public var blockSize: Int
    public var columns: Int
    public var rows: Int
    public var measured: Int
    /// Blocks whose shift or correlation fails the thresholds.
    public var misaligned: [Block]
    public var medianShift: Double
    public var p95Shift: Double
    public var maxShift: Double
    public var minCorrelation: Double
    /// Residual shift (pixels) per block, row by row; null where the block was not measured (defocused, flat or
    /// not in the crop).
    public var map: [[Double?]]
}

/// Measures each block's residual translation between the source and the aligned target (2-parameter ECC),
/// where the source is in focus and textured.
func misalignment(source: Plane, target: Plane, focus: Plane, thresholds: VerdictThresholds) -> MisalignmentReport {
    let w = source.width, h = source.height
    let block = max(24, min(w, h) / 16)
    let cols = w / block, rows = h / block
    let step = max(1, block / 48)
    let gradient = gradientEnergy(source)
    // Texture floor relative to the image: a block needs a share of the typical in-focus gradient energy.
    var blockEnergy = [Double](repeating: 0, count: cols * rows)
    var blockFocus = [Double](repeating: 0, count: cols * rows)
    for by in 0..<rows {
        for bx in 0..<cols {
            var e = 0.0, f = 0.0, c = 0.0
            var y = by * block
            while y < (by + 1) * block {
                var x = bx * block
                while x < (bx + 1) * block {
                    e += Double(gradient.values[y * w + x])
                    if focus.values[y * w + x] >= 0.5 { f += 1 }
                    c += 1
                    x += step
                }
                y += step
            }
            blockEnergy[by * cols + bx] = e / c
            // Nearly all of the block must be sharp: one straddling the edge of the depth of field gives a false
            // shift.
            blockFocus[by * cols + bx] = f / c
        }
    }
    let focusedEnergies = zip(blockEnergy, blockFocus).filter { $0.1 >= 0.7 }.map(\.0).sorted()
    let typical = focusedEnergies.isEmpty ? 0 : focusedEnergies[(focusedEnergies.count * 3) / 4]
    let floor = max(0.1 * typical, 1e-7)

    let results = Parallel.map(count: cols * rows, minChunk: 1) { range -> [MisalignmentReport.Block?] in
        range.map { k -> MisalignmentReport.Block? in
            guard blockFocus[k] >= 0.7, blockEnergy[k] >= floor else { return nil }
            let bx = (k % cols) * block, by = (k / cols) * block
            return blockShift(source: source, target: target, x: bx, y: by, size: block, step: step)
        }
    }.flatMap { $0 }
    var map = [[Double?]](repeating: [Double?](repeating: nil, count: cols), count: rows)
    var shifts: [Double] = []
    var bad: [MisalignmentReport.Block] = []
    var minCorr = 1.0
    for (k, r) in results.enumerated() {
        guard let r else { continue }
        map[k / cols][k % cols] = r.shift
        shifts.append(r.shift)
        minCorr = min(minCorr, r.correlation)
        if !(r.shift <= thresholds.maxBlockShift) || r.correlation < thresholds.minBlockCorrelation { bad.append(r) }
    }
    shifts.sort()
    func q(_ p: Double) -> Double { shifts.isEmpty ? 0 : shifts[min(shifts.count - 1, Int(p * Double(shifts.count)))] }
    return MisalignmentReport(blockSize: block, columns: cols, rows: rows, measured: shifts.count, misaligned: bad,
                              medianShift: q(0.5), p95Shift: q(0.95), maxShift: shifts.last ?? 0,
                              minCorrelation: shifts.isEmpty ? 0 : minCorr, map: map)
}

/// Translation-only inverse-compositional ECC on one block; a shift that runs away is reported as it stands
/// (large), and the correlation is that at the final shift. Nil for a block whose texture cannot fix a shift.
private func blockShift(source: Plane, target: Plane, x bx: Int, y by: Int, size: Int, step: Int)
    -> MisalignmentReport.Block? {
    let w = source.width, h = source.height
    var t: [Double] = [], gx: [Double] = [], gy: [Double] = [], px: [Int] = [], py: [Int] = []
    var y = max(by, 1)
    while y < min(by + size, h - 1) {
        var x = max(bx, 1)
        while x < min(bx + size, w - 1) {
            let i = y * w + x
            t.append(Double(source.values[i]))
            gx.append(Double(0.5 * (source.values[i + 1] - source.values[i - 1])))
            gy.append(Double(0.5 * (source.values[i + w] - source.values[i - w])))
            px.append(x)
            py.append(y)
            x += step
        }
        y += step
    }
    let n = Double(t.count)
    let tm = t.reduce(0, +) / n, gxm = gx.reduce(0, +) / n, gym = gy.reduce(0, +) / n
    for i in t.indices { t[i] -= tm; gx[i] -= gxm; gy[i] -= gym }
    var a = 0.0, b = 0.0, c = 0.0, tt = 0.0, tgx = 0.0, tgy = 0.0
    for i in t.indices {
        a += gx[i] * gx[i]; b += gx[i] * gy[i]; c += gy[i] * gy[i]
        tt += t[i] * t[i]; tgx += t[i] * gx[i]; tgy += t[i] * gy[i]
    }
    let det = a * c - b * b
    var dx = 0.0, dy = 0.0, rho = 0.0
    // Texture in one direction only (a straight edge) fixes no shift along it: such a block is not measurable.
    let mean = (a + c) / 2, spread = (((a - c) / 2) * ((a - c) / 2) + b * b).squareRoot()
    guard det > 1e-18, tt > 1e-18, mean - spread > 0.1 * (mean + spread) else { return nil }
    func hinv(_ u: Double, _ v: Double) -> (Double, Double) { ((c * u - b * v) / det, (a * v - b * u) / det) }
    let (htx, hty) = hinv(tgx, tgy)
    let lambdaN = tt - (tgx * htx + tgy * hty)
    target.values.withUnsafeBufferPointer { tb in
        let tp = tb.baseAddress!
        for _ in 0..<20 {
            var si = 0.0, sii = 0.0, sit = 0.0, sgx = 0.0, sgy = 0.0
            for i in t.indices {
                let v = Double(bilinear(tp, w, h, Float(Double(px[i]) + dx), Float(Double(py[i]) + dy)))
                si += v; sii += v * v; sit += v * t[i]; sgx += v * gx[i]; sgy += v * gy[i]
            }
            let m = si / n
            let ii = sii - n * m * m
            guard ii > 1e-18 else { rho = 0; return }
            rho = sit / (ii * tt).squareRoot()
            let lambdaD = sit - (sgx * htx + sgy * hty)
            let lambda = lambdaD > 1e-12 ? lambdaN / lambdaD : (tt / ii).squareRoot()
            let (ux, uy) = hinv(lambda * sgx - tgx, lambda * sgy - tgy)
            dx -= ux
            dy -= uy
            if abs(dx) > Double(size) / 4 || abs(dy) > Double(size) / 4 || !dx.isFinite || !dy.isFinite { break }
            if hypot(ux, uy) < 0.002 { break }
        }
    }
    return .init(x: bx, y: by, dx: dx, dy: dy, correlation: rho)
}

/// Pearson correlation of two planes of the same size.
func correlation(_ a: Plane, _ b: Plane) -> Double {
    let parts = a.values.withUnsafeBufferPointer { pa in
        b.values.withUnsafeBufferPointer { pb in
            Parallel.map(count: pa.count, minChunk: 65536) { r -> [Double] in
                var sa = 0.0, sb = 0.0, saa = 0.0, sbb = 0.0, sab = 0.0
                for i in r {
                    let x = Double(pa[i]), y = Double(pb[i])
                    sa += x; sb += y; saa += x * x; sbb += y * y; sab += x * y
                }
                return [sa, sb, saa, sbb, sab]
            }
        }
    }
    var t = [Double](repeating: 0, count: 5)
    for p in parts { for k in 0..<5 { t[k] += p[k] } }
    let n = Double(a.values.count)
    let cov = t[4] - t[0] * t[1] / n, va = t[2] - t[0] * t[0] / n, vb = t[3] - t[1] * t[1] / n
    return va > 0 && vb > 0 ? cov / (va * vb).squareRoot() : 0
}
