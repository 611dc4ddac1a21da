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
        let ones = FloatPlane(width: input.width, height: input.height, repeating: 1)
        // p: m00, m10, m20, m01, m11, m21, m02, m12 (OpenCV's parameter order); m22 stays 1.
        var map: [Float] = [1, 0, 0, 0, 1, 0, 0, 0, 1]
        for iteration in 1...max(1, iterations) {
            let m = map.map(Double.init)
            let warped = OpenCV.warp(smoothedInput, m, width: ws, height: hs, interpolation: .linear, border: .zero)
            let wgx = OpenCV.warp(gx, m, width: ws, height: hs, interpolation: .linear, border: .zero)
            let wgy = OpenCV.warp(gy, m, width: ws, height: hs, interpolation: .linear, border: .zero)
            let mask = OpenCV.warp(ones, m, width: ws, height: hs, interpolation: .nearest, border: .zero)

            // Means and population deviations over the mask (meanStdDev), in double.
            var count = 0
            var si = 0.0, sii = 0.0, st = 0.0, stt = 0.0
            for i in 0..<(ws * hs) where mask.values[i] != 0 {
                count += 1
                let a = Double(warped.values[i]), b = Double(smoothedTemplate.values[i])
                si += a; sii += a * a; st += b; stt += b * b
            }
            guard count > 0 else { throw ECCError.degenerate(iteration: iteration) }
            let n = Double(count)
            let imgMean = si / n, tmpMean = st / n
            let imgVar = max(0, sii / n - imgMean * imgMean), tmpVar = max(0, stt / n - tmpMean * tmpMean)
            let imgNorm = (n * imgVar).squareRoot(), tmpNorm = (n * tmpVar).squareRoot()
            let fImgMean = Float(imgMean), fTmpMean = Float(tmpMean)

            // The image is made zero-mean only under the mask (outside it keeps its warped values, as OpenCV's
            // masked subtract leaves them); the template is zero outside the mask.
            let sums = projections(ws: ws, hs: hs, map: map, warped: warped.values, template: smoothedTemplate.values,
                                   mask: mask.values, gx: wgx.values, gy: wgy.values, imgMean: fImgMean, tmpMean: fTmpMean)
            guard let hinv = invert8(sums.hessian) else { throw ECCError.degenerate(iteration: iteration) }
            let correlation = sums.correlation
            let rho = correlation / (imgNorm * tmpNorm)
            guard !rho.isNaN else { throw ECCError.degenerate(iteration: iteration) }
            var iph = [Double](repeating: 0, count: 8)
            for r in 0..<8 { for c in 0..<8 { iph[r] += hinv[r * 8 + c] * sums.image[c] } }
            var dotImage = 0.0, dotTemplate = 0.0
            for k in 0..<8 { dotImage += sums.image[k] * iph[k]; dotTemplate += sums.template[k] * iph[k] }
            let lambdaN = imgNorm * imgNorm - dotImage
            let lambdaD = correlation - dotTemplate
            guard lambdaD > 0 else { throw ECCError.diverging(iteration: iteration) }
            let lambda = lambdaN / lambdaD
            // error = lambda * template - image, projected: lambda * J'T - J'I.
            var delta = [Double](repeating: 0, count: 8)
            for r in 0..<8 {
                for c in 0..<8 { delta[r] += hinv[r * 8 + c] * (lambda * sums.template[c] - sums.image[c]) }
            }
            let order = [0, 3, 6, 1, 4, 7, 2, 5]
            for k in 0..<8 { map[order[k]] += Float(delta[k]) }
        }
        return map
    }

    struct Sums {
        var hessian = [Double](repeating: 0, count: 64)
        var image = [Double](repeating: 0, count: 8)
        var template = [Double](repeating: 0, count: 8)
        var correlation = 0.0
    }

    /// One pass over the template grid: the Gauss-Newton Hessian J'J, J'I, J'T and T.I, with OpenCV's homography
    /// Jacobian, in double. Bands of rows are summed in order, so the result does not depend on scheduling.
    static func projections(ws: Int, hs: Int, map: [Float], warped: [Float], template: [Float], mask: [Float],
                            gx: [Float], gy: [Float], imgMean: Float, tmpMean: Float) -> Sums {
        let h0 = map[0], h1 = map[3], h2 = map[6], h3 = map[1], h4 = map[4], h5 = map[7], h6 = map[2], h7 = map[5]
        let bands = max(1, min(hs, 32))
        let rowsPerBand = (hs + bands - 1) / bands
        var partial = [Sums](repeating: Sums(), count: bands)
        partial.withUnsafeMutableBufferPointer { buffer in
            let out = SendablePointer(buffer.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: bands) { band in
                var s = Sums()
                var j = [Double](repeating: 0, count: 8)
                for y in min(hs, band * rowsPerBand)..<min(hs, (band + 1) * rowsPerBand) {
                    let yf = Float(y)
                    for x in 0..<ws {
                        let i = y * ws + x
                        let xf = Float(x)
                        let inside = mask[i] != 0
                        let img = inside ? warped[i] - imgMean : warped[i]
                        let tmp = inside ? template[i] - tmpMean : 0
                        let den = xf * h2 + yf * h5 + 1
                        let hatX = (-xf * h0 - yf * h3 - h6) / den
                        let hatY = (-xf * h1 - yf * h4 - h7) / den
                        let dx = gx[i] / den, dy = gy[i] / den
                        let t = hatX * dx + hatY * dy
                        j[0] = Double(dx * xf); j[1] = Double(dy * xf); j[2] = Double(t * xf)
                        j[3] = Double(dx * yf); j[4] = Double(dy * yf); j[5] = Double(t * yf)
                        j[6] = Double(dx); j[7] = Double(dy)
                        let di = Double(img), dt = Double(tmp)
                        for r in 0..<8 {
                            s.image[r] += j[r] * di
                            s.template[r] += j[r] * dt
                            for c in r..<8 { s.hessian[r * 8 + c] += j[r] * j[c] }
                        }
                        s.correlation += dt * di
                    }
                }
                out.pointer[band] = s
            }
        }
        var total = Sums()
        for s in partial {
            for k in 0..<64 { total.hessian[k] += s.hessian[k] }
            for k in 0..<8 { total.image[k] += s.image[k]; total.template[k] += s.template[k] }
            total.correlation += s.correlation
        }
        for r in 0..<8 { for c in 0..<r { total.hessian[r * 8 + c] = total.hessian[c * 8 + r] } }
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
