import CKernels
import Foundation
import NeuralCore
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
public enum ECCHomography {
    /// The homography of two grey planes of `width` x `height` (row-major), with the kernels compiled for `level`
    /// (the tests run every level the CPU has): 9 floats, row-major, template pixels to input pixels.
    public static func find(template: [Float], input: [Float], width: Int, height: Int, iterations: Int,
                            level: KernelLevel) throws -> [Float] {
        try find(template: FloatPlane(width: width, height: height, values: template),
                 input: FloatPlane(width: width, height: height, values: input), iterations: iterations, level: level)
    }

    static func find(template: FloatPlane, input: FloatPlane, iterations: Int,
                     level: KernelLevel = Kernels.choice.level) throws -> [Float] {
        let (ws, hs) = (template.width, template.height)
        let smoothedTemplate = OpenCV.gaussian5(template)
        let smoothedInput = OpenCV.gaussian5(input)
        let (gx, gy) = OpenCV.gradients(smoothedInput)
        // p: m00, m10, m20, m01, m11, m21, m02, m12 (OpenCV's parameter order); m22 stays 1.
        var map: [Float] = [1, 0, 0, 0, 1, 0, 0, 0, 1]
        // The input and its gradients side by side (4 floats a pixel), so one pixel's three samples are adjacent.
        var packed = [Float](repeating: 0, count: 4 * input.width * input.height)
        for i in 0..<(input.width * input.height) {
            packed[4 * i] = smoothedInput.values[i]
            packed[4 * i + 1] = gx.values[i]
            packed[4 * i + 2] = gy.values[i]
        }
        var warped = [Float](repeating: 0, count: 4 * ws * hs)
        var mask = [UInt8](repeating: 0, count: ws * hs)
        for iteration in 1...max(1, iterations) {
            let moments = warpInputs(packed, sourceWidth: input.width, sourceHeight: input.height, map: map, width: ws,
                                     height: hs, template: smoothedTemplate.values, warped: &warped, mask: &mask,
                                     level: level)
            // meanStdDev over the mask, in double.
            let (n, si, sii, st, stt) = (moments[0], moments[1], moments[2], moments[3], moments[4])
            guard n > 0 else { throw ECCError.degenerate(iteration: iteration) }
            let imgMean = si / n, tmpMean = st / n
            let imgNorm = (n * max(0, sii / n - imgMean * imgMean)).squareRoot()
            let tmpNorm = (n * max(0, stt / n - tmpMean * tmpMean)).squareRoot()
            let sums = projections(width: ws, height: hs, map: map, warped: warped, template: smoothedTemplate.values,
                                   mask: mask, imgMean: Float(imgMean), tmpMean: Float(tmpMean), level: level)
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

    /// The input and its two gradients (`packed`, 4 floats a source pixel) sampled as OpenCV's `warpPerspective`
    /// samples them under the map (bilinear on its 1/32-pixel tables, zero border; one set of coordinates and
    /// weights for all three), and the mask as its nearest-neighbour warp of a ones image (`ck_ecc_warp_row`, one
    /// call per row). Returns, over the mask, the count and the sums of the warped input, its square, the template
    /// and its square (in double, bands added in order), for the masked mean and deviation.
    static func warpInputs(_ packed: [Float], sourceWidth sw: Int, sourceHeight sh: Int, map: [Float], width ws: Int,
                           height hs: Int, template: [Float], warped: inout [Float], mask: inout [UInt8],
                           level: KernelLevel) -> [Double] {
        let m = map.map(Double.init)
        let bands = max(1, min(hs, 32))
        var bandMoments = [Double](repeating: 0, count: 8 * bands)
        bandMoments.withUnsafeMutableBufferPointer { momentsBuffer in
        template.withUnsafeBufferPointer { tb in
        warped.withUnsafeMutableBufferPointer { wb in
        mask.withUnsafeMutableBufferPointer { mb in
        packed.withUnsafeBufferPointer { pb in
        m.withUnsafeBufferPointer { mp in
            let momentsOut = SendablePointer(momentsBuffer.baseAddress!), tp = SendablePointer(tb.baseAddress!)
            let wo = SendablePointer(wb.baseAddress!), mo = SendablePointer(mb.baseAddress!)
            let pp = SendablePointer(pb.baseAddress!), mapPointer = SendablePointer(mp.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: bands) { band in
                let scratch = UnsafeMutablePointer<Int32>.allocate(capacity: 2 * ws)
                defer { scratch.deallocate() }
                for y in stride(from: band, to: hs, by: bands) {
                    ck_ecc_warp_row(level.cValue, Int32(sw), Int32(sh), pp.pointer, mapPointer.pointer, Int32(ws),
                                    Int32(y), tp.pointer + y * ws, wo.pointer + 4 * y * ws, mo.pointer + y * ws,
                                    scratch, momentsOut.pointer + 8 * band)
                }
            }
        }
        }
        }
        }
        }
        }
        var total = [Double](repeating: 0, count: 5)
        for band in 0..<bands {
            for k in 0..<5 { total[k] += bandMoments[8 * band + k] }
        }
        return total
    }

    /// The Gauss-Newton sums (`ck_ecc_row_moments`, one call per row; bands of rows added in order, so the result
    /// does not depend on scheduling), with the images made zero-mean in float as OpenCV's masked subtract makes them.
    static func projections(width ws: Int, height hs: Int, map: [Float], warped: [Float], template: [Float],
                            mask: [UInt8], imgMean: Float, tmpMean: Float, level: KernelLevel) -> Sums {
        let h: [Float] = [map[0], map[3], map[6], map[1], map[4], map[7], map[2], map[5]]
        let bands = max(1, min(hs, 32))
        let rowsPerBand = (hs + bands - 1) / bands
        var partial = [Sums](repeating: Sums(), count: bands)
        partial.withUnsafeMutableBufferPointer { buffer in
            let out = SendablePointer(buffer.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: bands) { band in
                var total = Sums()
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 5 * ws)
                defer { scratch.deallocate() }
                var row = [Double](repeating: 0, count: 31)
                warped.withUnsafeBufferPointer { w in
                template.withUnsafeBufferPointer { t in
                mask.withUnsafeBufferPointer { m in
                h.withUnsafeBufferPointer { hp in
                row.withUnsafeMutableBufferPointer { r in
                    for y in min(hs, band * rowsPerBand)..<min(hs, (band + 1) * rowsPerBand) {
                        ck_ecc_row_moments(level.cValue, Int32(ws), Float(y), hp.baseAddress!, w.baseAddress! + 4 * y * ws,
                                           t.baseAddress! + y * ws, m.baseAddress! + y * ws, imgMean, tmpMean,
                                           scratch, r.baseAddress!)
                        func vector(_ a: Int, _ b: Int) -> SIMD8<Double> {
                            SIMD8(r[a], r[a + 1], r[a + 2], r[b], r[b + 1], r[b + 2], 0, 0)
                        }
                        total.add(row: Double(y), q0: vector(0, 3), q1: vector(6, 9), q2: vector(12, 15),
                                  p0: vector(18, 21), p1: vector(24, 27), correlation: r[30])
                    }
                }
                }
                }
                }
                }
                out.pointer[band] = total
            }
        }
        return partial.reduce(into: Sums()) { $0.add($1) }
    }

    /// The Gauss-Newton Hessian J'J (rows, upper part used), J'I, J'T and T.I in double, from the rows' moments
    /// (OpenCV's homography Jacobian in float).
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

        /// Adds another band's sums.
        mutating func add(_ other: Sums) {
            for r in 0..<8 { hessian[r] += other.hessian[r] }
            image += other.image
            template += other.template
            correlation += other.correlation
        }
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
