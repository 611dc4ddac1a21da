import Foundation

/// Settings of the coarse-to-fine registration.
public struct RegistrationOptions: Sendable, Equatable {
    /// Down-weight source pixels that are defocused (their local gradient energy, noise removed, is well below
    /// the sharp target's at the same place) on the finer levels. Off by default: measured, the blurred part of
    /// the frame helps more through its geometric leverage than it hurts (docs/alignment.md).
    public var focusWeighting = false
    /// The weight left to fully defocused pixels. Dropping them entirely (0) loses the geometric leverage of the
    /// blurred part of the frame and measured worse (docs/alignment.md).
    public var focusFloor: Float = 0.2
    /// Blur the sharp target where the source is defocused, so that the two match there: the target is sampled
    /// as a blend of itself and a blurred copy, by the source's focus map, with one blur radius estimated for the
    /// defocused part of the frame (matching gradient energies).
    public var blurMatching = true
    /// Smooth both images of every level with a 5-tap binomial (sigma 1) before the fit, as OpenCV's ECC does.
    /// Off by default: it helped on small noise-free pairs and hurt on the noisy benchmark pair.
    public var smoothing = false
    /// At most this many sample pixels per level (the strongest-gradient in-focus ones); bounds the cost of
    /// each iteration on large images without losing accuracy.
    public var maxPoints = 300_000
    public var maxIterations = 50
    /// Stop a level when an update moves no image corner by more than this many pixels of that level.
    public var tolerance = 0.001
    /// The coarse estimate (phase correlation) is found where the image is at most this many pixels across;
    /// it finds translations up to about half that, times the level's scale.
    public var coarseSize = 128
    /// With a given initial homography, refinement starts where the image is at most this many pixels across.
    public var refinementSize = 512

    public init() {}
}

/// What registration found, with the figures the verdict needs.
struct Registration {
    /// Prepared source -> prepared target, full-resolution pixel coordinates.
    var homography: Homography
    /// The normalised correlation the optimiser maximised, at the finest level (focus-weighted).
    var correlation: Double
    var coarseMethod: String
    var phasePeak: Double?
    var iterations: [Int]
    /// Focus weights (0 defocused .. 1 sharp) on the source grid of level `focusLevel`.
    var focus: Plane?
    var focusLevel: Int
    var failure: String?
}

/// A source pixel selected for the fit: position, template value and gradient.
private struct Samples {
    var px: [Float] = [], py: [Float] = []
    var u: [Float] = [], v: [Float] = []
    var gx: [Float] = [], gy: [Float] = []
    var t: [Float] = [], w: [Float] = [], mix: [Float] = []
    var count: Int { px.count }

    mutating func append(contentsOf o: Samples) {
        px += o.px; py += o.py; u += o.u; v += o.v; gx += o.gx; gy += o.gy; t += o.t; w += o.w; mix += o.mix
    }
}

/// Coordinates of level l+1 relative to level l: x_l = 2 x_{l+1} + 0.5.
private let levelUp = Homography(unchecked: [2, 0, 0.5, 0, 2, 0.5, 0, 0, 1])
private let levelDown = Homography(unchecked: [0.5, 0, -0.25, 0, 0.5, -0.25, 0, 0, 1])

func convert(_ h: Homography, fromLevel a: Int, toLevel b: Int) -> Homography {
    var h = h
    var l = a
    while l > b { h = levelUp * h * levelDown; l -= 1 }
    while l < b { h = levelDown * h * levelUp; l += 1 }
    return h
}

func pyramid(_ p: Plane, minSize: Int = 24) -> [Plane] {
    var levels = [p]
    while let last = levels.last, min(last.width, last.height) / 2 >= minSize { levels.append(last.halved()) }
    return levels
}

