import Foundation
import ThreadSupport

/// Why RealBlur's alignment could not be computed.
public enum ECCError: Error, Equatable, CustomStringConvertible, Sendable {
    /// OpenCV's `StsNoConv`: the correlation would be minimised (images uncorrelated or not overlapping).
    case diverging(iteration: Int)
    /// The overlap left no pixel or a singular system.
    case degenerate(iteration: Int)

    public var description: String {
        switch self {
        case .diverging(let i): "the ECC alignment would minimise the correlation at iteration \(i): the output and the target look uncorrelated or do not overlap"
        case .degenerate(let i): "the ECC alignment has no overlap or no structure to fit at iteration \(i)"
        }
    }
}

/// The enhanced-correlation-coefficient homography (Evangelidis & Psarakis 2008) as OpenCV's `findTransformECC`
/// computes it with RealBlur's settings: both images smoothed by the 5-tap Gaussian, forward-additive Gauss-Newton
/// over every pixel the warp keeps inside the input, a fixed number of iterations (RealBlur: 100, eps 0). The
/// matrix is float32 and maps template pixels to input pixels, as OpenCV's is.
///
/// rigctl's own registration (Alignment's sampled, focus-weighted, inverse-compositional ECC) maximises a
/// different objective (weighted by focus, on selected pixels), so it cannot stand in here: the protocol must find
/// the homography the script finds.
enum ECCHomography {
    static func find(template: FloatPlane, input: FloatPlane, iterations: Int) throws -> [Float] {
        let (ws, hs) = (template.width, template.height)
        let smoothedTemplate = OpenCV.gaussian5(template)
        let smoothedInput = OpenCV.gaussian5(input)
        let (gx, gy) = OpenCV.gradients(smoothedInput)
        // p: m00, m10, m20, m01, m11, m21, m02, m12 (OpenCV's parameter order); m22 stays 1.
        var map: [Float] = [1, 0, 0, 0, 1, 0, 0, 0, 1]
        let count = ws * hs
        // The input and its gradients side by side, so one SIMD4 load and multiply-add per tap samples all three.
        var packed = [SIMD4<Float>](repeating: .zero, count: input.width * input.height)
        for i in packed.indices { packed[i] = SIMD4(smoothedInput.values[i], gx.values[i], gy.values[i], 0) }
        var warped = [SIMD4<Float>](repeating: .zero, count: count)
        var mask = [UInt8](repeating: 0, count: count)
        for iteration in 1...max(1, iterations) {
            warpInputs(packed, sourceWidth: input.width, sourceHeight: input.height, map: map, width: ws, height: hs,
                       warped: &warped, mask: &mask)
            // meanStdDev over the mask, in double.
            var n = 0.0, si = 0.0, sii = 0.0, st = 0.0, stt = 0.0
            for i in 0..<count where mask[i] != 0 {
                let a = Double(warped[i][0]), b = Double(smoothedTemplate.values[i])
                n += 1; si += a; sii += a * a; st += b; stt += b * b
            }
            guard n > 0 else { throw ECCError.degenerate(iteration: iteration) }
            let imgMean = si / n, tmpMean = st / n
            let imgNorm = (n * max(0, sii / n - imgMean * imgMean)).squareRoot()
            let tmpNorm = (n * max(0, stt / n - tmpMean * tmpMean)).squareRoot()
            let sums = projections(width: ws, height: hs, map: map, warped: warped, template: smoothedTemplate.values,
                                   mask: mask, imgMean: Float(imgMean), tmpMean: Float(tmpMean))
            let image = sums.image, template = sums.template, correlation = sums.correlation
            var hessian = [Double](repeating: 0, count: 64)
            for r in 0..<8 { for c in 0..<8 { hessian[r * 8 + c] = sums.hessian[min(r, c)][max(r, c)] } }
            guard let hinv = invert8(hessian) else { throw ECCError.degenerate(iteration: iteration) }
            let rho = correlation / (imgNorm * tmpNorm)
            guard !rho.isNaN else { throw ECCError.degenerate(iteration: iteration) }
            var iph = [Double](repeating: 0, count: 8)
            for r in 0..<8 { for c in 0..<8 { iph[r] += hinv[r * 8 + c] * image[c] } }
            var dotImage = 0.0, dotTemplate = 0.0
            for k in 0..<8 { dotImage += image[k] * iph[k]; dotTemplate += template[k] * iph[k] }
            let lambdaN = imgNorm * imgNorm - dotImage
            let lambdaD = correlation - dotTemplate
            guard lambdaD > 0 else { throw ECCError.diverging(iteration: iteration) }
            let lambda = lambdaN / lambdaD
            // error = lambda * template - image, projected: lambda * J'T - J'I.
            var delta = [Double](repeating: 0, count: 8)
            for r in 0..<8 {
                for c in 0..<8 { delta[r] += hinv[r * 8 + c] * (lambda * template[c] - image[c]) }
            }
            let order = [0, 3, 6, 1, 4, 7, 2, 5]
            for k in 0..<8 { map[order[k]] += Float(delta[k]) }
        }
        return map
    }

