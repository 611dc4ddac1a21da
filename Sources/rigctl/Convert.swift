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
            var image = try ImageFile.read(URL(fileURLWithPath: input), demosaic: demosaic.value)
            if display { image = image.displayEncoded() }
            try PNGFile.write(image, to: URL(fileURLWithPath: output), bitDepth: depth)
            print("\(output): \(image.width)x\(image.height), \(depth)-bit, \(image.transfer.rawValue)")
        }
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