/// Coarse-to-fine homography registration of two grey images: a coarse estimate (phase correlation, or the
/// given initial map), then inverse-compositional ECC (Evangelidis & Psarakis) on every pyramid level: the
/// template's steepest-descent images and Hessian are built once per level, so each iteration is a single
/// fused pass (warp, sample, project) over the sample pixels.
func register(source: Plane, target: Plane, initial: Homography?, options: RegistrationOptions) -> Registration {
    let nLevels = min(pyramid(source).count, pyramid(target).count)
    let sp = Array(pyramid(source).prefix(nLevels)), tp = Array(pyramid(target).prefix(nLevels))
    func level(fitting size: Int) -> Int {
        var l = 0
        while l < nLevels - 1 && max(sp[l].width, sp[l].height) > size { l += 1 }
        return l
    }
    var focusLevel = min(1, nLevels - 1)  // half resolution at least: a less noisy focus measure
    while focusLevel < nLevels - 1 && sp[focusLevel].width * sp[focusLevel].height > 1_100_000 { focusLevel += 1 }

    var start: Int
    var h: Homography
    var coarseMethod: String
    var peak: Double? = nil
    if let initial {
        start = level(fitting: options.refinementSize)
        h = convert(initial, fromLevel: 0, toLevel: start)
        coarseMethod = "initial homography"
    } else {
        start = level(fitting: options.coarseSize)
        let pc = phaseCorrelation(source: sp[start], target: tp[start])
        h = .translation(pc.dx, pc.dy)
        peak = pc.peak
        coarseMethod = "phase correlation"
    }
    // Contrast ratio for the focus measure, from low-pass levels where defocus does not matter.
    let (_, sd) = sp[nLevels - 1].meanAndDeviation()
    let (_, td) = tp[nLevels - 1].meanAndDeviation()
    let contrast = td > 1e-9 ? sd / td : 1

    var focus: Plane? = nil
    var blurRadius = 0
    var blurredTarget: Plane? = nil
    var iterations: [Int] = []
    var correlation = 0.0
    for l in stride(from: start, through: 0, by: -1) {
        if l != start { h = convert(h, fromLevel: l + 1, toLevel: l) }
        let usesFocus = options.focusWeighting || options.blurMatching
        // The focus map needs a registered pair: measured on the focus level with the estimate of the level above,
        // or, when the focus level is where refinement starts, after that level (for the finer ones).
        func measureFocus(_ l: Int) {
            focus = focusMap(source: sp[l], target: tp[l], homography: h, contrast: contrast)
            if options.blurMatching, let f = focus {
                blurRadius = matchingBlur(source: sp[l], target: tp[l], focus: f, homography: h, contrast: contrast)
            }
        }
        if usesFocus && l == focusLevel && l < start { measureFocus(l) }
        let focusLookup = (usesFocus && l <= focusLevel) ? focus.map { (plane: $0, shift: focusLevel - l) } : nil
        let weights = options.focusWeighting ? focusLookup : nil
        var blurred: (plane: Plane, focus: (plane: Plane, shift: Int))? = nil
        if options.blurMatching, l <= focusLevel, let focusLookup, blurRadius > 0 {
            // Built once on the focus level; finer levels sample it there (it is smooth, so nothing is lost).
            if blurredTarget == nil { blurredTarget = boxFilter(boxFilter(tp[focusLevel], radius: blurRadius), radius: blurRadius) }
            if let b = blurredTarget { blurred = (b, focusLookup) }
        }
        let tol = l == 0 ? options.tolerance : max(options.tolerance, 0.01)
        let r = eccLevel(source: options.smoothing ? binomialSmoothed(sp[l]) : sp[l],
                         target: options.smoothing ? binomialSmoothed(tp[l]) : tp[l], homography: h, weights: weights, blurred: blurred, focusFloor: options.focusFloor,
                         maxPoints: options.maxPoints, maxIterations: options.maxIterations, tolerance: tol)
        iterations.append(r.iterations)
        if let failure = r.failure {
            return Registration(homography: convert(h, fromLevel: l, toLevel: 0), correlation: r.correlation,
                                coarseMethod: coarseMethod, phasePeak: peak, iterations: iterations, focus: focus,
                                focusLevel: focusLevel, failure: "level \(l): \(failure)")
        }
        h = r.homography
        correlation = r.correlation
        if usesFocus && l == start && focusLevel >= start {
            focusLevel = l
            measureFocus(l)
        }
    }
    return Registration(homography: h, correlation: correlation, coarseMethod: coarseMethod, phasePeak: peak,
                        iterations: iterations, focus: focus, focusLevel: focusLevel, failure: nil)
}

