import Foundation
import Imaging
import TestSupport
import Testing

/// Weights that are valid files but unusable numbers: refused at load, naming the tensor, never a crash.
@Suite struct HostileWeightsTests {
    /// Overwrites the first value of tensor `name` in a safetensors file (F32) with `value`.
    static func poison(_ url: URL, tensor name: String, with value: Float) throws {
        var data = try Data(contentsOf: url)
        let headerLength = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try #require(try JSONSerialization.jsonObject(with: data[8..<(8 + headerLength)]) as? [String: Any])
        let entry = try #require(header[name] as? [String: Any], "no tensor \(name)")
        let begin = try #require((entry["data_offsets"] as? [Int])?.first)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes in
            for i in 0..<4 { data[8 + headerLength + begin + i] = bytes[i] }
        }
        try data.write(to: url)
    }

    @Test func nanWeightsAreRefusedAtLoadWithTheTensorNamed() async throws {
        let root = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let home = ["RIGCTL_HOME": root.appendingPathComponent("home").path]
        let imported = try await CommandLine.run(["model", "import", fixture("ifan-random/IFAN_random.pytorch").path,
                                                  "--name", "poisoned"], environment: home)
        try #require(imported.status == 0, "\(imported.stderr)")
        let weights = root.appendingPathComponent("home/models/poisoned.safetensors")
        let tensor = "F.3.weight"
        try Self.poison(weights, tensor: tensor, with: .nan)
        let output = root.appendingPathComponent("out.png")
        let result = try await CommandLine.run(["deblur", fixture("ifan-random/input.png").path, "-o", output.path,
                                                "--model", weights.path], environment: home)
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("'\(tensor)'") && result.stderr.contains("not finite"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output.path))
    }
}
