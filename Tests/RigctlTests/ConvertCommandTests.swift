import TestSupport
import Foundation
import Imaging
import Testing

@Suite struct ConvertCommandTests {
    @Test func versionAndHelp() async throws {
        let version = try await CommandLine.run(["--version"])
        #expect(version.status == 0)
        #expect(version.stdout.contains("0."))
        let help = try await CommandLine.run(["--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("convert"))
        #expect(help.stdout.contains("test-chart"))
    }

    @Test func chartToPNGAtBothDepths() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dng = dir.appendingPathComponent("chart.dng").path
        let made = try await CommandLine.run(["test-chart", dng, "--size", "240x160"])
        #expect(made.status == 0, "\(made.stderr)")
        for depth in ["8", "16"] {
            let png = dir.appendingPathComponent("chart\(depth).png").path
            let result = try await CommandLine.run(["convert", dng, png, "--depth", depth])
            #expect(result.status == 0, "\(result.stderr)")
            let raster = try PNGFile.read(URL(fileURLWithPath: png))
            #expect(raster.bitDepth == Int(depth)!)
            #expect(raster.width == 240 && raster.height == 160 && raster.channels == 3)
            // The white patch (index 18) reads back as its linear value.
            let image = raster.rgbImage()
            let r = TestChart.patchRect(18, width: 240, height: 160)
            let v = image[1, r.x + r.width / 2, r.y + r.height / 2]
            #expect(abs(v - TestChart.patches[18][1]) < (depth == "8" ? 3.0 / 255 : 1e-3), "white patch reads \(v)")
        }
    }

    @Test func convertsPNGAndJPEG() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let raster = Raster8(width: 32, height: 24, channels: 3, samples: (0..<2304).map { UInt8($0 % 251) })
        let png = dir.appendingPathComponent("in.png")
        try PNGFile.write(raster, to: png)
        let jpg = dir.appendingPathComponent("in.jpg")
        try JPEGFile.encode(raster).write(to: jpg)
        for input in [png, jpg] {
            let out = dir.appendingPathComponent(input.lastPathComponent + ".out.png").path
            let result = try await CommandLine.run(["convert", input.path, out, "--depth", "8"])
            #expect(result.status == 0, "\(result.stderr)")
        }
        let copy = try PNGFile.read(URL(fileURLWithPath: dir.appendingPathComponent("in.png.out.png").path))
        #expect(copy == .eight(raster))
    }

    @Test func badInputIsAClearErrorWithExitCodeTwo() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("broken.png")
        var data = try PNGFile.encode(Raster8(width: 8, height: 8, channels: 3, samples: [UInt8](repeating: 9, count: 192)))
        data = data.prefix(data.count / 2)
        try data.write(to: bad)
        let out = dir.appendingPathComponent("out.png").path
        let result = try await CommandLine.run(["convert", bad.path, out])
        #expect(result.status == 2)
        #expect(result.stderr.contains("broken.png"))
        #expect(!result.stderr.contains("Fatal error"))
        #expect(!FileManager.default.fileExists(atPath: out))

        let missing = try await CommandLine.run(["convert", dir.appendingPathComponent("nope.dng").path, out])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("nope.dng"))

        let depth = try await CommandLine.run(["convert", bad.path, out, "--depth", "12"])
        #expect(depth.status != 0 && depth.stderr.contains("--depth"))
    }

    @Test func unwritableOutputIsAFailureNamingIt() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dng = dir.appendingPathComponent("c.dng").path
        _ = try await CommandLine.run(["test-chart", dng, "--size", "64x64"])
        let target = dir.appendingPathComponent("missing-folder/out.png").path
        let result = try await CommandLine.run(["convert", dng, target])
        #expect(result.status == 1)
        #expect(result.stderr.contains("missing-folder/out.png"))
    }
}

extension ConvertCommandTests {
    /// The fuzzer's libraw crash through the command line: a message naming the file and exit 2, not SIGABRT.
    @Test func aRAWFileThatCrashesLibrawIsABadInput() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fuzz/corpus/dng/regression-libraw-hasselblad-strcat")
        let out = dir.appendingPathComponent("out.png")
        let result = try await CommandLine.run(["convert", input.path, out.path])
        #expect(result.status == 2, "status \(result.status): \(result.stderr)")
        #expect(result.stderr.contains("regression-libraw-hasselblad-strcat") && (result.stderr.contains("crashed on it") || result.stderr.contains("failed on it")),
                "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }
}
