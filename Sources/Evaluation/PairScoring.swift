import AtomicFiles
import Foundation
import Imaging
import Metrics
import PairVocabulary

/// A pair's images as every method of one scoring run compares against them (before framing).
public struct PairImages: Sendable {
    public var source: RGBImage
    public var target: RGBImage
    /// Bits per sample of the stored target: the protocol's bit depth (and, in the catalogue, what outputs are
    /// quantised to before they are kept and scored).
    public var bitDepth: Int

    public init(source: RGBImage, target: RGBImage, bitDepth: Int) {
        self.source = source
        self.target = target
        self.bitDepth = bitDepth
    }
}

/// How a pair is scored under one protocol: how its files are read, which pixels are compared, how outputs are
/// held, and the metrics. It is the one scoring path behind folder sets (`Evaluator`) and the catalogue
/// (Pipeline's `PairScorer`), so a protocol is added here once and both report it the same way.
public struct PairScoring: Sendable {
    /// The published protocol whose conventions these are.
    public let named: EvaluationProtocol
    public var framing: ScoreProtocol.Framing
    /// The convention of the `ssim` column (RealBlur's protocol reports its Gaussian SSIM there).
    public var ssim: ScoreProtocol.SSIMConvention
    /// What PSNR and SSIM compare (BasicSR's protocol: the BT.601 luma).
    public var channels: ScoreProtocol.Channels
    public var outputs: ScoreProtocol.Outputs
    /// Align each method's output to the ground truth first (`RealBlurAlignment`); the input is never aligned.
    public var alignsOutputs: Bool
    /// LPIPS network; nil leaves LPIPS out.
    public var lpips: LPIPS?

    /// A published protocol's conventions; `outputs` as produced is how the official code scores a method's
    /// output, `.quantised` how the catalogue (which keeps the output) must.
    public init(_ named: EvaluationProtocol, outputs: ScoreProtocol.Outputs = .asProduced, lpips: LPIPS?) {
        self.named = named
        self.framing = named.framing
        self.ssim = named.ssim
        self.channels = named.channels
        self.outputs = outputs
        self.alignsOutputs = named.alignsOutputs
        self.lpips = lpips
    }

    /// The unaligned protocol of `framing`: IFAN's (crop to multiples of 8) or DPDD's (the whole image).
    public init(framing: ScoreProtocol.Framing, outputs: ScoreProtocol.Outputs, lpips: LPIPS?) {
        self.init(framing == .cropToMultipleOf8 ? .ifan : .dpdd, outputs: outputs, lpips: lpips)
    }

    /// The protocol these scores follow for a pair whose target has `bitDepth` bits per sample.
    public func scoreProtocol(bitDepth: Int) -> ScoreProtocol {
        ScoreProtocol(framing: framing, bitDepth: bitDepth, ssim: ssim, channels: channels, outputs: outputs,
                      lpips: lpips == nil ? nil : ScoreProtocol.lpipsV01Alex)
    }

    /// The pixels the protocol compares.
    public func frame(_ image: RGBImage) -> RGBImage {
        framing == .cropToMultipleOf8 ? Self.cropToMultipleOf8(image) : image
    }

    /// The paper's framing: drop the bottom rows and right columns beyond a multiple of 8.
    public static func cropToMultipleOf8(_ image: RGBImage) -> RGBImage {
        let w = image.width / 8 * 8, h = image.height / 8 * 8
        if w == image.width && h == image.height { return image }
        return image.cropped(x: 0, y: 0, width: max(w, 8), height: max(h, 8))
    }

    /// A pair's source and target files read whole, with the target's bit depth; of different sizes they are
    /// refused, naming `pair`.
    public func read(source: URL, target: URL, pair: String) throws -> PairImages {
        let (input, _) = try Self.read(source)
        let (truth, bitDepth) = try Self.read(target)
        guard input.width == truth.width, input.height == truth.height else {
            throw EvaluationError.inputTargetMismatch(pair: pair, input: "\(input.width)x\(input.height)",
                                                      target: "\(truth.width)x\(truth.height)")
        }
        return PairImages(source: input, target: truth, bitDepth: bitDepth)
    }

    /// A method's output as the protocol holds it: quantised to the pair's bit depth, or as produced.
    public func held(_ output: RGBImage, bitDepth: Int) -> RGBImage {
        outputs == .quantised ? Self.quantised(output, bitDepth: bitDepth) : output
    }

