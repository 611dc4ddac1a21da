import Foundation
import PairVocabulary

// Inverse-compositional ECC (Evangelidis & Psarakis) on one pyramid level, in three stages: pick the textured
// source pixels (`selectSamples`), build the template's steepest-descent moments and Hessian once (`TemplateMoments`),
// then iterate the fused warp-sample-project pass (`correlationSums`) until the update is below the tolerance.

/// A source pixel selected for the fit: position, template value and gradient.
struct Samples {
    var px: [Float] = [], py: [Float] = []
    var u: [Float] = [], v: [Float] = []
    var gx: [Float] = [], gy: [Float] = []
    var t: [Float] = [], w: [Float] = [], mix: [Float] = []
    var count: Int { px.count }

    mutating func append(contentsOf o: Samples) {
        px += o.px; py += o.py; u += o.u; v += o.v; gx += o.gx; gy += o.gy; t += o.t; w += o.w; mix += o.mix
    }
}

struct LevelResult {
    var homography: Homography
    var correlation: Double
    var iterations: Int
    var failure: String?
}

/// One pyramid level of inverse-compositional ECC.
func eccLevel(source s: Plane, target t: Plane, homography h0: Homography,
              weights: (plane: Plane, shift: Int)?, blurred: (plane: Plane, focus: (plane: Plane, shift: Int))?,
              focusFloor: Float, maxPoints: Int, maxIterations: Int,
              tolerance: Double) -> LevelResult {
    let w = s.width, hgt = s.height
    let cx = Double(w - 1) / 2, cy = Double(hgt - 1) / 2, scale = Double(max(w, hgt)) / 2
    // Template coordinates u = N p, normalised for conditioning.
    let n = Homography(unchecked: [1 / scale, 0, -cx / scale, 0, 1 / scale, -cy / scale, 0, 0, 1])
    let nInv = Homography(unchecked: [scale, 0, cx, 0, scale, cy, 0, 0, 1])

    var samples = selectSamples(source: s, target: t, homography: h0, weights: weights, blurred: blurred,
                                focusFloor: focusFloor, maxPoints: maxPoints)
    let count = samples.count
    guard count >= 64 else {
        return LevelResult(homography: h0, correlation: 0, iterations: 0,
                           failure: "too few textured pixels overlap (\(count))")
    }

    guard let template = TemplateMoments(samples: &samples) else {
        return LevelResult(homography: h0, correlation: 0, iterations: 0,
                           failure: "the source has too little structure to fix a homography")
    }
    let wsum = template.wsum, gsum = template.gsum, tt = template.tt, hinvTg = template.hinvTg
    let lambdaN = template.lambdaN

    var h = h0
    var rho = 0.0
    var iterationsRun = 0
    for iteration in 1...maxIterations {
        iterationsRun = iteration
        let m = h.m
        let sums = correlationSums(samples: samples, target: t, blurred: blurred, homography: m)
        let mean = sums[0] / wsum
        let ii = sums[1] - wsum * mean * mean
        let it = sums[2]
        let ig = (0..<8).map { sums[3 + $0] - mean * gsum[$0] }
        guard ii > 1e-20, ii.isFinite, it.isFinite else {
            return LevelResult(homography: h, correlation: 0, iterations: iteration,
                               failure: "the warped target is flat or undefined")
        }
        rho = it / (ii * tt).squareRoot()
        let lambdaD = it - zip(ig, hinvTg).reduce(0.0) { $0 + $1.0 * $1.1 }
        let lambda = lambdaD > 1e-12 * tt ? lambdaN / lambdaD : (tt / ii).squareRoot()
        let rhs = (0..<8).map { lambda * ig[$0] - template.tg[$0] }
        let dp = template.mulHinv(rhs)
        guard dp.allSatisfy(\.isFinite) else {
            return LevelResult(homography: h, correlation: rho, iterations: iteration,
                               failure: "the optimisation diverged")
        }
        let warpUpdate = Homography(unchecked: [1 + dp[0], dp[1], dp[2], dp[3], 1 + dp[4], dp[5], dp[6], dp[7], 1])
        guard let inv = warpUpdate.inverse else {
            return LevelResult(homography: h, correlation: rho, iterations: iteration,
                               failure: "the optimisation produced a singular update")
        }
        h = h * nInv * inv * n
        guard h.isFinite, abs(h.determinant) > 1e-9 else {
            return LevelResult(homography: h, correlation: rho, iterations: iteration,
                               failure: "the optimisation diverged")
        }
        // Size of the update in pixels of this level, at the image corners.
        let ex = (Double(w - 1) / 2) / scale, ey = (Double(hgt - 1) / 2) / scale
        var moved = 0.0
        for (a, b) in [(-ex, -ey), (ex, -ey), (-ex, ey), (ex, ey)] {
            let q = warpUpdate.apply(a, b)
            moved = max(moved, hypot(q.x - a, q.y - b) * scale)
        }
        if moved > Double(max(w, hgt)) {
            return LevelResult(homography: h, correlation: rho, iterations: iteration,
                               failure: "the optimisation diverged (update of \(Int(moved)) px)")
        }
        if moved < tolerance { break }
    }
    return LevelResult(homography: h, correlation: rho, iterations: iterationsRun, failure: nil)
}

