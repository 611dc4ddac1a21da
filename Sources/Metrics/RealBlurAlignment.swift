import Foundation

/// A restored image brought onto its ground truth the way RealBlur's evaluation (`evaluation_RealBlur_ecc.py`,
/// after Köhler et al.) does before it scores: one global gain on the output (sum(gt * out) / sum(out * out)), the
/// ECC homography of the gain-matched output's grey image onto the ground truth's (from the identity, 100
/// iterations), a cubic warp with reflected borders, and the valid region as a ones image warped with nearest
/// neighbour and a zero border. Both images are multiplied by that mask, which then weights the scores.
public struct RealBlurAlignment: Sendable {
    /// The gain-matched, warped output times the mask.
    public var output: MetricImage
    /// The ground truth times the mask.
    public var target: MetricImage
    /// One plane: 1 where the warped output is valid, 0 where the warp left the image.
    public var mask: [Double]
    /// Maps ground-truth pixels to output pixels (row-major 3x3; float32 values, as OpenCV keeps them).
    public var homography: [Double]
    public var gain: Double

    /// The script's settings: 100 iterations, no early stop.
    public static let iterations = 100

    public init(output: MetricImage, target: MetricImage, iterations: Int = RealBlurAlignment.iterations) throws {
        try PixelMetrics.checkSizes(output, target)
        let (w, h) = (target.width, target.height), n = w * h
        // float32 values, as the script's `imread(...).astype('float32') / 255`.
        let z = output.pixels.map(Float.init), x = target.pixels.map(Float.init)
        var xz = 0.0, zz = 0.0
        for i in z.indices { xz += Double(x[i] * z[i]); zz += Double(z[i] * z[i]) }
        guard zz > 0 else { throw MetricsError.badImage("the output is black: RealBlur's gain matching divides by its energy") }
        let gain = Float(Float(xz) / Float(zz))
        let zs = z.map { $0 * gain }
        func planes(_ v: [Float]) -> ([Float], [Float], [Float]) { (Array(v[0..<n]), Array(v[n..<(2 * n)]), Array(v[(2 * n)...])) }
        let (xr, xg, xb) = planes(x), (zr, zg, zb) = planes(zs)
        let map = try ECCHomography.find(template: OpenCV.grey(xr, xg, xb, width: w, height: h),
                                         input: OpenCV.grey(zr, zg, zb, width: w, height: h), iterations: iterations)
        let m = map.map(Double.init)
        let mask = OpenCV.warp(FloatPlane(width: w, height: h, repeating: 1), m, width: w, height: h,
                               interpolation: .nearest, border: .zero).values
        var aligned = [Double](repeating: 0, count: 3 * n), truth = [Double](repeating: 0, count: 3 * n)
        for (c, plane) in [zr, zg, zb].enumerated() {
            let warped = OpenCV.warp(FloatPlane(width: w, height: h, values: plane), m, width: w, height: h,
                                     interpolation: .cubic, border: .reflect).values
            for i in 0..<n {
                aligned[c * n + i] = Double(warped[i] * mask[i])
                truth[c * n + i] = Double(x[c * n + i] * mask[i])
            }
        }
        self.output = try MetricImage(width: w, height: h, pixels: aligned)
        self.target = try MetricImage(width: w, height: h, pixels: truth)
        self.mask = mask.map(Double.init)
        self.homography = m
        self.gain = Double(gain)
    }

    /// PSNR over the valid region: the squared error summed over every channel, over the mask's sum (three
    /// channels' worth), peak 1.
    public var psnr: Double {
        var error = 0.0
        for i in output.pixels.indices { let d = Float(target.pixels[i]) - Float(output.pixels[i]); error += Double(d * d) }
        let weight = 3 * mask.reduce(0, +)
        return 10 * log10(1 / (error / weight))
    }

    /// SSIM as the script computes it: scikit-image's Gaussian SSIM map (sigma 1.5, population covariance, data
    /// range 1) times the mask, trimmed by the window's radius, summed per channel over the trimmed mask's sum,
    /// channels averaged.
    public var ssim: Double {
        get throws { try PixelMetrics.ssimGaussian(output, target, mask: mask) }
    }

    /// Mean absolute error over the valid region (not in RealBlur's script, which reports PSNR and SSIM only).
    public var mae: Double {
        var total = 0.0
        for i in output.pixels.indices { total += abs(target.pixels[i] - output.pixels[i]) }
        return total / (3 * mask.reduce(0, +))
    }
}
