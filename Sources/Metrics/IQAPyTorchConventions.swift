import Foundation

/// IQA-PyTorch's (github.com/chaofengc/IQA-PyTorch, package `pyiqa`) PSNR and SSIM on the Y channel, as its
/// default metric configs `psnry` and `ssim` compute them (`test_y_channel=True`, `color_space='yiq'`,
/// `downsample=False`, `crop_border=0`) on images it reads as float32 in [0, 1]:
///
/// - Y is YIQ's luma, 0.299 R + 0.587 G + 0.114 B with no offset (`to_y_channel` / `rgb2yiq` in
///   pyiqa/utils/color_util.py), in float32.
/// - PSNR (`psnr` in pyiqa/archs/psnr_arch.py, data range 1): 10 log10(1 / (MSE + 1e-8)) on Y in [0, 1], not
///   rounded; identical images score 80 dB, not infinity.
/// - SSIM (`SSIM.forward` and `ssim` in pyiqa/archs/ssim_arch.py, data range 255): Y * 255 rounded to integers
///   (`to_y_channel` and `preprocess_rgb` round when the range is 255), in double; the 11x11 Gaussian window
///   (sigma 1.5, MATLAB's `fspecial`), `valid` filtering, population covariance, C1 = (0.01 * 255)^2,
///   C2 = (0.03 * 255)^2, the contrast-structure term clamped at 0 (its ReLU), the map's mean. The MATLAB-style
///   average-pooling `downsample` is off in the default config; the `pyiqa-y-downsample` protocol turns it on.
///
/// These are rigctl's own implementation; the parity fixtures (Tests/EvaluationTests/Fixtures/protocols) hold
/// what pyiqa's own functions computed on the same files.
extension PixelMetrics {
    /// YIQ's luma in [0, 1] as pyiqa holds it: float32 values, float32 products summed R, G then B (what its
    /// float32 matmul gives, to the bit, on the fixtures).
    public static func lumaYIQ(_ image: MetricImage) -> [Float] {
        let n = image.planeSize
        let (wr, wg, wb): (Float, Float, Float) = (0.299, 0.587, 0.114)
        return image.pixels.withUnsafeBufferPointer { p in
            (0..<n).map { i in
                let r = Float(p[i]), g = Float(p[n + i]), b = Float(p[2 * n + i])
                let rg: Float = r * wr + g * wg
                return rg + b * wb
            }
        }
    }

    /// PSNR and SSIM on the YIQ luma as IQA-PyTorch's `psnry` and `ssim` metrics compute them (see above);
    /// `downsample` is its `SSIM(downsample=True)` (`iqaPyTorchDownsampled`).
    public static func iqaPyTorchLuma(_ output: MetricImage, _ target: MetricImage, downsample: Bool = false) throws
        -> (psnr: Double, ssim: Double) {
        try checkSizes(output, target)
        let y1 = lumaYIQ(output), y2 = lumaYIQ(target)
        var sum = 0.0
        for i in y1.indices {
            let d = Double(y1[i] - y2[i])
            sum += d * d
        }
        let mse = sum / Double(y1.count)
        let psnr = 10 * log10(1 / (mse + 1e-8))
        let scaled: ([Float]) -> [Double] = { $0.map { Double(($0 * 255).rounded(.toNearestOrEven)) } }
        guard downsample else {
            return (psnr, try clampedGaussianSSIM(scaled(y1), scaled(y2), width: output.width, height: output.height))
        }
        let (a, b) = (iqaPyTorchDownsampled(scaled(y1), width: output.width, height: output.height),
                      iqaPyTorchDownsampled(scaled(y2), width: output.width, height: output.height))
        return (psnr, try clampedGaussianSSIM(a.plane, b.plane, width: a.width, height: a.height))
    }

    /// The factor of IQA-PyTorch's MATLAB-style downsampling: round(min(height, width) / 256), at least 1. It is
    /// Python's `round`, which takes halves to even (640 pixels: 2.5 -> 2), where MATLAB's `round` in Wang's
    /// `ssim.m` takes them away from zero (3).
    public static func iqaPyTorchDownsamplingFactor(width: Int, height: Int) -> Int {
        max(1, Int((Double(min(width, height)) / 256).rounded(.toNearestOrEven)))
    }

