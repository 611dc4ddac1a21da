import Imaging
import Metrics
import PairVocabulary

extension MetricImage {
    /// An image as the papers score it: display-encoded (sRGB) values in [0, 1]; linear (RAW) images are encoded.
    public init(_ image: RGBImage) throws {
        let display = image.displayEncoded()
        try self.init(width: display.width, height: display.height, planar: display.pixels)
    }
}

extension MetricReport {
    /// Every metric of `output` against `target`, on display-encoded values; LPIPS only when a network is given.
    public init(output: RGBImage, target: RGBImage, lpips: LPIPS?) throws {
        try self.init(output: MetricImage(output), target: MetricImage(target), lpips: lpips)
    }

    /// The same with PSNR and SSIM on `channels` (`.lumaBT601`: BasicSR's `test_y_channel`; `.lumaYIQ`:
    /// IQA-PyTorch's, its SSIM downsampled first under `.gaussian11Downsampled`).
    public init(output: RGBImage, target: RGBImage, channels: ScoreProtocol.Channels,
                ssim: ScoreProtocol.SSIMConvention, lpips: LPIPS?) throws {
        try self.init(output: MetricImage(output), target: MetricImage(target), channels: channels, ssim: ssim,
                      lpips: lpips)
    }

    /// The same on images already converted.
    public init(output: MetricImage, target: MetricImage, channels: ScoreProtocol.Channels,
                ssim: ScoreProtocol.SSIMConvention, lpips: LPIPS?) throws {
        switch channels {
        case .rgb: try self.init(output: output, target: target, lpips: lpips)
        case .lumaBT601: try self.init(lumaOf: output, target: target, lpips: lpips)
        case .lumaYIQ:
            try self.init(iqaPyTorchLumaOf: output, target: target, downsample: ssim == .gaussian11Downsampled,
                          lpips: lpips)
        }
    }
}
