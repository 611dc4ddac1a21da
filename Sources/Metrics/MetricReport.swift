import Foundation
import ThreadSupport

/// All metrics for one output/target pair.
public struct MetricReport: Sendable, Equatable, Codable {
    /// dB; infinite when the images are identical (null in JSON).
    public var psnr: Double
    /// scikit-image convention (uniform 7x7, sample covariance): the papers' SSIM.
    public var ssim: Double
    /// Wang et al. / RealBlur convention (Gaussian 11x11, sigma 1.5).
    public var ssimGaussian: Double
    /// Mean absolute error of values in [0, 1], as is (IFAN's tables print it in units of 10^-1, i.e. times 10).
    public var mae: Double
    /// LPIPS v0.1 alex, nil when no weights were given.
    public var lpips: Double?

    public init(psnr: Double, ssim: Double, ssimGaussian: Double, mae: Double, lpips: Double?) {
        self.psnr = psnr
        self.ssim = ssim
        self.ssimGaussian = ssimGaussian
        self.mae = mae
        self.lpips = lpips
    }

    /// Computes every metric; LPIPS only when a network is given. The pixel metrics run on a thread of their own
    /// beside LPIPS, whose steps between its convolutions leave a core idle; a pixel metric's error is reported
    /// before LPIPS's, as when they ran one after the other.
    public init(output: MetricImage, target: MetricImage, lpips network: LPIPS?) throws {
        guard let network else {
            self = try Self.pixelMetrics(output, target)
            return
        }
        let pixels = LockedValue<Result<MetricReport, Error>?>(nil)
        let finished = DispatchSemaphore(value: 0)
        Thread {
            let result = Result { try Self.pixelMetrics(output, target) }
            pixels.withLock { $0 = result }
            finished.signal()
        }.start()
        let distance = Result { try network.distance(output, target) }
        finished.wait()
        self = try pixels.value!.get()
        lpips = try distance.get()
    }

    static func pixelMetrics(_ output: MetricImage, _ target: MetricImage) throws -> MetricReport {
        try MetricReport(psnr: PixelMetrics.psnr(output, target), ssim: PixelMetrics.ssim(output, target),
                         ssimGaussian: PixelMetrics.ssimGaussian(output, target), mae: PixelMetrics.mae(output, target),
                         lpips: nil)
    }

    /// Every metric with PSNR and SSIM on the BT.601 luma, as BasicSR scores with `test_y_channel` (`ssim` and
    /// `ssimGaussian` both hold the luma's Gaussian SSIM, the only SSIM BasicSR has); MAE and LPIPS compare R, G, B.
    public init(lumaOf output: MetricImage, target: MetricImage, lpips network: LPIPS?) throws {
        let luma = try PixelMetrics.luma(output, target)
        try self.init(psnr: luma.psnr, ssim: luma.ssim, ssimGaussian: luma.ssim, mae: PixelMetrics.mae(output, target),
                      lpips: network.map { try $0.distance(output, target) })
    }

    enum CodingKeys: String, CodingKey {
        case psnr, ssim, ssimGaussian = "ssim_gaussian", mae, lpips
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(psnr.isFinite ? psnr : nil, forKey: .psnr)
        try c.encode(ssim, forKey: .ssim)
        try c.encode(ssimGaussian, forKey: .ssimGaussian)
        try c.encode(mae, forKey: .mae)
        try c.encode(lpips, forKey: .lpips)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        psnr = try c.decodeIfPresent(Double.self, forKey: .psnr) ?? .infinity
        ssim = try c.decode(Double.self, forKey: .ssim)
        ssimGaussian = try c.decode(Double.self, forKey: .ssimGaussian)
        mae = try c.decode(Double.self, forKey: .mae)
        lpips = try c.decodeIfPresent(Double.self, forKey: .lpips)
    }
}
