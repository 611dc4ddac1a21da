import Alignment
import ArgumentParser
import AtomicFiles
import Foundation
import Imaging
import PairVocabulary
import Pipeline

struct Align: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Align a deep-DOF target onto a shallow-DOF source and judge the pair.",
        discussion: """
            The source is never resampled: the target is warped into the source's frame (bicubic), colour-matched \
            and both are cropped to their largest common rectangle. Writes OUT/source.png and OUT/target.png \
            (16-bit) and OUT/alignment.json (homography, colour, crop, quality, verdict, reasons). A rejected pair \
            gets only alignment.json (stale PNGs in OUT are removed) and exit status 3.
            """
    )

    @Argument(help: "The shallow depth-of-field image (PNG, JPEG or RAW).")
    var source: String

    @Argument(help: "The deep depth-of-field image of the same instant.")
    var target: String

    @Option(help: "Output directory (created if missing).")
    var out: String

    @Option(help: "A rig file whose \"alignment\" object (or top level) gives mirror, distortion, referenceHomography.")
    var rig: String?

    @Option(help: "An alignment.json of the scene's stopped-down reference pair: its homography is refined instead of searched.")
    var reference: String?

    @Option(help: "Colour model: auto, gain-offset, affine or none.")
    var colour: ColourModelChoice = .auto

    @Flag(help: "Drop defocused source regions from the finer registration levels.")
    var focusWeighting = false

    @Flag(help: "Print the report as JSON instead of a summary.")
    var json = false

    func run() throws {
        let result = try reportingErrors { () -> AlignmentResult in
            let calibration = try rig.map { try AlignmentCalibration.read(URL(fileURLWithPath: $0)) } ?? AlignmentCalibration()
            let initial = try reference.map { try Self.referenceHomography(URL(fileURLWithPath: $0)) }
            let sourceImage = try ImageFile.read(URL(fileURLWithPath: source))
            let targetImage = try ImageFile.read(URL(fileURLWithPath: target))
            var options = AlignerOptions()
            options.colourModel = colour
            options.registration.focusWeighting = focusWeighting
            let result = try Aligner(options).align(source: sourceImage, target: targetImage, calibration: calibration,
                                                    initialHomography: initial)
            let dir = URL(fileURLWithPath: out)
            do {
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            } catch {
                throw ImagingError.writeFailed(path: dir.path, reason: "cannot create the directory")
            }
            let sourceURL = dir.appendingPathComponent("source.png"), targetURL = dir.appendingPathComponent("target.png")
            if let s = result.alignedSource, let t = result.alignedTarget {
                try PNGFile.write(s, to: sourceURL, bitDepth: 16)
                try PNGFile.write(t, to: targetURL, bitDepth: 16)
            } else {
                for url in [sourceURL, targetURL] where FileManager.default.fileExists(atPath: url.path) {
                    try? FileManager.default.removeItem(at: url)
                }
            }
            try AtomicFile.write(result.jsonData(), to: dir.appendingPathComponent("alignment.json"))
            return result
        }
        if json {
            print(String(decoding: try result.jsonData(), as: UTF8.self))
        } else {
            let crop = result.crop.map { "\($0.width)x\($0.height)+\($0.x)+\($0.y)" } ?? "-"
            // The verdict as the catalogue spells it (accepted, review, rejected): `dataset list --verdict` takes it.
            print(String(format: "%@: overlap %.1f%%, correlation %.4f, crop %@, colour %@ (residual %.4f)",
                         result.verdict.rawValue, 100 * result.quality.overlap, result.quality.correlation, crop,
                         result.colour?.model.rawValue ?? "-", result.colour?.residual ?? .nan))
            for reason in result.reasons { print("  - \(reason)") }
        }
        if result.verdict == .rejected {
            FileHandle.standardError.write(Data("rigctl: pair rejected: \(result.reasons.joined(separator: "; "))\n".utf8))
            throw ExitCode(ExitStatus.rejectedPair)
        }
    }

    /// The `homography` of a previous alignment report.
    static func referenceHomography(_ url: URL) throws -> Homography {
        struct Report: Decodable { var homography: Homography }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw AlignmentError.badReference(path: url.path, detail: "cannot read the file")
        }
        do {
            return try JSONDecoder().decode(Report.self, from: data).homography
        } catch {
            throw AlignmentError.badReference(path: url.path, detail: "no usable \"homography\" (\(error))")
        }
    }
}

extension ColourModelChoice: ExpressibleByArgument {}
