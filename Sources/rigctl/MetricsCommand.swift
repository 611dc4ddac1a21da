import ArgumentParser
import Evaluation
import Foundation
import Imaging
import Metrics
import NeuralCore
import Pipeline

struct MetricsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Score a deblurred image against its target: PSNR, SSIM (two conventions), MAE and LPIPS.",
        discussion: """
            PSNR, SSIM and MAE are computed in double on values in [0, 1]. "SSIM" is scikit-image's default \
            (uniform 7x7 window), as DPDD and IFAN report it; "SSIM (Gaussian)" is Wang et al.'s 11x11 Gaussian \
            window, as RealBlur reports it. MAE is printed as is and x10^-1 (IFAN's tables). LPIPS is v0.1 'alex' \
            and needs weights installed with `rigctl lpips install` (or --lpips-weights). RAW files are \
            display-encoded (sRGB curve) before scoring.
            """
    )

    @Argument(help: "The deblurred image (PNG, JPEG or RAW).")
    var output: String

    @Argument(help: "The sharp target image, of the same size.")
    var target: String

    @Flag(help: "Print one JSON object (keys psnr, ssim, ssim_gaussian, mae, lpips; lpips null without weights).")
    var json = false

    @Option(help: "LPIPS weights (safetensors) instead of the installed lpips-alex model.")
    var lpipsWeights: String?

    func run() throws {
        try reportingErrors {
            let a = try Self.load(output), b = try Self.load(target)
            guard a.width == b.width, a.height == b.height else {
                throw MetricsError.sizeMismatch(output: "\(a.width)x\(a.height)", target: "\(b.width)x\(b.height)")
            }
            let network = try LPIPSLoader.loadTellingWhy(path: lpipsWeights).network
            let report = try MetricReport(output: a, target: b, lpips: network)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                print(Self.format(report))
            }
        }
    }

    static func load(_ path: String) throws -> MetricImage {
        try MetricImage(ImageFile.read(URL(fileURLWithPath: path)))
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
