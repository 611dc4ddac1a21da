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

    @Test func importInfoAndDeblur() async throws {
        let home = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: home) }
        let env = ["RIGCTL_HOME": home.path]
        let checkpoint = Self.fixtures.appendingPathComponent("IFAN_random.pytorch").path

        let imported = try await CommandLine.run(["model", "import", checkpoint, "--name", "ifan"], environment: env)
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(FileManager.default.fileExists(atPath: home.appendingPathComponent("models/ifan.safetensors").path))
        // A second import does not silently replace the model.
        let again = try await CommandLine.run(["model", "import", checkpoint, "--name", "ifan"], environment: env)
        #expect(again.status == 2)

        let list = try await CommandLine.run(["model", "list"], environment: env)
        #expect(list.stdout.split(separator: "\n") == ["ifan"])

        let info = try await CommandLine.run(["model", "info", "--json", "--size", "1280x720"], environment: env)
        #expect(info.status == 0, "\(info.stderr)")
        let json = try #require(JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any])
        #expect(json["parameters"] as? Int == 10_476_996)
        #expect(json["macs_ptflops"] as? Int == 362_894_760_000)
        #expect(json["macs"] as? Int == 361_506_816_000)

        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for depth in [8, 16] {
            let out = dir.appendingPathComponent("out\(depth).png").path
            let run = try await CommandLine.run(["deblur", Self.fixtures.appendingPathComponent("input.png").path, "-o", out,
                                                 "--depth", String(depth)], environment: env)
            #expect(run.status == 0, "\(run.stderr)")
            let raster = try PNGFile.read(URL(fileURLWithPath: out))
            #expect(raster.width == 128 && raster.height == 96 && raster.bitDepth == depth)
        }
    }

    @Test func badInputsGiveClearErrors() async throws {
        let home = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: home) }
        let env = ["RIGCTL_HOME": home.path]
        let notCheckpoint = try await CommandLine.run(["model", "import", Self.fixtures.appendingPathComponent("input.png").path],
                                                      environment: env)
        #expect(notCheckpoint.status == 2)
        #expect(notCheckpoint.stderr.contains("input.png"))
        let noModel = try await CommandLine.run(["deblur", Self.fixtures.appendingPathComponent("input.png").path, "-o",
                                                 home.appendingPathComponent("x.png").path, "--model", "missing"], environment: env)
        #expect(noModel.status == 2)
        #expect(noModel.stderr.contains("missing"))
    }

    /// `deblur --progress` names the stages and the share done on standard error, which is a pipe here; without
    /// the flag a pipe gets no progress at all (logs and scripts stay clean).
    @Test func deblurShowsProgressOnlyWhenAsked() async throws {
        let home = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: home) }
        let env = ["RIGCTL_HOME": home.path]
        let checkpoint = Self.fixtures.appendingPathComponent("IFAN_random.pytorch").path
        #expect(try await CommandLine.run(["model", "import", checkpoint, "--name", "ifan"], environment: env).status == 0)
        let input = Self.fixtures.appendingPathComponent("input.png").path
        let out = home.appendingPathComponent("out.png").path

        let quiet = try await CommandLine.run(["deblur", input, "-o", out], environment: env)
        #expect(quiet.status == 0, "\(quiet.stderr)")
        #expect(quiet.stderr.isEmpty, "\(quiet.stderr)")

        let shown = try await CommandLine.run(["deblur", input, "-o", out, "--progress"], environment: env)
        #expect(shown.status == 0, "\(shown.stderr)")
        let lines = shown.stderr.split(separator: "\n").map(String.init)
        #expect(lines.first == "deblurring input.png: filter encoder, 0%", "\(lines)")
        #expect(lines.contains { $0.hasPrefix("deblurring input.png: IAC, ") })
        #expect(lines.last == "deblurring input.png: done, 100%", "\(lines)")
        #expect(lines.count == 8)

        // Tiles are counted: 4 x 3 tiles of 32 pixels.
        let tiled = try await CommandLine.run(["deblur", input, "-o", out, "--progress", "--tile", "32", "--overlap", "8",
                                               "--max-whole", "0"], environment: env)
        #expect(tiled.status == 0, "\(tiled.stderr)")
        #expect(tiled.stderr.contains("deblurring input.png: tile 12/12, upsampling, "))
        #expect(tiled.stderr.split(separator: "\n").count == 12 * 7 + 1)
    }

    /// A model imported under its own name is the default for deblur and model info; `model list` offers only
    /// deblurring models on standard output; LPIPS weights named as a model are refused with the installed names.
    @Test func anImportedModelIsTheDefaultAndLPIPSWeightsAreNotAModel() async throws {
        let home = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: home) }
        let env = ["RIGCTL_HOME": home.path]
        let imported = try await CommandLine.run(["model", "import", Self.fixtures.appendingPathComponent("IFAN_random.pytorch").path],
                                                 environment: env)
        #expect(imported.status == 0, "\(imported.stderr)")
        // LPIPS weights in the same store (only the header matters here).
        let lpips = home.appendingPathComponent("models/lpips-alex.safetensors")
        try writeHeaderOnlySafetensors(lpips, metadata: ["model": "lpips v0.1 alex"])

        let list = try await CommandLine.run(["model", "list"], environment: env)
        #expect(list.stdout.split(separator: "\n") == ["ifan_random"], "\(list.stdout)")
        #expect(list.stderr.contains("lpips-alex (LPIPS weights"), "\(list.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(try await CommandLine.run(["model", "list", "--json"], environment: env).stdout.utf8))
        let kinds = ((json as? [String: Any])?["models"] as? [[String: Any]])?.map { "\($0["name"]!)=\($0["kind"]!)" }
        #expect(kinds == ["ifan_random=deblurring", "lpips-alex=lpips"], "\(String(describing: kinds))")

        let info = try await CommandLine.run(["model", "info", "--size", "64x64"], environment: env)
        #expect(info.status == 0 && info.stdout.hasPrefix("ifan_random: IFAN"), "\(info.stdout) \(info.stderr)")
        let out = home.appendingPathComponent("out.png").path
        let deblurred = try await CommandLine.run(["deblur", Self.fixtures.appendingPathComponent("input.png").path, "-o", out],
                                                  environment: env)
        #expect(deblurred.status == 0 && deblurred.stdout.contains("deblurred with ifan_random"), "\(deblurred.stdout) \(deblurred.stderr)")
        let refused = try await CommandLine.run(["deblur", Self.fixtures.appendingPathComponent("input.png").path, "-o", out,
                                                 "--model", "lpips-alex"], environment: env)
        #expect(refused.status == 2, "\(refused.stderr)")
        #expect(refused.stderr.contains("LPIPS weights") && refused.stderr.contains("ifan_random"), "\(refused.stderr)")
    }
}
