/// The scores of one restored image against its ground truth, as the paper's tables report them.
public struct PairScores: Sendable, Equatable, Codable {
    public var psnr: Double
    /// SSIM as the defocus papers compute it (scikit-image defaults: uniform 7x7 window).
    public var ssim: Double
    /// SSIM as Wang et al. 2004 and RealBlur compute it (11x11 Gaussian, sigma 1.5).
    public var ssimGaussian: Double
    /// Mean absolute error (tables show it x10^-1).
    public var mae: Double
    /// LPIPS v0.1 alex; nil when its weights are not installed.
    public var lpips: Double?

    public init(psnr: Double, ssim: Double, ssimGaussian: Double, mae: Double, lpips: Double?) {
        self.psnr = psnr
        self.ssim = ssim
        self.ssimGaussian = ssimGaussian
        self.mae = mae
        self.lpips = lpips
    }

    enum CodingKeys: String, CodingKey {
        case psnr, ssim, ssimGaussian = "ssim_gaussian", mae, lpips
    }
}

/// Computes the scores of an output against its target. The metrics module provides the real one.
public protocol PairScorer: Sendable {
    func score(output: RGBImage, target: RGBImage) throws -> PairScores
}

import Imaging
