import Foundation
import Testing

/// `rigctl metrics --protocol`: each published protocol by name, with the numbers its official code gives on the
/// parity fixtures (Tests/EvaluationTests/Fixtures/protocols).
@Suite struct MetricsProtocolTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../EvaluationTests/Fixtures/protocols").standardized

    func scores(_ arguments: [String]) async throws -> [String: Any] {
        let result = try await CommandLine.run(["metrics"] + arguments + ["--json"], environment: ["RIGCTL_HOME": FileManager.default.temporaryDirectory.appendingPathComponent("rigctl-no-home-\(UUID().uuidString)").path])
        #expect(result.status == 0, "\(result.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }

    @Test func eachProtocolGivesItsOfficialNumbers() async throws {
        let expected = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: Self.fixtures.appendingPathComponent("expected.json"))) as? [String: Any])
        let odd = try #require((expected["pairs"] as? [[String: Any]])?.first { $0["name"] as? String == "odd" })
        func official(_ name: String, _ key: String) -> Double { ((odd[name] as? [String: Any])?[key] as? Double) ?? .nan }
        let out8 = Self.fixtures.appendingPathComponent("odd_output8.png").path
        let gt8 = Self.fixtures.appendingPathComponent("odd_target8.png").path

        let ifan = try await scores([out8, gt8, "--protocol", "ifan"])
        #expect(ifan["protocol"] as? String == "ifan")
        #expect(abs((ifan["psnr"] as? Double ?? 0) - official("ifan", "psnr")) < 1e-6, "\(ifan)")

        let dpdd = try await scores([Self.fixtures.appendingPathComponent("odd_output16.png").path,
                                     Self.fixtures.appendingPathComponent("odd_target16.png").path])
        #expect(dpdd["protocol"] as? String == "dpdd", "dpdd is the default")
        #expect(abs((dpdd["psnr"] as? Double ?? 0) - official("dpdd", "psnr")) < 1e-6, "\(dpdd)")

        let realblur = try await scores([out8, gt8, "--protocol", "realblur"])
        #expect(realblur["protocol"] as? String == "realblur")
        #expect(abs((realblur["psnr"] as? Double ?? 0) - official("realblur", "psnr")) < 0.01, "\(realblur)")
        #expect(abs((realblur["ssim"] as? Double ?? 0) - official("realblur", "ssim")) < 2e-4, "\(realblur)")

        let luma = try await scores([out8, gt8, "--protocol", "basicsr-y"])
        #expect(luma["protocol"] as? String == "basicsr-y")
        #expect(abs((luma["psnr"] as? Double ?? 0) - official("basicsr-y", "psnr")) < 1e-6, "\(luma)")
        #expect(abs((luma["ssim"] as? Double ?? 0) - official("basicsr-y", "ssim")) < 1e-6, "\(luma)")

        let iqa = try await scores([out8, gt8, "--protocol", "pyiqa-y"])
        #expect(iqa["protocol"] as? String == "pyiqa-y")
        #expect(abs((iqa["psnr"] as? Double ?? 0) - official("pyiqa-y", "psnr")) < 0.01, "\(iqa)")
        #expect(abs((iqa["ssim"] as? Double ?? 0) - official("pyiqa-y", "ssim")) < 2e-4, "\(iqa)")

        // The MATLAB-style downsampling needs a pair of at least 384 pixels: the pooled fixture at 640.
        let tie = try #require((expected["pooled"] as? [[String: Any]])?.first { $0["name"] as? String == "pooltie" })
        let pooled = try await scores([Self.fixtures.appendingPathComponent("pooltie_output8.png").path,
                                       Self.fixtures.appendingPathComponent("pooltie_target8.png").path,
                                       "--protocol", "pyiqa-y-downsample"])
        let pyiqaPooled = try #require(tie["pyiqa-y-downsample"] as? [String: Any])
        #expect(pooled["protocol"] as? String == "pyiqa-y-downsample")
        #expect(abs((pooled["ssim"] as? Double ?? 0) - (pyiqaPooled["ssim"] as? Double ?? .nan)) < 2e-4, "\(pooled)")

        let refused = try await CommandLine.run(["metrics", out8, gt8, "--protocol", "realdof"])
        #expect(refused.status == 64 && refused.stderr.contains("realdof"), "\(refused.stderr)")
    }
}
