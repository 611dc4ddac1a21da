import Foundation
import PairVocabulary

// Image filters the registration and the verdict share: focus maps, blur matching, noise, smoothing, warping.

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
