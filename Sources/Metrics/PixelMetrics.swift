import Foundation

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
        let sigma = 1.5
        let taps = (-5...5).map { exp(-Double($0 * $0) / (2 * sigma * sigma)) }
        let total = taps.reduce(0, +)
        return try structuralSimilarity(output, target, window: taps.map { $0 / total }, sampleCovariance: false,
                                        name: "Gaussian SSIM")
    }

    /// The mean SSIM map over the positions where the separable window lies inside the image. (scikit-image
    /// filters with reflected borders and then drops a border of half the window, which leaves exactly these.)
    static func structuralSimilarity(_ a: MetricImage, _ b: MetricImage, window: [Double], sampleCovariance: Bool,
                                     name: String) throws -> Double {
        try checkSizes(a, b)
        let k = window.count
        let (w, h) = (a.width, a.height)
        guard w >= k, h >= k else { throw MetricsError.tooSmall(metric: name, width: w, height: h, minimum: k) }
        let (ow, oh) = (w - k + 1, h - k + 1)
        let n = Double(k * k)
        let covarianceNorm = sampleCovariance ? n / (n - 1) : 1
        let c1 = 0.01 * 0.01, c2 = 0.03 * 0.03
        var means = [Double](repeating: 0, count: 3)
        let plane = a.planeSize
        means.withUnsafeMutableBufferPointer { meansOut in
            let out = SendableDoubles(meansOut.baseAddress!)
            a.pixels.withUnsafeBufferPointer { pa in
                b.pixels.withUnsafeBufferPointer { pb in
                    let x0 = SendableConstDoubles(pa.baseAddress!), y0 = SendableConstDoubles(pb.baseAddress!)
                    DispatchQueue.concurrentPerform(iterations: 3) { c in
                        let x = x0.pointer + c * plane, y = y0.pointer + c * plane
                        // Horizontal pass of the five quantities over every row, then the vertical pass.
                        var rows = [[Double]](repeating: [Double](repeating: 0, count: ow * h), count: 5)
                        for row in 0..<h {
                            let base = row * w
                            for ox in 0..<ow {
                                var sx = 0.0, sy = 0.0, sxx = 0.0, syy = 0.0, sxy = 0.0
                                for t in 0..<k {
                                    let xv = x[base + ox + t], yv = y[base + ox + t], wt = window[t]
                                    sx += wt * xv
                                    sy += wt * yv
                                    sxx += wt * xv * xv
                                    syy += wt * yv * yv
                                    sxy += wt * xv * yv
                                }
                                let o = row * ow + ox
                                rows[0][o] = sx
                                rows[1][o] = sy
                                rows[2][o] = sxx
                                rows[3][o] = syy
                                rows[4][o] = sxy
                            }
                        }
                        var total = 0.0
                        for oy in 0..<oh {
                            for ox in 0..<ow {
                                var ux = 0.0, uy = 0.0, uxx = 0.0, uyy = 0.0, uxy = 0.0
                                for t in 0..<k {
                                    let o = (oy + t) * ow + ox, wt = window[t]
                                    ux += wt * rows[0][o]
                                    uy += wt * rows[1][o]
                                    uxx += wt * rows[2][o]
                                    uyy += wt * rows[3][o]
                                    uxy += wt * rows[4][o]
                                }
                                let vx = covarianceNorm * (uxx - ux * ux)
                                let vy = covarianceNorm * (uyy - uy * uy)
                                let vxy = covarianceNorm * (uxy - ux * uy)
                                let numerator = (2 * ux * uy + c1) * (2 * vxy + c2)
                                let denominator = (ux * ux + uy * uy + c1) * (vx + vy + c2)
                                total += numerator / denominator
                            }
                        }
                        out.pointer[c] = total / Double(ow * oh)
                    }
                }
            }
        }
        return means.reduce(0, +) / 3
    }
}

struct SendableDoubles: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Double>
    init(_ pointer: UnsafeMutablePointer<Double>) { self.pointer = pointer }
}

struct SendableConstDoubles: @unchecked Sendable {
    let pointer: UnsafePointer<Double>
    init(_ pointer: UnsafePointer<Double>) { self.pointer = pointer }
}