    /// A plane as IQA-PyTorch's `ssim(downsample=True)` pools it: each f x f block's mean (`avg_pool2d` with
    /// kernel and stride f, no padding), the last rows and columns that do not fill a block dropped; unchanged when
    /// f is 1. The values are integers in [0, 255], so every block sum is exact and the mean is the one PyTorch
    /// gets, in whatever order it adds.
    static func iqaPyTorchDownsampled(_ plane: [Double], width w: Int, height h: Int)
        -> (plane: [Double], width: Int, height: Int) {
        let f = iqaPyTorchDownsamplingFactor(width: w, height: h)
        guard f > 1 else { return (plane, w, h) }
        let (ow, oh) = (w / f, h / f)
        let count = Double(f * f)
        var out = [Double](repeating: 0, count: ow * oh)
        plane.withUnsafeBufferPointer { p in
            for y in 0..<oh {
                for x in 0..<ow {
                    var sum = 0.0
                    for dy in 0..<f {
                        let row = (y * f + dy) * w + x * f
                        for dx in 0..<f { sum += p[row + dx] }
                    }
                    out[y * ow + x] = sum / count
                }
            }
        }
        return (out, ow, oh)
    }

    /// Gaussian SSIM of one plane of values in [0, 255] over the positions where the 11x11 window fits, with the
    /// contrast-structure term clamped at 0 before it multiplies the luminance term, as pyiqa's `ssim` does.
    static func clampedGaussianSSIM(_ a: [Double], _ b: [Double], width w: Int, height h: Int) throws -> Double {
        let window = gaussianWindow
        let k = window.count
        guard w >= k, h >= k else {
            throw MetricsError.tooSmall(metric: "IQA-PyTorch SSIM on Y", width: w, height: h, minimum: k)
        }
        let (ow, oh) = (w - k + 1, h - k + 1)
        /// The window's weighted mean of `plane` at every position where it fits: rows first, then columns.
        func filtered(_ plane: [Double]) -> [Double] {
            var rows = [Double](repeating: 0, count: ow * h)
            plane.withUnsafeBufferPointer { p in
                rows.withUnsafeMutableBufferPointer { out in
                    for y in 0..<h {
                        let line = y * w
                        for x in 0..<ow {
                            var s = 0.0
                            for t in 0..<k { s += window[t] * p[line + x + t] }
                            out[y * ow + x] = s
                        }
                    }
                }
            }
            var result = [Double](repeating: 0, count: ow * oh)
            rows.withUnsafeBufferPointer { p in
                result.withUnsafeMutableBufferPointer { out in
                    for y in 0..<oh {
                        for x in 0..<ow {
                            var s = 0.0
                            for t in 0..<k { s += window[t] * p[(y + t) * ow + x] }
                            out[y * ow + x] = s
                        }
                    }
                }
            }
            return result
        }
        let mu1 = filtered(a), mu2 = filtered(b)
        let aa = filtered(zip(a, a).map(*)), bb = filtered(zip(b, b).map(*)), ab = filtered(zip(a, b).map(*))
        let c1 = (0.01 * 255.0) * (0.01 * 255.0), c2 = (0.03 * 255.0) * (0.03 * 255.0)
        var total = 0.0
        for i in mu1.indices {
            let m1 = mu1[i], m2 = mu2[i]
            let s1 = aa[i] - m1 * m1, s2 = bb[i] - m2 * m2, s12 = ab[i] - m1 * m2
            let cs = max(0, (2 * s12 + c2) / (s1 + s2 + c2))
            total += (2 * m1 * m2 + c1) / (m1 * m1 + m2 * m2 + c1) * cs
        }
        return total / Double(ow * oh)
    }
}

extension MetricReport {
    /// Every metric with PSNR and SSIM on the YIQ luma as IQA-PyTorch's `psnry` and `ssim` compute them (`ssim`
    /// and `ssimGaussian` both hold that SSIM, the only one the protocol has; `downsample`: its MATLAB-style
    /// pooling first); MAE and LPIPS compare R, G, B.
    public init(iqaPyTorchLumaOf output: MetricImage, target: MetricImage, downsample: Bool = false,
                lpips network: LPIPS?) throws {
        let luma = try PixelMetrics.iqaPyTorchLuma(output, target, downsample: downsample)
        try self.init(psnr: luma.psnr, ssim: luma.ssim, ssimGaussian: luma.ssim, mae: PixelMetrics.mae(output, target),
                      lpips: network.map { try $0.distance(output, target) })
    }
}