    /// Every metric of a framed output against the framed target. An output of another size is refused, and any
    /// error names the pair and the method. Under an aligning protocol a method's output (not the input: `kind`
    /// `.input`) is aligned first and scored over the valid region; the `ssim` column then holds the Gaussian SSIM
    /// (`ssimGaussian` the same), MAE is over the valid region and LPIPS compares the aligned, masked images.
    public func score(_ output: RGBImage, against target: RGBImage, pair: String, method: String,
                      kind: MethodKind = .results) throws -> MetricReport {
        try scoreShowing(output, against: target, pair: pair, method: method, kind: kind).scores
    }

    /// `score` on images already framed and converted (`MetricImage(frame(image))`), under a protocol that does not
    /// align outputs: a caller that converts each image as soon as it is decoded holds it once (in double), not also
    /// in float for the whole scoring.
    public func score(converted output: MetricImage, against target: MetricImage, pair: String, method: String) throws
        -> MetricReport {
        precondition(!alignsOutputs, "an aligning protocol scores RGB images (score(_:against:...))")
        guard output.width == target.width, output.height == target.height else {
            throw EvaluationError.sizeMismatch(pair: pair, method: method, output: "\(output.width)x\(output.height)",
                                               target: "\(target.width)x\(target.height)")
        }
        return try PairFailure.naming(pair, .scoring(method: method)) {
            try MetricReport(output: output, target: target, channels: channels, ssim: ssim, lpips: lpips)
        }
    }

    /// The same, with the image that was compared: under an aligning protocol the output as aligned onto the
    /// target, with the target's own pixels where the warp left the image (so a difference picture shows what was
    /// scored and nothing at the border); otherwise `output` itself.
    public func scoreShowing(_ output: RGBImage, against target: RGBImage, pair: String, method: String,
                             kind: MethodKind = .results) throws -> (scores: MetricReport, compared: RGBImage) {
        guard output.width == target.width, output.height == target.height else {
            throw EvaluationError.sizeMismatch(pair: pair, method: method, output: "\(output.width)x\(output.height)",
                                               target: "\(target.width)x\(target.height)")
        }
        return try PairFailure.naming(pair, .scoring(method: method)) {
            guard alignsOutputs else {
                return (try MetricReport(output: output, target: target, channels: channels, ssim: ssim,
                                                 lpips: lpips), output)
            }
            guard kind != .input else {
                // The input as the script scores it: not aligned; its SSIM column is the Gaussian one.
                let report = try MetricReport(output: output, target: target, lpips: lpips)
                return (MetricReport(psnr: report.psnr, ssim: report.ssimGaussian, ssimGaussian: report.ssimGaussian,
                                     mae: report.mae, lpips: report.lpips), output)
            }
            // An aligned output is scored on the aligned images only (its unaligned metrics would be thrown away).
            let aligned = try PairFailure.naming(pair, .aligning(method: method, protocol: named.rawValue)) {
                try RealBlurAlignment(output: MetricImage(output), target: MetricImage(target))
            }
            let ssim = try aligned.ssim
            let scores = MetricReport(psnr: aligned.psnr, ssim: ssim, ssimGaussian: ssim, mae: aligned.mae,
                                      lpips: try lpips.map { try $0.distance(aligned.output, aligned.target) })
            let plane = target.width * target.height
            let display = target.displayEncoded()
            var shown = [Float](repeating: 0, count: 3 * plane)
            for i in shown.indices {
                shown[i] = aligned.mask[i % plane] != 0 ? Float(aligned.output.pixels[i]) : display.pixels[i]
            }
            return (scores, RGBImage(width: target.width, height: target.height, transfer: .display, pixels: shown))
        }
    }

    /// Display-encoded and rounded to `bitDepth` (8, else 16), so that what is scored is exactly what is stored.
    public static func quantised(_ image: RGBImage, bitDepth: Int) -> RGBImage {
        let display = image.displayEncoded()
        return bitDepth == 8 ? RGBImage(raster: display.raster8(), transfer: .display)
            : RGBImage(raster: display.raster16(), transfer: .display)
    }

    /// An image and its bits per sample (PNG: as stored; JPEG: 8; RAW: 16, as decoded).
    public static func read(_ url: URL) throws -> (image: RGBImage, bitDepth: Int) {
        let data: Data
        do {
            data = try FileContents.read(path: url.path)
        } catch let error as FileReadError {
            throw ImagingError.unreadable(path: url.path, reason: error.reason)
        }
        switch ImageFormat.sniff(data) {
        case .png:
            let raster = try PNGFile.decode(data, path: url.path)
            return (raster.rgbImage(), raster.bitDepth)
        case .jpeg: return (try ImageFile.decode(data, path: url.path), 8)
        case .raw: return (try ImageFile.read(url), 16)
        }
    }
}