/// The source pixels the fit uses: inside the target under `h0`, with the strongest gradients (at most
/// `maxPoints`), each with its normalised template coordinates, gradient, focus weight and sharp-target share.
func selectSamples(source s: Plane, target t: Plane, homography h0: Homography,
                   weights: (plane: Plane, shift: Int)?, blurred: (plane: Plane, focus: (plane: Plane, shift: Int))?,
                   focusFloor: Float, maxPoints: Int) -> Samples {
    let w = s.width, hgt = s.height
    let cx = Double(w - 1) / 2, cy = Double(hgt - 1) / 2, scale = Double(max(w, hgt)) / 2
    // Focus weights looked up through per-row and per-column index tables (nearest pixel of the focus level).
    let weightPlane = weights?.plane.values ?? []
    let weightWidth = weights?.plane.width ?? 0
    func indexTable(_ count: Int, _ limit: Int) -> [Int] {
        guard let weights else { return [] }
        let f = Double(1 << weights.shift)
        return (0..<count).map { min(max(Int(((Double($0) - (f - 1) / 2) / f).rounded()), 0), limit - 1) }
    }
    let columnIndex = indexTable(w, weights?.plane.width ?? 1), rowIndex = indexTable(hgt, weights?.plane.height ?? 1)
    let mixPlane = blurred?.focus.plane.values ?? []
    let mixWidth = blurred?.focus.plane.width ?? 0
    func mixTable(_ count: Int, _ limit: Int) -> [Int] {
        guard let b = blurred else { return [] }
        let f = Double(1 << b.focus.shift)
        return (0..<count).map { min(max(Int(((Double($0) - (f - 1) / 2) / f).rounded()), 0), limit - 1) }
    }
    let mixColumns = mixTable(w, blurred?.focus.plane.width ?? 1), mixRows = mixTable(hgt, blurred?.focus.plane.height ?? 1)
    /// How much of the sharp target to use at a source pixel: 1 where the source is sharp, 0 where it is
    /// defocused (the blurred target is used there).
    @inline(__always) func sharpShare(_ x: Int, _ y: Int) -> Float {
        mixPlane.isEmpty ? 1 : mixPlane[mixRows[y] * mixWidth + mixColumns[x]]
    }
    @inline(__always) func weightAt(_ x: Int, _ y: Int) -> Float {
        weightPlane.isEmpty ? 1 : focusFloor + (1 - focusFloor) * weightPlane[rowIndex[y] * weightWidth + columnIndex[x]]
    }

    // Select sample pixels: inside the target under the current map, weighted gradient above a threshold
    // chosen so that at most maxPoints are kept.
    let m0 = h0.m
    let tw = Double(t.width), th = Double(t.height)
    let margin = 2.0
    let sv = s.values
    /// Weighted gradient energy, gradient and weight of a source pixel; zero where its target position is
    /// outside the target (checked only for pixels above `floor`, the cheap test first).
    @inline(__always) func score(_ x: Int, _ y: Int, above floor: Float) -> (Float, Float, Float, Float) {
        let i = y * w + x
        let gx = 0.5 * (sv[i + 1] - sv[i - 1]), gy = 0.5 * (sv[i + w] - sv[i - w])
        let wt = weightAt(x, y)
        // Selection by the plain gradient: focus weights scale a pixel's influence, not its chance to be used.
        let sc = gx * gx + gy * gy
        guard sc > floor else { return (0, 0, 0, 0) }
        let xd = Double(x), yd = Double(y)
        let z = m0[6] * xd + m0[7] * yd + m0[8]
        let qx = (m0[0] * xd + m0[1] * yd + m0[2]) / z, qy = (m0[3] * xd + m0[4] * yd + m0[5]) / z
        guard qx >= margin, qy >= margin, qx <= tw - 1 - margin, qy <= th - 1 - margin else { return (0, 0, 0, 0) }
        return (sc, gx, gy, wt)
    }
    // The strongest weighted gradients carry most of the information: keep those, at most maxPoints, with the
    // threshold taken from a sparse sample of the scores.
    var threshold: Float = 1e-12
    let interior = (w - 2) * (hgt - 2)
    if interior > maxPoints {
        // Histogram of a 1-in-9 sample of the scores; the bit pattern of a positive float orders like its value,
        // so its top 12 bits are logarithmic bins.
        var histogram = [Int](repeating: 0, count: 4096)
        var sampled = 0
        var y = 1
        while y < hgt - 1 {
            var x = 1 + (y % 3)
            while x < w - 1 {
                let sc = score(x, y, above: threshold).0
                if sc > threshold { histogram[Int(sc.bitPattern >> 19)] += 1 }
                sampled += 1
                x += 3
            }
            y += 3
        }
        let wanted = Int(Double(maxPoints) / Double(interior) * Double(sampled))
        var above = 0
        for bin in stride(from: 4095, through: 0, by: -1) {
            above += histogram[bin]
            if above >= wanted {
                threshold = max(threshold, Float(bitPattern: UInt32(bin) << 19))
                break
            }
        }
    }
    let parts = Parallel.map(count: max(hgt - 2, 0), minChunk: 8) { rows -> Samples in
        var out = Samples()
        for yy in rows {
            let y = yy + 1
            for x in 1..<(w - 1) {
                let (sc, gx, gy, wt) = score(x, y, above: threshold)
                guard sc > threshold else { continue }
                out.px.append(Float(x)); out.py.append(Float(y))
                out.u.append(Float((Double(x) - cx) / scale)); out.v.append(Float((Double(y) - cy) / scale))
                out.gx.append(gx * Float(scale)); out.gy.append(gy * Float(scale))
                out.t.append(sv[y * w + x]); out.w.append(wt); out.mix.append(sharpShare(x, y))
            }
        }
        return out
    }
    var samples = Samples()
    for p in parts { samples.append(contentsOf: p) }
    return samples
}

