import ArgumentParser
import Foundation
import IFANEngine
import Imaging
import NeuralCore
import Pipeline

struct DeblurCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deblur",
        abstract: "Remove defocus blur from an image with IFAN.",
        discussion: """
            Any supported input (PNG, JPEG, RAW); RAW is converted to display (sRGB) values first, as the network \
            was trained on such images. Sizes that are not multiples of 8 are padded and cropped back (or cropped, \
            as the paper's evaluation does, with --edges crop). Large images are processed in tiles.
            """
    )

    @Argument(help: "The blurry image.")
    var input: String

    @Option(name: .shortAndLong, help: "The PNG file to write.")
    var output: String

    @Option(help: "A model store name or a path to a .safetensors file (default: the deblurring model installed).")
    var model: String?

    @Option(help: "Bits per sample of the PNG: 8 or 16.")
    var depth: Int = 8

    @Option(help: "Fitting to multiples of 8: replicate, reflect (pad and crop back) or crop (bottom/right).")
    var edges: EdgeOption = .replicate

    @Option(help: "Tile size in pixels (multiple of 8) for images over --max-whole megapixels; 0 never tiles.")
    var tile: Int = 1024

    @Option(help: "Largest image, in megapixels, that runs whole (about 360 MB of memory per megapixel).")
    var maxWhole: Double = 4

    @Option(help: "Context around each tile in pixels (multiple of 8).")
    var overlap: Int = 128

    @Flag(help: "Show the tiles and stages on standard error even when it is not a terminal.")
    var progress = false

    func validate() throws {
        guard depth == 8 || depth == 16 else { throw ValidationError("--depth must be 8 or 16, not \(depth)") }
        guard tile == 0 || (tile > 0 && tile % 8 == 0) else { throw ValidationError("--tile must be 0 or a multiple of 8") }
        guard overlap >= 0 && overlap % 8 == 0 else { throw ValidationError("--overlap must be a multiple of 8") }
        guard maxWhole >= 0 && maxWhole < 1e6 else { throw ValidationError("--max-whole must be a number of megapixels") }
    }

    func run() throws {
        try reportingErrors {
            let store = ModelStore()
            guard let chosen = try model ?? InstalledModels(store: store).defaultDeblurring() else {
                throw IFANError.badInput(try InstalledModels(store: store).installedSentence)
            }
            let (name, url) = try resolveModel(chosen, store: store)
            let network = try IFANModelFile.load(url)
            let image = try ImageFile.read(URL(fileURLWithPath: input))
            let tiling = tile == 0 ? nil : try TiledInference(tileSize: tile, overlap: overlap)
            let deblurrer = IFANDeblurrer(name: name, network: network, edges: edges.value, tiling: tiling,
                                          maxWholeImagePixels: Int(maxWhole * 1_048_576))
            let start = DispatchTime.now().uptimeNanoseconds
            let display = ImageProgressLine(label: "deblurring \(URL(fileURLWithPath: input).lastPathComponent)",
                                            requested: progress)
            let result = try deblurrer.deblur(image, progress: display?.handler)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            try PNGFile.write(result, to: URL(fileURLWithPath: output), bitDepth: depth)
            print("\(output): \(result.width)x\(result.height), \(depth)-bit, deblurred with \(name) in "
                  + String(format: "%.2f s", seconds))
        }
    }
}

enum EdgeOption: String, ExpressibleByArgument, CaseIterable {
    case replicate, reflect, crop

    var value: EdgeHandling {
        switch self {
        case .replicate: .replicate
        case .reflect: .reflect
        case .crop: .crop
        }
    }
}