/// Per-pixel weight in [0, 1]: how sharp the source is relative to the (sharp) target warped onto it, from
/// local gradient energies with each image's noise energy taken off (noise alone must not look sharp).
func focusMap(source: Plane, target: Plane, homography h: Homography, contrast: Double) -> Plane {
    let identical = h == .identity && target.width == source.width && target.height == source.height
    let warped = identical ? target : warpBilinear(target, to: source.width, source.height, homography: h)
    let es = boxFilter(gradientEnergy(source), radius: 3)
    let et = boxFilter(gradientEnergy(warped), radius: 3)
    let c2 = Float(contrast * contrast)
    let ns = Float(pow(noiseSigma(source), 2)), nt = Float(pow(noiseSigma(warped), 2))
    let meanT = et.values.reduce(0, +) / Float(max(et.values.count, 1))
    let eps = 1e-2 * meanT * c2 + 1e-12
    var out = [Float](repeating: 0, count: es.values.count)
    for i in out.indices {
        let signalS = max(es.values[i] - 1.5 * ns, 0), signalT = max(et.values[i] - 1.5 * nt, 0) * c2
        let ratio = signalS / (signalT + eps)
        out[i] = min(max((ratio - 0.3) / 0.4, 0), 1)
    }
    return Plane(width: source.width, height: source.height, values: out)
}

/// The blur radius (of a twice-applied box filter, in pixels of this level) that makes the sharp target's
/// gradient energy match the source's over the source's defocused part; 0 when little of the source is
/// defocused.
func matchingBlur(source: Plane, target: Plane, focus: Plane, homography h: Homography, contrast: Double) -> Int {
    // Defocused source pixels, every other row and column, away from the border.
    var points: [Int] = []
    let w = source.width
    for y in stride(from: 2, to: source.height - 2, by: 2) {
        for x in stride(from: 2, to: w - 2, by: 2) where focus.values[y * w + x] < 0.3 { points.append(y * w + x) }
    }
    guard points.count > focus.values.count / 200 else { return 0 }
    let ns = Float(pow(noiseSigma(source), 2))
    var sourceEnergy = 0.0
    for i in points {
        let gx = 0.5 * (source.values[i + 1] - source.values[i - 1]), gy = 0.5 * (source.values[i + w] - source.values[i - w])
        sourceEnergy += Double(max(gx * gx + gy * gy - ns, 0))
    }
    let c2 = contrast * contrast
    var best = (radius: 0, misfit: Double.infinity)
    for radius in [1, 2, 3, 4, 6, 8, 12] {
        let blurred = boxFilter(boxFilter(target, radius: radius), radius: radius)
        var targetEnergy = 0.0
        blurred.values.withUnsafeBufferPointer { buf in
            let b = buf.baseAddress!
            func at(_ x: Int, _ y: Int) -> Float {
                let q = h.apply(Double(x), Double(y))
                return bilinear(b, blurred.width, blurred.height, Float(q.x), Float(q.y))
            }
            for i in points {
                let x = i % w, y = i / w
                let gx = 0.5 * (at(x + 1, y) - at(x - 1, y)), gy = 0.5 * (at(x, y + 1) - at(x, y - 1))
                targetEnergy += Double(gx * gx + gy * gy)
            }
        }
        let misfit = abs(log(max(sourceEnergy, 1e-12) / max(c2 * targetEnergy, 1e-12)))
        if misfit < best.misfit { best = (radius, misfit) } else { break }
    }
    return best.radius
}

/// Standard deviation of white noise in a plane (Immerkaer's Laplacian-difference estimate): texture mostly
/// cancels in the mask, noise does not.
func noiseSigma(_ p: Plane) -> Double {
    let w = p.width, h = p.height
    guard w >= 3, h >= 3 else { return 0 }
    let parts = p.values.withUnsafeBufferPointer { buf in
        let s = buf.baseAddress!
        return Parallel.map(count: h - 2, minChunk: 16) { rows -> (Double, Int) in
            var acc = 0.0, n = 0
            for yy in rows {
                let y = yy + 1
                let a = s + (y - 1) * w, b = s + y * w, c = s + (y + 1) * w
                var rowAcc: Float = 0
                for x in 1..<(w - 1) {
                    let v = a[x - 1] - 2 * a[x] + a[x + 1] - 2 * b[x - 1] + 4 * b[x] - 2 * b[x + 1]
                        + c[x - 1] - 2 * c[x] + c[x + 1]
                    rowAcc += abs(v)
                }
                acc += Double(rowAcc)
                n += w - 2
            }
            return (acc, n)
        }
    }
    let total = parts.reduce(0.0) { $0 + $1.0 }, count = parts.reduce(0) { $0 + $1.1 }
    return (Double.pi / 2).squareRoot() * total / (6 * Double(max(count, 1)))
}

