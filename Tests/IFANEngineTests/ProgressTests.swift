import Foundation
import IFANEngine
import Imaging
import NeuralCore
import Testing
import ThreadSupport

/// The reports of one deblur, in the order they came.
func progressReports(_ deblurrer: IFANDeblurrer, _ image: RGBImage) throws -> (RGBImage, [DeblurProgress]) {
    let reports = LockedValue<[DeblurProgress]>([])
    let output = try deblurrer.deblur(image) { p in reports.withLock { $0.append(p) } }
    return (output, reports.value)
}

/// A whole image reports every stage once, in the network's order, with a growing share of the work, then done;
/// the result is the same as without progress.
@Test func progressNamesEveryStageInOrder() throws {
    let network = try fixtureNetwork.get()
    let image = try ImageFile.read(ifanFixture("input.png"))
    let deblurrer = IFANDeblurrer(network: network, tiling: nil)
    let (output, reports) = try progressReports(deblurrer, image)
    #expect(output == (try deblurrer.deblur(image)))
    #expect(reports.map(\.stage) == DeblurProgress.Stage.allCases)
    #expect(reports.allSatisfy { $0.tile == 1 && $0.tiles == 1 })
    let fractions = reports.map(\.fraction)
    #expect(fractions.first == 0 && fractions.last == 1)
    #expect(zip(fractions, fractions.dropFirst()).allSatisfy { $0 < $1 })
}

/// A tiled image counts its tiles: each tile runs every stage, and the share of the work keeps growing.
@Test func progressCountsTiles() throws {
    let network = try fixtureNetwork.get()
    let image = try ImageFile.read(ifanFixture("input.png"))  // 128 x 96: 4 x 3 tiles of 32
    let deblurrer = IFANDeblurrer(network: network, tiling: try TiledInference(tileSize: 32, overlap: 8),
                                  maxWholeImagePixels: 0)
    let (_, reports) = try progressReports(deblurrer, image)
    let stages = DeblurProgress.Stage.allCases.count - 1
    #expect(reports.count == 12 * stages + 1)
    #expect(reports.allSatisfy { $0.tiles == 12 })
    #expect(reports.filter { $0.stage == .filterEncoder }.map(\.tile) == Array(1...12))
    #expect(reports.last == DeblurProgress(tile: 12, tiles: 12, stage: .done, fraction: 1))
    let fractions = reports.map(\.fraction)
    #expect(zip(fractions, fractions.dropFirst()).allSatisfy { $0 < $1 })
    #expect(abs(reports[stages].fraction - 1.0 / 12) < 1e-12, "the second tile starts after one twelfth of the work")
}

/// The stage shares are the network's MACs: they add up to one, and the 1/8-scale stages carry the most.
@Test func stageSharesFollowTheMACs() {
    let shares = IFANArchitecture().stageShares(width: 1280, height: 720)
    #expect(abs(shares.values.reduce(0, +) - 1) < 1e-12)
    #expect(Set(shares.keys) == Set(DeblurProgress.Stage.allCases.filter { $0 != .done }))
    #expect(shares.values.allSatisfy { $0 > 0 })
    #expect((try? TiledInference(tileSize: 32, overlap: 8))?.tileCount(width: 128, height: 96) == 12)
    #expect((try? TiledInference(tileSize: 1024, overlap: 128))?.tileCount(width: 1280, height: 720) == 1)
}
