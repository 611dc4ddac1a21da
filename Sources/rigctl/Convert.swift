import ArgumentParser
import Foundation
import Imaging

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert any supported image (PNG, JPEG, RAW/DNG) to PNG.",
        discussion: """
            RAW files are decoded to linear light (camera white balance, gamma 1, AHD demosaic), as dataset work \
            needs them; pass --display to apply the sRGB curve for viewing.
            """
    )

    @Argument(help: "The image to read.")
    var input: String

    @Argument(help: "The PNG file to write.")
    var output: String

    @Option(help: "Bits per sample of the PNG: 8 or 16.")
    var depth: Int = 16

    @Flag(help: "Apply the sRGB transfer curve to linear (RAW) images.")
    var display = false

    @Option(help: "Demosaicing for RAW input: bilinear, vng, ppg, ahd or dcb.")
    var demosaic: DemosaicOption = .ahd

    func validate() throws {
        guard depth == 8 || depth == 16 else { throw ValidationError("--depth must be 8 or 16, not \(depth)") }
    }

    func run() throws {
        try reportingErrors {
            var (image, metadata) = try ImageFile.readWithMetadata(URL(fileURLWithPath: input), demosaic: demosaic.value)
            if display { image = image.displayEncoded() }
            try PNGFile.write(image, to: URL(fileURLWithPath: output), bitDepth: depth)
            print("\(output): \(image.width)x\(image.height), \(depth)-bit, \(image.transfer.rawValue)")
            if let metadata, let line = Self.cameraLine(metadata) { print(line) }
        }
    }
}

extension Convert {
    /// Which body took a RAW file and how, from its own metadata: `camera: Canon EOS 5D Mark IV #0123, f/2,
    /// 1/500 s, ISO 100, 50 mm`. Nil when the file names no camera.
    static func cameraLine(_ m: CaptureMetadata) -> String? {
        let body = [m.make, m.model].filter { !$0.isEmpty }.joined(separator: " ")
        guard !body.isEmpty else { return nil }
        let exposure = [m.aperture.map(HumanFormat.aperture), m.exposureTime.map(HumanFormat.shutter), m.iso.map { "ISO \($0)" },
                        m.focalLength.map { HumanFormat.significant($0, 3) + " mm" }].compactMap { $0 }
        return "camera: " + body + (m.serialNumber.isEmpty ? "" : " #\(m.serialNumber)")
            + exposure.map { ", " + $0 }.joined()
    }
}

enum DemosaicOption: String, ExpressibleByArgument, CaseIterable {
    case bilinear, vng, ppg, ahd, dcb

    var value: Demosaic {
        switch self {
        case .bilinear: .bilinear
        case .vng: .vng
        case .ppg: .ppg
        case .ahd: .ahd
        case .dcb: .dcb
        }
    }
}
