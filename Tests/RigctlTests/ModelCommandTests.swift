import TestSupport
import Foundation
import Imaging
import Testing

/// `rigctl model import/info/list` and `rigctl deblur` on the IFAN fixture (random weights of the released layout).
@Suite struct ModelCommandTests {
    static var fixtures: URL {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while dir.path != "/" && !FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
            dir = dir.deletingLastPathComponent()
        }
        return dir.deletingLastPathComponent().appendingPathComponent("shared/fixtures/ifan-random")
    }

    @Test func importInfoAndDeblur() throws {
        let home = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: home) }
        let env = ["RIGCTL_HOME": home.path]
        let checkpoint = Self.fixtures.appendingPathComponent("IFAN_random.pytorch").path

        let imported = try CommandLine.run(["model", "import", checkpoint, "--name", "ifan"], environment: env)
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(FileManager.default.fileExists(atPath: home.appendingPathComponent("models/ifan.safetensors").path))
        // A second import does not silently replace the model.
        let again = try CommandLine.run(["model", "import", checkpoint, "--name", "ifan"], environment: env)
        #expect(again.status == 2)

        let list = try CommandLine.run(["model", "list"], environment: env)
        #expect(list.stdout.split(separator: "\n") == ["ifan"])

        let info = try CommandLine.run(["model", "info", "--json", "--size", "1280x720"], environment: env)
        #expect(info.status == 0, "\(info.stderr)")
        let json = try #require(JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any])
        #expect(json["parameters"] as? Int == 10_476_996)
        #expect(json["macs_ptflops"] as? Int == 362_894_760_000)
        #expect(json["macs"] as? Int == 361_506_816_000)

        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for depth in [8, 16] {
            let out = dir.appendingPathComponent("out\(depth).png").path
            let run = try CommandLine.run(["deblur", Self.fixtures.appendingPathComponent("input.png").path, "-o", out,
                                           "--depth", String(depth)], environment: env)
            #expect(run.status == 0, "\(run.stderr)")
            let raster = try PNGFile.read(URL(fileURLWithPath: out))
            #expect(raster.width == 128 && raster.height == 96 && raster.bitDepth == depth)
        }
    }

    @Test func badInputsGiveClearErrors() throws {
        let home = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: home) }
        let env = ["RIGCTL_HOME": home.path]
        let notCheckpoint = try CommandLine.run(["model", "import", Self.fixtures.appendingPathComponent("input.png").path],
                                                environment: env)
        #expect(notCheckpoint.status == 2)
        #expect(notCheckpoint.stderr.contains("input.png"))
        let noModel = try CommandLine.run(["deblur", Self.fixtures.appendingPathComponent("input.png").path, "-o",
                                           home.appendingPathComponent("x.png").path, "--model", "missing"], environment: env)
        #expect(noModel.status == 2)
        #expect(noModel.stderr.contains("missing"))
    }
}