/// The template's side of ECC, computed once per level: weighted template statistics, the centred
/// steepest-descent sums and the inverse Hessian. Centres the samples' template values.
struct TemplateMoments {
    var wsum: Double
    var gsum: [Double]
    var tg: [Double]
    var tt: Double
    var hinv: [Double]
    var hinvTg: [Double]
    var lambdaN: Double

    func mulHinv(_ x: [Double]) -> [Double] {
        (0..<8).map { r in (0..<8).reduce(0.0) { $0 + hinv[r * 8 + $1] * x[$1] } }
    }

    /// Nil when the Hessian is singular: the source has too little structure to fix a homography.
    init?(samples: inout Samples) {
        let count = samples.count
        // Weighted template statistics, steepest-descent sums and Hessian: one pass.
        var wsum = 0.0, tsum = 0.0
        for i in 0..<count {
            wsum += Double(samples.w[i])
            tsum += Double(samples.w[i] * samples.t[i])
        }
        let tmean = Float(tsum / wsum)
        for i in 0..<count { samples.t[i] -= tmean }

        struct Moments { var hess = [Double](repeating: 0, count: 64); var g = [Double](repeating: 0, count: 8)
            var tg = [Double](repeating: 0, count: 8); var tt = 0.0 }
        let moments = Parallel.map(count: count, minChunk: 4096) { r -> Moments in
                var m = Moments()
                let buffer = UnsafeMutablePointer<Double>.allocate(capacity: 60)
                defer { buffer.deallocate() }
                buffer.initialize(repeating: 0, count: 60)
                let hs = buffer, gs = buffer + 36, tgs = buffer + 44, jac = buffer + 52
                var tt = 0.0
                samples.u.withUnsafeBufferPointer { us in
                samples.v.withUnsafeBufferPointer { vs in
                samples.gx.withUnsafeBufferPointer { gxs in
                samples.gy.withUnsafeBufferPointer { gys in
                samples.t.withUnsafeBufferPointer { ts in
                samples.w.withUnsafeBufferPointer { ws in
                    for i in r {
                        let u = Double(us[i]), v = Double(vs[i])
                        let gx = Double(gxs[i]), gy = Double(gys[i])
                        let wt = Double(ws[i]), tv = Double(ts[i])
                        let a = gx * u + gy * v
                        jac[0] = gx * u; jac[1] = gx * v; jac[2] = gx
                        jac[3] = gy * u; jac[4] = gy * v; jac[5] = gy
                        jac[6] = -u * a; jac[7] = -v * a
                        var k = 0
                        for p in 0..<8 {
                            let wp = wt * jac[p]
                            gs[p] += wp
                            tgs[p] += wp * tv
                            for q in p..<8 {
                                hs[k] += wp * jac[q]
                                k += 1
                            }
                        }
                        tt += wt * tv * tv
                    }
                }}}}}}
                var k = 0
                for p in 0..<8 {
                    for q in p..<8 {
                        m.hess[p * 8 + q] = hs[k]
                        m.hess[q * 8 + p] = hs[k]
                        k += 1
                    }
                }
                m.g = Array(UnsafeBufferPointer(start: gs, count: 8))
                m.tg = Array(UnsafeBufferPointer(start: tgs, count: 8))
                m.tt = tt
                return m
        }
        var hess = [Double](repeating: 0, count: 64), gsum = [Double](repeating: 0, count: 8)
        var tg = [Double](repeating: 0, count: 8), tt = 0.0
        for m in moments {
            for k in 0..<64 { hess[k] += m.hess[k] }
            for k in 0..<8 { gsum[k] += m.g[k]; tg[k] += m.tg[k] }
            tt += m.tt
        }
        // Centre the steepest-descent images (weighted): H = sum w G G^T - W gm gm^T.
        for p in 0..<8 {
            for q in 0..<8 { hess[p * 8 + q] -= gsum[p] * gsum[q] / wsum }
        }
        // Hessian inverse via 8 solves; tg is already centred because t is.
        var hinv = [Double](repeating: 0, count: 64)
        for c in 0..<8 {
            var e = [Double](repeating: 0, count: 8)
            e[c] = 1
            guard let col = solveSPD(hess, e, n: 8) else { return nil }
            for r in 0..<8 { hinv[r * 8 + c] = col[r] }
        }
        func mulHinv(_ x: [Double]) -> [Double] {
            (0..<8).map { r in (0..<8).reduce(0.0) { $0 + hinv[r * 8 + $1] * x[$1] } }
        }
        let hinvTg = mulHinv(tg)
        let lambdaN = tt - zip(tg, hinvTg).reduce(0.0) { $0 + $1.0 * $1.1 }
        self.wsum = wsum
        self.gsum = gsum
        self.tg = tg
        self.tt = tt
        self.hinv = hinv
        self.hinvTg = hinvTg
        self.lambdaN = lambdaN
    }
}

