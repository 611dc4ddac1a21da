import ArgumentParser
import Foundation
import Imaging

struct TestChartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test-chart",
        abstract: "Write a synthetic colour chart as a Bayer DNG, to check the RAW path with no camera.",
        discussion: "The chart has 24 colour patches, a grey ramp and fine lines; `rigctl convert` decodes it back."
    )

    @Argument(help: "The DNG file to write.")
    var output: String

    @Option(help: "Size as WIDTHxHEIGHT (even numbers).")
    var size: ImageSize = ImageSize(width: 1200, height: 800)

    @Option(help: "Bayer layout: rggb, bggr, grbg or gbrg.")
    var pattern: String = "rggb"

    func run() throws {
        try reportingErrors {
            guard let cfa = CFAPattern(rawValue: pattern) else {
                throw ValidationError("--pattern must be one of rggb, bggr, grbg, gbrg")
            }
            let chart = TestChart.render(width: size.width, height: size.height)
            let frame = BayerFrame(mosaicking: chart, pattern: cfa, blackLevel: 256, whiteLevel: 16383)
            let metadata = CaptureMetadata(make: "rigctl", model: "Test Chart", serialNumber: "CHART-0001",
                                           aperture: 8, exposureTime: 1.0 / 125, iso: 100, focalLength: 50,
                                           captureTime: Date())
            try DNGWriter.write(frame, metadata: metadata, to: URL(fileURLWithPath: output))
            print("\(output): \(frame.width)x\(frame.height) Bayer \(cfa.rawValue.uppercased()) DNG")
        }
    }
}

/// A size written WIDTHxHEIGHT on the command line.
struct ImageSize: ExpressibleByArgument, Equatable {
    var width: Int
    var height: Int

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    init?(argument: String) {
        let parts = argument.lowercased().split(separator: "x")
        guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]), w >= 32, h >= 32, w % 2 == 0, h % 2 == 0,
              w <= 20000, h <= 20000 else { return nil }
        self.init(width: w, height: h)
    }

    var defaultValueDescription: String { "\(width)x\(height)" }
}
