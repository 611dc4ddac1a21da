import CKernels
import Foundation
import NeuralCore
import ThreadSupport

/// PSNR, SSIM (both conventions) and MAE, computed in double over all pixels and channels.
public enum PixelMetrics {
    static func checkSizes(_ a: MetricImage, _ b: MetricImage) throws {
        guard a.width == b.width, a.height == b.height else {
            throw MetricsError.sizeMismatch(output: "\(a.width)x\(a.height)", target: "\(b.width)x\(b.height)")
        }
    }

    /// 10 log10(1 / MSE) for images in [0, 1]; infinite for identical images.
    public static func psnr(_ output: MetricImage, _ target: MetricImage) throws -> Double {
        try checkSizes(output, target)
        var sum = 0.0
        for i in output.pixels.indices {
            let d = output.pixels[i] - target.pixels[i]
            sum += d * d
        }
        let mse = sum / Double(output.pixels.count)
        return 10 * log10(1 / mse)
    }

    /// Mean absolute error over pixels and channels (per channel, then the mean of the three: the same number,
    /// since the channels have equal size).
    public static func mae(_ output: MetricImage, _ target: MetricImage) throws -> Double {
        try checkSizes(output, target)
        var total = 0.0
        let n = output.planeSize
        for c in 0..<3 {
            var sum = 0.0
            for i in (c * n)..<((c + 1) * n) { sum += abs(output.pixels[i] - target.pixels[i]) }
            total += sum / Double(n)
        }
        return total / 3
    }

    /// SSIM as the defocus-deblurring papers (DPDD, IFAN) report it: scikit-image's `structural_similarity`
    /// defaults with data_range 1 - uniform 7x7 window, sample covariance (N/(N-1)), K1 = 0.01, K2 = 0.03, the
    /// mean over the pixels at least 3 from the border, then the mean over R, G, B.
    public static func ssim(_ output: MetricImage, _ target: MetricImage) throws -> Double {
        try structuralSimilarity(output, target, window: [Double](repeating: 1.0 / 7, count: 7), sampleCovariance: true,
                                 name: "SSIM")
    }

    /// SSIM as Wang et al. (2004) define it and RealBlur evaluates it: an 11x11 Gaussian window (sigma 1.5),
    /// population covariance, K1 = 0.01, K2 = 0.03, over the positions where the window fits, mean over R, G, B.
    /// It gives different numbers from `ssim`; papers are not consistent about which one they print.
    public static func ssimGaussian(_ output: MetricImage, _ target: MetricImage) throws -> Double {
        try ssimGaussian(output, target, mask: nil)
    }

    /// The same with each position weighted by `mask` (one plane), as RealBlur weights its aligned images' map.
    static func ssimGaussian(_ output: MetricImage, _ target: MetricImage, mask: [Double]?) throws -> Double {
        try structuralSimilarity(output, target, window: gaussianWindow, sampleCovariance: false, name: "Gaussian SSIM",
                                 mask: mask)
    }

    /// Wang et al.'s window, one axis: 11 taps of a Gaussian with sigma 1.5, summing to 1 (OpenCV's
    /// `getGaussianKernel(11, 1.5)`).
    public static let gaussianWindow: [Double] = {
        let taps = (-5...5).map { exp(-Double($0 * $0) / (2 * 1.5 * 1.5)) }
        let total = taps.reduce(0, +)
        return taps.map { $0 / total }
    }()

    /// The mean SSIM map over the positions where the separable window lies inside the image. (scikit-image
    /// filters with reflected borders and then drops a border of half the window, which leaves exactly these.)
    ///
    /// With `mask` (one plane of weights), each position's SSIM is weighted by the mask there and each channel's
    /// mean is the weighted sum over the summed weights, as RealBlur's evaluation trims and weights its map.
    static func structuralSimilarity(_ a: MetricImage, _ b: MetricImage, window: [Double], sampleCovariance: Bool,
                                     name: String, mask: [Double]? = nil) throws -> Double {
        try checkSizes(a, b)
        return try structuralSimilarity(a.pixels, b.pixels, width: a.width, height: a.height, channels: 3, window: window,
                                        sampleCovariance: sampleCovariance, name: name, mask: mask)
    }