    /// The input and its two gradients (`packed`, one SIMD4 per source pixel) sampled as OpenCV's `warpPerspective`
    /// samples them under the map (bilinear on its 1/32-pixel tables, zero border; one set of coordinates and
    /// weights for all three), and the mask as its nearest-neighbour warp of a ones image.
    static func warpInputs(_ packed: [SIMD4<Float>], sourceWidth sw: Int, sourceHeight sh: Int, map: [Float],
                           width ws: Int, height hs: Int, warped: inout [SIMD4<Float>], mask: inout [UInt8]) {
        let m = map.map(Double.init)
        let bands = max(1, min(hs, 32))
        warped.withUnsafeMutableBufferPointer { wb in
        mask.withUnsafeMutableBufferPointer { mb in
        packed.withUnsafeBufferPointer { pb in
            let wo = SendablePointer(wb.baseAddress!), mo = SendablePointer(mb.baseAddress!)
            let pp = SendablePointer(pb.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: bands) { band in
                let p = pp.pointer
                @inline(__always) func at(_ x: Int, _ y: Int) -> SIMD4<Float> {
                    x >= 0 && x < sw && y >= 0 && y < sh ? p[y * sw + x] : .zero
                }
                for y in stride(from: band, to: hs, by: bands) {
                    let yd = Double(y)
                    let rowW = m[7] * yd + m[8], rowX = m[1] * yd + m[2], rowY = m[4] * yd + m[5]
                    for x in 0..<ws {
                        let xd = Double(x), i = y * ws + x
                        let w0 = m[6] * xd + rowW
                        let nx = m[0] * xd + rowX, ny = m[3] * xd + rowY
                        let (mx, my) = OpenCV.nearestPosition(nx, ny, w0)
                        mo.pointer[i] = mx >= 0 && mx < sw && my >= 0 && my < sh ? 1 : 0
                        let (sx, sy, ax, ay) = OpenCV.tablePosition(nx, ny, w0)
                        let w00 = (1 - ay) * (1 - ax), w01 = (1 - ay) * ax, w10 = ay * (1 - ax), w11 = ay * ax
                        var v = SIMD4<Float>.zero
                        if sx >= 0 && sx + 1 < sw && sy >= 0 && sy + 1 < sh {
                            let o = sy * sw + sx
                            v = p[o] * w00 + p[o + 1] * w01 + p[o + sw] * w10 + p[o + sw + 1] * w11
                        } else if !(sx >= sw || sx + 1 < 0 || sy >= sh || sy + 1 < 0) {
                            v = at(sx, sy) * w00 + at(sx + 1, sy) * w01 + at(sx, sy + 1) * w10 + at(sx + 1, sy + 1) * w11
                        }
                        wo.pointer[i] = v
                    }
                }
            }
        }
        }
        }
    }

    /// The Gauss-Newton Hessian J'J (rows, upper part used), J'I, J'T and T.I in double, with the images made
    /// zero-mean in float as OpenCV's masked subtract makes them (the image's pixels outside the mask keep their
    /// warped values; the template is 0 there) and OpenCV's homography Jacobian in float. Bands of rows are added
    /// in order, so the result does not depend on scheduling.
    struct Sums {
        var hessian = [SIMD8<Double>](repeating: .zero, count: 8)
        var image = SIMD8<Double>.zero, template = SIMD8<Double>.zero
        var correlation = 0.0

        /// Adds one row's moments: `q0`, `q1`, `q2` hold the sums of a_k a_l (in the order a0a0, a0a1, a0a2,
        /// a1a1, a1a2, a2a2) times 1, x and x^2; `p0`, `p1` those of a_k times the image (0-2) and the template
        /// (3-5), times 1 and x.
        mutating func add(row y: Double, q0: SIMD8<Double>, q1: SIMD8<Double>, q2: SIMD8<Double>,
                          p0: SIMD8<Double>, p1: SIMD8<Double>, correlation rowCorrelation: Double) {
            // J = (x a0, x a1, x a2, y a0, y a1, y a2, a0, a1): each entry is a weight (x, y or 1) times an a.
            let weight = [1, 1, 1, 2, 2, 2, 0, 0]  // 1: x, 2: y, 0: 1
            let factor = [0, 1, 2, 0, 1, 2, 0, 1]
            func pairIndex(_ k: Int, _ l: Int) -> Int {
                let (i, j) = (min(k, l), max(k, l))
                return [[0, 1, 2], [1, 3, 4], [2, 4, 5]][i][j]
            }
            var rows = hessian
            for r in 0..<8 {
                for c in r..<8 {
                    let q = pairIndex(factor[r], factor[c])
                    let value: Double
                    switch (weight[r], weight[c]) {
                    case (1, 1): value = q2[q]
                    case (1, 2), (2, 1): value = y * q1[q]
                    case (2, 2): value = y * y * q0[q]
                    case (1, 0), (0, 1): value = q1[q]
                    case (2, 0), (0, 2): value = y * q0[q]
                    default: value = q0[q]
                    }
                    rows[r][c] += value
                }
            }
            hessian = rows
            for r in 0..<8 {
                let k = factor[r]
                let scale: (Double, Double) = weight[r] == 1 ? (0, 1) : weight[r] == 2 ? (y, 0) : (1, 0)
                image[r] += scale.0 * p0[k] + scale.1 * p1[k]
                template[r] += scale.0 * p0[3 + k] + scale.1 * p1[3 + k]
            }
            correlation += rowCorrelation
        }
    }

