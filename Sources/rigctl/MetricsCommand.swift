import ArgumentParser
import Evaluation
import Foundation
import Imaging
import Metrics
import NeuralCore
import PairVocabulary
import Pipeline
import ThreadSupport

struct MetricsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Score a deblurred image against its target: PSNR, SSIM (two conventions), MAE and LPIPS.",
        discussion: """
            PSNR, SSIM and MAE are computed in double on values in [0, 1]. "SSIM" is scikit-image's default \
            (uniform 7x7 window), as DPDD and IFAN report it; "SSIM (Gaussian)" is Wang et al.'s 11x11 Gaussian \
            window, as RealBlur reports it. MAE is printed as is and x10^-1 (IFAN's tables). LPIPS is v0.1 'alex' \
            and needs weights installed with `rigctl lpips install` (or --lpips-weights). RAW files are \
            display-encoded (sRGB curve) before scoring. --protocol names the published evaluation whose \
            conventions apply: dpdd (the default; DPDNet's metrics.py: the whole image, values in [0, 1] at the \
            files' own bit depth) or ifan (IFAN's eval.py: both images cropped bottom/right to multiples of 8 \
            first) or realblur (RealBlur's script: the output gain-matched and aligned to the target by an ECC \
            homography, then PSNR and Gaussian SSIM over the valid region) or basicsr-y (BasicSR's \
            test_y_channel: PSNR and Gaussian SSIM on the BT.601 luma, as MATLAB-style restoration tables \
            print them; MAE and LPIPS stay on R, G, B) or pyiqa-y (IQA-PyTorch's psnry and ssim: PSNR on the \
            YIQ luma, Gaussian SSIM on it rounded to 0-255) or pyiqa-y-downsample (the same, with \
            IQA-PyTorch's MATLAB-style downsampling before SSIM). docs/metrics.md says how each \
            reproduces its official code.
            """
    )

    @Argument(help: "The deblurred image (PNG, JPEG or RAW).")
    var output: String

    @Argument(help: "The sharp target image, of the same size.")
    var target: String

    @Flag(help: "Print one JSON object (keys protocol, psnr, ssim, ssim_gaussian, mae, lpips; lpips null without weights).")
    var json = false

    @Option(name: .customLong("protocol"), help: "The evaluation protocol: dpdd (whole image, the default), ifan (cropped to multiples of 8), realblur (aligned first), basicsr-y (PSNR and SSIM on the BT.601 luma, as BasicSR) pyiqa-y (on the YIQ luma, as IQA-PyTorch) or pyiqa-y-downsample (its SSIM downsampled as MATLAB's ssim.m).")
    var scoringProtocol: EvaluationProtocol = .dpdd

    @Option(help: "LPIPS weights (safetensors) instead of the installed lpips-alex model.")
    var lpipsWeights: String?

    func run() throws {
        try reportingErrors {
            // Decoding each image and preparing LPIPS's weights are each single-threaded: they run side by side, and
            // their errors are reported in the order they were checked one after another (output, target, sizes,
            // weights; the note on missing weights only once both images are read).
            // Under a protocol that does not align, each image is framed and converted to double as soon as it is
            // decoded, and its float copy dropped: the scoring then holds each image once (at 1680x1120, 45 MB less
            // memory to fault in, beside the 90 MB of the two converted images).
            let (outputURL, targetURL, weightsPath) = (URL(fileURLWithPath: output), URL(fileURLWithPath: target), lpipsWeights)
            let framing = PairScoring(scoringProtocol, lpips: nil)
            let images = LockedValue<[Int: Result<DecodedImage, Error>]>([:])
            let weights = LockedValue<Result<(network: LPIPS?, note: String?), Error>?>(nil)
            DispatchQueue.concurrentPerform(iterations: 3) { task in
                switch task {
                case 0:  // the longest first
                    let loaded = Result { try LPIPSLoader.load(path: weightsPath) }.map { (network: $0.network, note: $0.note) }
                    weights.withLock { $0 = loaded }
                default:
                    let read = Result { () throws -> DecodedImage in
                        let image = try PairScoring.read(task == 1 ? outputURL : targetURL).image
                        guard !framing.alignsOutputs else { return DecodedImage(width: image.width, height: image.height, image: .rgb(image)) }
                        return DecodedImage(width: image.width, height: image.height,
                                            image: .converted(try MetricImage(framing.frame(image))))
                    }
                    images.withLock { $0[task - 1] = read }
                }
            }
            let a = try images.withLock { try $0.removeValue(forKey: 0)!.get() }
            let b = try images.withLock { try $0.removeValue(forKey: 1)!.get() }
            guard a.width == b.width, a.height == b.height else {
                throw MetricsError.sizeMismatch(output: "\(a.width)x\(a.height)", target: "\(b.width)x\(b.height)")
            }
            let loaded = try weights.value!.get()
            if let note = loaded.note { FileHandle.standardError.write(Data("rigctl: note: \(note)\n".utf8)) }
            let network = loaded.network
            let scoring = PairScoring(scoringProtocol, lpips: network)
            let report: MetricReport = switch (a.image, b.image) {
            case (.converted(let x), .converted(let y)):
                try scoring.score(converted: x, against: y, pair: output, method: "the output")
            case (.rgb(let x), .rgb(let y)):
                try scoring.score(scoring.frame(x), against: scoring.frame(y), pair: output, method: "the output")
            default:
                preconditionFailure("both images are decoded under the same protocol")
            }
            if json {
                print(try Self.json(report, protocol: scoringProtocol))
            } else {
                print(Self.format(report) + "\nprotocol        \(scoringProtocol) (\(scoringProtocol.reference))")
            }
        }
    }

    /// The report's documented keys and `protocol`, one line, keys sorted.
    static func json(_ report: MetricReport, protocol named: EvaluationProtocol) throws -> String {
        struct Labelled: Encodable {
            enum Key: String, CodingKey { case scoreProtocol = "protocol" }
            let report: MetricReport, named: EvaluationProtocol
            func encode(to encoder: Encoder) throws {
                try report.encode(to: encoder)
                var c = encoder.container(keyedBy: Key.self)
                try c.encode(named, forKey: .scoreProtocol)
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(Labelled(report: report, named: named)), as: UTF8.self)
    }

    static func format(_ r: MetricReport) -> String {
        func f(_ v: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", v) }
        return [
            "PSNR            \(r.psnr.isFinite ? f(r.psnr, 4) + " dB" : "inf (identical images)")",
            "SSIM            \(f(r.ssim, 6))",
            "SSIM (Gaussian) \(f(r.ssimGaussian, 6))",
            "MAE             \(f(r.mae, 6))  (x10^-1: \(f(r.mae * 10, 5)))",
            "LPIPS           \(r.lpips.map { f($0, 6) } ?? "not computed (no weights)")",
        ].joined(separator: "\n")
    }
}

/// An image as the command decoded it: its size as read, and either the RGB image (an aligning protocol needs it)
/// or the framed image already converted for scoring.
private struct DecodedImage: Sendable {
    enum Form: Sendable {
        case rgb(RGBImage)
        case converted(MetricImage)
    }

    let width: Int
    let height: Int
    let image: Form
}