    /// The same over `channels` planes of `width` x `height` values in [0, `range`] (SSIM's constants scale with it),
    /// by the C kernel `ck_ssim_rows` compiled for `level`: one task per band of output rows and channel, each
    /// returning its sum (and its mask weights), added in order.
    public static func structuralSimilarity(_ aPixels: [Double], _ bPixels: [Double], width w: Int, height h: Int,
                                            channels: Int, window: [Double], sampleCovariance: Bool, name: String,
                                            mask: [Double]? = nil, range: Double = 1,
                                            level: KernelLevel = Kernels.choice.level) throws -> Double {
        let k = window.count
        guard w >= k, h >= k else { throw MetricsError.tooSmall(metric: name, width: w, height: h, minimum: k) }
        precondition(aPixels.count == channels * w * h && bPixels.count == aPixels.count
                     && (mask?.count ?? w * h) == w * h, "SSIM: planes of the wrong size")
        let (ow, oh) = (w - k + 1, h - k + 1)
        let n = Double(k * k)
        let covarianceNorm = sampleCovariance ? n / (n - 1) : 1
        let c1 = (0.01 * range) * (0.01 * range), c2 = (0.03 * range) * (0.03 * range)
        let plane = w * h
        // Bands of 128 rows: each band re-reads k - 1 rows above its first, and 3 x 9 tasks still share two cores evenly.
        let bandRows = 128
        let bands = (oh + bandRows - 1) / bandRows
        var sums = [Double](repeating: 0, count: 2 * channels * bands)
        let scratchCount = ck_ssim_scratch(Int32(k))
        sums.withUnsafeMutableBufferPointer { sumsOut in
            let out = SendablePointer(sumsOut.baseAddress!)
            aPixels.withUnsafeBufferPointer { pa in
                bPixels.withUnsafeBufferPointer { pb in
                    window.withUnsafeBufferPointer { pw in
                        (mask ?? []).withUnsafeBufferPointer { pm in
                            let x0 = SendablePointer(pa.baseAddress!), y0 = SendablePointer(pb.baseAddress!)
                            let taps = SendablePointer(pw.baseAddress!)
                            let weights = mask == nil ? nil : pm.baseAddress.map { SendablePointer($0) }
                            DispatchQueue.concurrentPerform(iterations: channels * bands) { task in
                                let c = task / bands, band = task % bands
                                let first = band * bandRows, last = min(oh, first + bandRows)
                                let scratch = UnsafeMutablePointer<Double>.allocate(capacity: scratchCount)
                                defer { scratch.deallocate() }
                                ck_ssim_rows(level.cValue, x0.pointer + c * plane, y0.pointer + c * plane, Int32(w),
                                             taps.pointer, Int32(k), covarianceNorm, c1, c2, weights?.pointer,
                                             Int32(first), Int32(last), scratch, out.pointer + 2 * task)
                            }
                        }
                    }
                }
            }
        }
        var mean = 0.0
        for c in 0..<channels {
            var total = 0.0, weight = 0.0
            for band in 0..<bands {
                total += sums[2 * (c * bands + band)]
                weight += sums[2 * (c * bands + band) + 1]
            }
            mean += total / (mask == nil ? Double(ow * oh) : weight)
        }
        return mean / Double(channels)
    }