    static func projections(width ws: Int, height hs: Int, map: [Float], warped: [SIMD4<Float>], template: [Float],
                            mask: [UInt8], imgMean: Float, tmpMean: Float) -> Sums {
        let h0 = map[0], h1 = map[3], h2 = map[6], h3 = map[1], h4 = map[4], h5 = map[7], h6 = map[2], h7 = map[5]
        let bands = max(1, min(hs, 32))
        let rowsPerBand = (hs + bands - 1) / bands
        var partial = [Sums](repeating: Sums(), count: bands)
        partial.withUnsafeMutableBufferPointer { buffer in
            let out = SendablePointer(buffer.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: bands) { band in
                var total = Sums()
                warped.withUnsafeBufferPointer { w in
                template.withUnsafeBufferPointer { t in
                mask.withUnsafeBufferPointer { m in
                    for y in min(hs, band * rowsPerBand)..<min(hs, (band + 1) * rowsPerBand) {
                        // The Jacobian is J = (x a, y a, dx, dy) with a = (dx, dy, t), so along a row (y fixed)
                        // every product J_r J_c is a_k a_l times x^2, x or 1 (times powers of y, applied once per
                        // row): the row sums those 6 products in three moments instead of 36 products per pixel.
                        var q0 = SIMD8<Double>.zero, q1 = SIMD8<Double>.zero, q2 = SIMD8<Double>.zero
                        var p0 = SIMD8<Double>.zero, p1 = SIMD8<Double>.zero
                        var correlation = 0.0
                        let yf = Float(y)
                        for x in 0..<ws {
                            let i = y * ws + x, xf = Float(x)
                            let inside = m[i] != 0
                            let sample = w[i]
                            let img = inside ? sample[0] - imgMean : sample[0]
                            let tmp = inside ? t[i] - tmpMean : 0
                            let den = xf * h2 + yf * h5 + 1
                            let hatX = (-xf * h0 - yf * h3 - h6) / den
                            let hatY = (-xf * h1 - yf * h4 - h7) / den
                            let dx = sample[1] / den, dy = sample[2] / den
                            let tt = hatX * dx + hatY * dy
                            let a0 = Double(dx), a1 = Double(dy), a2 = Double(tt), xd = Double(x)
                            // a0a0 a0a1 a0a2 a1a1 a1a2 a2a2, and a0 a1 a2 times the image and the template.
                            let products = SIMD8<Double>(a0 * a0, a0 * a1, a0 * a2, a1 * a1, a1 * a2, a2 * a2, 0, 0)
                            q0 += products
                            q1 += products * xd
                            q2 += products * (xd * xd)
                            let di = Double(img), dt = Double(tmp)
                            let projected = SIMD8<Double>(a0 * di, a1 * di, a2 * di, a0 * dt, a1 * dt, a2 * dt, 0, 0)
                            p0 += projected
                            p1 += projected * xd
                            correlation += dt * di
                        }
                        total.add(row: Double(y), q0: q0, q1: q1, q2: q2, p0: p0, p1: p1, correlation: correlation)
                    }
                }
                }
                }
                out.pointer[band] = total
            }
        }
        var total = Sums()
        for s in partial {
            for r in 0..<8 { total.hessian[r] += s.hessian[r] }
            total.image += s.image
            total.template += s.template
            total.correlation += s.correlation
        }
        return total
    }

    /// The inverse of an 8x8 matrix by Gauss-Jordan elimination with partial pivoting; nil when singular.
    static func invert8(_ a: [Double]) -> [Double]? {
        let n = 8
        var m = a, inv = [Double](repeating: 0, count: 64)
        for i in 0..<n { inv[i * n + i] = 1 }
        for col in 0..<n {
            var pivot = col
            for r in (col + 1)..<n where abs(m[r * n + col]) > abs(m[pivot * n + col]) { pivot = r }
            guard m[pivot * n + col] != 0, m[pivot * n + col].isFinite else { return nil }
            if pivot != col {
                for k in 0..<n { m.swapAt(pivot * n + k, col * n + k); inv.swapAt(pivot * n + k, col * n + k) }
            }
            let d = m[col * n + col]
            for k in 0..<n { m[col * n + k] /= d; inv[col * n + k] /= d }
            for r in 0..<n where r != col {
                let f = m[r * n + col]
                if f == 0 { continue }
                for k in 0..<n { m[r * n + k] -= f * m[col * n + k]; inv[r * n + k] -= f * inv[col * n + k] }
            }
        }
        return inv
    }
}