/// The fused pass of one iteration: maps every sample through `m`, samples the target (blended with its blurred
/// copy where the source is defocused) and returns the sums of w*i, w*i^2, w*i*t and w*i*G (8), in that order.
func correlationSums(samples: Samples, target t: Plane, blurred: (plane: Plane, focus: (plane: Plane, shift: Int))?,
                     homography m: [Double]) -> [Double] {
    let count = samples.count
    let tpw = t.width, tph = t.height
    // The fused pass: map, sample, accumulate sums of w*i, w*i^2, w*i*t and w*i*G.
    let blurValues = blurred?.plane.values ?? t.values
    let partial = t.values.withUnsafeBufferPointer { tb in
      blurValues.withUnsafeBufferPointer { bb in
        let tbase = tb.baseAddress!, bbase = bb.baseAddress!
        let blend = blurred != nil
        // Level-l target coordinates on the (coarser) level of the blurred copy: x_f = (x_l - (2^k - 1)/2) / 2^k.
        let k = blurred?.focus.shift ?? 0
        let blurScale = 1 / Float(1 << k), blurOffset = (Float(1 << k) - 1) / 2
        let bpw = blurred?.plane.width ?? tpw, bph = blurred?.plane.height ?? tph
        return Parallel.map(count: count, minChunk: 4096) { r -> [Double] in
            var acc = [Double](repeating: 0, count: 11)
            samples.px.withUnsafeBufferPointer { pxs in
            samples.py.withUnsafeBufferPointer { pys in
            samples.u.withUnsafeBufferPointer { us in
            samples.v.withUnsafeBufferPointer { vs in
            samples.gx.withUnsafeBufferPointer { gxs in
            samples.gy.withUnsafeBufferPointer { gys in
            samples.t.withUnsafeBufferPointer { ts in
            samples.w.withUnsafeBufferPointer { ws in
            samples.mix.withUnsafeBufferPointer { mixes in
                // Float sums over runs of 256 points, flushed into Double: exact enough, and fast.
                let f = m.map { Float($0) }
                var start = r.lowerBound
                while start < r.upperBound {
                    let end = min(start + 256, r.upperBound)
                    var si: Float = 0, sii: Float = 0, sit: Float = 0
                    var g0: Float = 0, g1: Float = 0, g2: Float = 0, g3: Float = 0
                    var g4: Float = 0, g5: Float = 0, g6: Float = 0, g7: Float = 0
                    for i in start..<end {
                        let x = pxs[i], y = pys[i]
                        let z = 1 / (f[6] * x + f[7] * y + f[8])
                        let qx = (f[0] * x + f[1] * y + f[2]) * z, qy = (f[3] * x + f[4] * y + f[5]) * z
                        var iv = bilinear(tbase, tpw, tph, qx, qy)
                        if blend {
                            let share = mixes[i]
                            if share < 1 {
                                let bx = (qx - blurOffset) * blurScale, by = (qy - blurOffset) * blurScale
                                iv = share * iv + (1 - share) * bilinear(bbase, bpw, bph, bx, by)
                            }
                        }
                        let wi = ws[i] * iv
                        si += wi
                        sii += wi * iv
                        sit += wi * ts[i]
                        let u = us[i], v = vs[i], gx = gxs[i], gy = gys[i]
                        let a = gx * u + gy * v
                        let wgx = wi * gx, wgy = wi * gy, wa = wi * a
                        g0 += wgx * u; g1 += wgx * v; g2 += wgx
                        g3 += wgy * u; g4 += wgy * v; g5 += wgy
                        g6 -= wa * u; g7 -= wa * v
                    }
                    for (k, value) in [si, sii, sit, g0, g1, g2, g3, g4, g5, g6, g7].enumerated() {
                        acc[k] += Double(value)
                    }
                    start = end
                }
            }}}}}}}}}
            return acc
        }
      }
    }
    var sums = [Double](repeating: 0, count: 11)
    for p in partial { for k in 0..<11 { sums[k] += p[k] } }
    return sums
}