/// Separable [1 4 6 4 1]/16 smoothing with edge clamping.
func binomialSmoothed(_ plane: Plane) -> Plane {
    let w = plane.width, h = plane.height
    var tmp = [Float](repeating: 0, count: w * h), out = tmp
    plane.values.withUnsafeBufferPointer { src in
        tmp.withUnsafeMutableBufferPointer { t in
            let s = src.baseAddress!, d = t.baseAddress!
            Parallel.forEach(count: h, minChunk: 16) { rows in
                for y in rows {
                    let r = s + y * w, o = d + y * w
                    for x in 0..<w {
                        let a = r[max(x - 2, 0)], b = r[max(x - 1, 0)], c = r[x], e = r[min(x + 1, w - 1)]
                        let f = r[min(x + 2, w - 1)]
                        o[x] = (a + f + 4 * (b + e) + 6 * c) * (1 / 16)
                    }
                }
            }
        }
    }
    tmp.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { t in
            let s = src.baseAddress!, d = t.baseAddress!
            Parallel.forEach(count: h, minChunk: 16) { rows in
                for y in rows {
                    let a = s + max(y - 2, 0) * w, b = s + max(y - 1, 0) * w, c = s + y * w
                    let e = s + min(y + 1, h - 1) * w, f = s + min(y + 2, h - 1) * w
                    let o = d + y * w
                    for x in 0..<w { o[x] = (a[x] + f[x] + 4 * (b[x] + e[x]) + 6 * c[x]) * (1 / 16) }
                }
            }
        }
    }
    return Plane(width: w, height: h, values: out)
}

/// Warps a plane onto a `w` x `h` grid: out(p) = plane(H p), bilinear.
func warpBilinear(_ plane: Plane, to w: Int, _ h: Int, homography: Homography) -> Plane {
    var out = [Float](repeating: 0, count: w * h)
    let m = homography.m
    plane.values.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            let s = src.baseAddress!, d = dst.baseAddress!
            Parallel.forEach(count: h, minChunk: 8) { rows in
                for y in rows {
                    let yd = Double(y)
                    for x in 0..<w {
                        let xd = Double(x)
                        let z = 1 / (m[6] * xd + m[7] * yd + m[8])
                        let qx = (m[0] * xd + m[1] * yd + m[2]) * z, qy = (m[3] * xd + m[4] * yd + m[5]) * z
                        d[y * w + x] = bilinear(s, plane.width, plane.height, Float(qx), Float(qy))
                    }
                }
            }
        }
    }
    return Plane(width: w, height: h, values: out)
}

private struct LevelResult {
    var homography: Homography
    var correlation: Double
    var iterations: Int
    var failure: String?
}

/// One pyramid level of inverse-compositional ECC.
private func eccLevel(source s: Plane, target t: Plane, homography h0: Homography,
                      weights: (plane: Plane, shift: Int)?, blurred: (plane: Plane, focus: (plane: Plane, shift: Int))?,
                      focusFloor: Float, maxPoints: Int, maxIterations: Int,
                      tolerance: Double) -> LevelResult {
    let w = s.width, hgt = s.height
    let cx = Double(w - 1) / 2, cy = Double(hgt - 1) / 2, scale = Double(max(w, hgt)) / 2
    // Template coordinates u = N p, normalised for conditioning.
    let n = Homography(unchecked: [1 / scale, 0, -cx / scale, 0, 1 / scale, -cy / scale, 0, 0, 1])
    let nInv = Homography(unchecked: [scale, 0, cx, 0, scale, cy, 0, 0, 1])

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
    let count = samples.count
    guard count >= 64 else {
        return LevelResult(homography: h0, correlation: 0, iterations: 0,
                           failure: "too few textured pixels overlap (\(count))")
    }

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
        guard let col = solveSPD(hess, e, n: 8) else {
            return LevelResult(homography: h0, correlation: 0, iterations: 0,
                               failure: "the source has too little structure to fix a homography")
        }
        for r in 0..<8 { hinv[r * 8 + c] = col[r] }
    }
    func mulHinv(_ x: [Double]) -> [Double] {
        (0..<8).map { r in (0..<8).reduce(0.0) { $0 + hinv[r * 8 + $1] * x[$1] } }
    }
    let hinvTg = mulHinv(tg)
    let lambdaN = tt - zip(tg, hinvTg).reduce(0.0) { $0 + $1.0 * $1.1 }

    var h = h0
    var rho = 0.0
    var iterationsRun = 0
    let tpw = t.width, tph = t.height
    for iteration in 1...maxIterations {
        iterationsRun = iteration
        let m = h.m
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
        let rhs = (0..<8).map { lambda * ig[$0] - tg[$0] }
        let dp = mulHinv(rhs)
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