    /// The naive reference of `structuralSimilarity(_:_:width:height:...)` (the C kernel `ck_ssim_rows` is the fast
    /// one; tests compare them): per band of rows, the horizontal pass of the five quantities into whole-band buffers,
    /// then the vertical pass, in double, summed in order.
    public static func referenceStructuralSimilarity(_ aPixels: [Double], _ bPixels: [Double], width w: Int,
                                                     height h: Int, channels: Int, window: [Double],
                                                     sampleCovariance: Bool, name: String, mask: [Double]? = nil,
                                                     range: Double = 1) throws -> Double {
        let k = window.count
        guard w >= k, h >= k else { throw MetricsError.tooSmall(metric: name, width: w, height: h, minimum: k) }
        let (ow, oh) = (w - k + 1, h - k + 1)
        let n = Double(k * k)
        let covarianceNorm = sampleCovariance ? n / (n - 1) : 1
        let c1 = (0.01 * range) * (0.01 * range), c2 = (0.03 * range) * (0.03 * range)
        let plane = w * h
        // One task per band of output rows and channel; each returns the sum of its SSIM values.
        let bandRows = 64
        let bands = (oh + bandRows - 1) / bandRows
        var sums = [Double](repeating: 0, count: channels * bands)
        var weights = [Double](repeating: 0, count: channels * bands)
        let maskOrNil = mask
        weights.withUnsafeMutableBufferPointer { weightsOut in
        let weightOut = SendablePointer(weightsOut.baseAddress!)
        sums.withUnsafeMutableBufferPointer { sumsOut in
            let out = SendablePointer(sumsOut.baseAddress!)
            aPixels.withUnsafeBufferPointer { pa in
                bPixels.withUnsafeBufferPointer { pb in
                    let x0 = SendablePointer(pa.baseAddress!), y0 = SendablePointer(pb.baseAddress!)
                    DispatchQueue.concurrentPerform(iterations: channels * bands) { task in
                        let c = task / bands, band = task % bands
                        let x = x0.pointer + c * plane, y = y0.pointer + c * plane
                        let first = band * bandRows, last = min(oh, first + bandRows)
                        let inRows = last - first + k - 1
                        // Horizontal pass of the five quantities over the band's input rows ...
                        let rows = UnsafeMutablePointer<Double>.allocate(capacity: 5 * inRows * ow)
                        defer { rows.deallocate() }
                        rows.initialize(repeating: 0, count: 5 * inRows * ow)
                        let stride = inRows * ow
                        for r in 0..<inRows {
                            let src = (first + r) * w
                            let hx = rows + r * ow, hy = hx + stride, hxx = hy + stride, hyy = hxx + stride, hxy = hyy + stride
                            for t in 0..<k {
                                let wt = window[t]
                                let px = x + src + t, py = y + src + t
                                for o in 0..<ow {
                                    let xv = px[o], yv = py[o]
                                    hx[o] += wt * xv
                                    hy[o] += wt * yv
                                    hxx[o] += wt * xv * xv
                                    hyy[o] += wt * yv * yv
                                    hxy[o] += wt * xv * yv
                                }
                            }
                        }
                        // ... then the vertical pass, one output row at a time.
                        let acc = UnsafeMutablePointer<Double>.allocate(capacity: 5 * ow)
                        defer { acc.deallocate() }
                        var total = 0.0, weight = 0.0
                        for oy in 0..<(last - first) {
                            acc.initialize(repeating: 0, count: 5 * ow)
                            for t in 0..<k {
                                let wt = window[t]
                                for q in 0..<5 {
                                    let src = rows + q * stride + (oy + t) * ow, dst = acc + q * ow
                                    for o in 0..<ow { dst[o] += wt * src[o] }
                                }
                            }
                            for o in 0..<ow {
                                let ux = acc[o], uy = acc[ow + o], uxx = acc[2 * ow + o], uyy = acc[3 * ow + o]
                                let uxy = acc[4 * ow + o]
                                let vx = covarianceNorm * (uxx - ux * ux)
                                let vy = covarianceNorm * (uyy - uy * uy)
                                let vxy = covarianceNorm * (uxy - ux * uy)
                                let value = (2 * ux * uy + c1) * (2 * vxy + c2) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
                                if let maskOrNil {
                                    let m = maskOrNil[(first + oy + k / 2) * w + o + k / 2]
                                    total += value * m
                                    weight += m
                                } else {
                                    total += value
                                }
                            }
                        }
                        out.pointer[task] = total
                        weightOut.pointer[task] = weight
                    }
                }
            }
        }
        }
        var mean = 0.0
        for c in 0..<channels {
            let total = sums[(c * bands)..<((c + 1) * bands)].reduce(0, +)
            let weight = mask == nil ? Double(ow * oh) : weights[(c * bands)..<((c + 1) * bands)].reduce(0, +)
            mean += total / weight
        }
        return mean / Double(channels)
    }

    /// The BT.601 luma of an image on the 0-255 scale, one plane, as BasicSR's `to_y_channel` holds it: the
    /// values / 255 in float32, Y = 16 + 65.481 R + 128.553 G + 24.966 B in double, then / 255 and back * 255 in
    /// float32 (so the numbers are BasicSR's to the last bit, not just to the 0.01 dB a comparison needs).
    public static func lumaBT601(_ image: MetricImage) -> [Double] {
        let n = image.planeSize
        return image.pixels.withUnsafeBufferPointer { p in
            (0..<n).map { i in
                let r = Double(Float(p[i])), g = Double(Float(p[n + i])), b = Double(Float(p[2 * n + i]))
                let y = b * 24.966 + g * 128.553 + r * 65.481 + 16
                return Double(Float(y / 255) * 255)
            }
        }
    }

    /// PSNR and SSIM on the BT.601 luma, as BasicSR's `calculate_psnr` and `calculate_ssim` with
    /// `test_y_channel=True` compute them: 10 log10(255^2 / MSE) on the 0-255 luma, and the 11x11 Gaussian SSIM
    /// (sigma 1.5, population covariance, constants for a range of 255) averaged over the positions where the
    /// window fits.
    public static func luma(_ output: MetricImage, _ target: MetricImage) throws -> (psnr: Double, ssim: Double) {
        try checkSizes(output, target)
        let y1 = lumaBT601(output), y2 = lumaBT601(target)
        var sum = 0.0
        for i in y1.indices {
            let d = y1[i] - y2[i]
            sum += d * d
        }
        let mse = sum / Double(y1.count)
        let ssim = try structuralSimilarity(y1, y2, width: output.width, height: output.height, channels: 1,
                                            window: gaussianWindow, sampleCovariance: false, name: "Gaussian SSIM on Y",
                                            range: 255)
        return (10 * log10(255 * 255 / mse), ssim)
    }
}
