import TestSupport
import Foundation
import Imaging
import NeuralCore
import Testing
import IFANEngine

/// The fixture network, loaded once through the native checkpoint reader as `rigctl model import` does.
let fixtureNetwork: Result<IFANNetwork, Error> = Result {
    let (_, weights) = try IFANModelFile.importCheckpoint(ifanFixture("IFAN_random.pytorch"))
    return try IFANNetwork(weights: weights)
}

/// The official PyTorch IFAN (random weights, float64) against this engine: output within 1e-4, intermediate
/// tensors within 1e-4 of their largest magnitude.
@Test func matchesTheOfficialImplementation() throws {
    let network = try fixtureNetwork.get()
    #expect(network.architecture.iterations == 17)
    let input = try NPYFile.read(ifanFixture("input.npy"))
    var taps: [IFANNetwork.Tap: Tensor] = [:]
    let output = try network.forward(input) { taps[$0] = $1 }

    let expected = try NPYFile.read(ifanFixture("expected_output.npy"))
    #expect(output.shape == expected.shape)
    #expect(maxAbsDifference(output, expected) <= 1e-4)

    let files: [IFANNetwork.Tap: String] = [.conv4_3: "expected_conv4_3.npy", .DME: "expected_DME.npy",
                                            .IAC: "expected_IAC.npy", .conv_res: "expected_conv_res.npy"]
    for (tap, file) in files {
        let reference = try NPYFile.read(ifanFixture(file))
        let mine = try #require(taps[tap], "no \(tap) tensor reported")
        #expect(mine.shape == reference.shape, "\(tap)")
        let scale = reference.data.map(abs).max() ?? 1
        #expect(maxAbsDifference(mine, reference) <= 1e-4 * scale, "\(tap)")
    }
}

/// The same through the image path: input.png read as 8-bit / 255, deblurred, compared with the expected output.
@Test func deblurringThePNGMatchesTheOfficialOutput() throws {
    let network = try fixtureNetwork.get()
    let image = try ImageFile.read(ifanFixture("input.png"))
    #expect(image.width == 128 && image.height == 96)
    let result = try IFANDeblurrer(network: network).deblur(image)
    let expected = try NPYFile.read(ifanFixture("expected_output.npy"))
    #expect(maxAbsDifference(Tensor(shape: [3, 96, 128], data: result.pixels), expected) <= 1e-4)
}

/// Sizes that are not multiples of 8: padding keeps the size, and the padded result is the network's output on
/// the explicitly padded image, cropped.
@Test(arguments: EdgeHandling.allCases)
func paddingKeepsOrCropsTheSize(_ edges: EdgeHandling) throws {
    let network = try fixtureNetwork.get()
    let full = try ImageFile.read(ifanFixture("input.png"))
    let image = full.cropped(x: 5, y: 3, width: 37, height: 21)
    let result = try IFANDeblurrer(network: network, edges: edges).deblur(image)
    switch edges {
    case .crop:
        #expect(result.width == 32 && result.height == 16)
        let direct = try network.forward(Tensor(shape: [3, 16, 32], data: image.cropped(x: 0, y: 0, width: 32, height: 16).pixels))
        #expect(result.pixels == direct.data)
    case .replicate, .reflect:
        #expect(result.width == 37 && result.height == 21)
        // Pad by hand to 40x24 and compare.
        var padded = RGBImage(width: 40, height: 24)
        for c in 0..<3 {
            for y in 0..<24 {
                for x in 0..<40 {
                    let sx = x < 37 ? x : (edges == .replicate ? 36 : 2 * 36 - x)
                    let sy = y < 21 ? y : (edges == .replicate ? 20 : 2 * 20 - y)
                    padded[c, x, y] = image[c, sx, sy]
                }
            }
        }
        let direct = try network.forward(Tensor(shape: [3, 24, 40], data: padded.pixels))
        for c in 0..<3 {
            for y in 0..<21 {
                for x in 0..<37 { #expect(result[c, x, y] == direct.data[(c * 24 + y) * 40 + x]) }
            }
        }
    }
}

/// Tiles whose context covers the whole image reproduce the whole-image output; small overlaps still agree
/// closely, and the stitched image has no missing or shifted tile.
@Test func tilingReproducesTheWholeImage() throws {
    let network = try fixtureNetwork.get()
    let input = try NPYFile.read(ifanFixture("input.npy"))
    let whole = try network.forward(input)
    let covering = try TiledInference(tileSize: 32, overlap: 128).run(input) { try network.forward($0) }
    #expect(maxAbsDifference(covering, whole) <= 1e-5)
    // Identity body: stitching is exact.
    let stitched = try TiledInference(tileSize: 24, overlap: 8).run(input) { $0 }
    #expect(stitched == input)
}

@Test func modelFileRoundTrip() throws {
    let (architecture, weights) = try IFANModelFile.importCheckpoint(ifanFixture("IFAN_random.pytorch"))
    let dir = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("ifan.safetensors")
    try IFANModelFile.write(weights, architecture: architecture, source: "IFAN_random.pytorch", to: url)
    let metadata = try SafeTensors.readMetadata(url)
    #expect(metadata["architecture"] == "ifan" && metadata["iac_iterations"] == "17")
    let network = try IFANModelFile.load(url)
    let input = try NPYFile.read(ifanFixture("input.npy"))
    #expect(try network.forward(input) == fixtureNetwork.get().forward(input))
}

@Test func loadingRefusesAnotherArchitecture() throws {
    let dir = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("other.safetensors")
    try SafeTensors.write(["x": Tensor(zeros: [2])], metadata: ["architecture": "lpips"], to: url)
    #expect(throws: IFANModelError.self) { try IFANModelFile.load(url) }
    try SafeTensors.write(["x": Tensor(zeros: [2])], metadata: [:], to: url)
    #expect(throws: IFANModelError.self) { try IFANModelFile.load(url) }
}

/// The deblurrer tiles only images over its whole-image limit.
@Test func deblurrerTilesOnlyLargeImages() throws {
    let network = try fixtureNetwork.get()
    let image = try ImageFile.read(ifanFixture("input.png"))
    let whole = try IFANDeblurrer(network: network, tiling: nil).deblur(image)
    let seams = try TiledInference(tileSize: 32, overlap: 0)
    let under = try IFANDeblurrer(network: network, tiling: seams, maxWholeImagePixels: 128 * 96).deblur(image)
    #expect(under == whole)
    let over = try IFANDeblurrer(network: network, tiling: seams, maxWholeImagePixels: 128 * 96 - 1).deblur(image)
    #expect(over.width == 128 && over.height == 96)
    #expect(over != whole, "tiles without context must show seams")
}
