import TestSupport
import DatasetBuilder
import Foundation
import Testing

/// The dataset commands of the built `rigctl`: where `--dataset` comes from, output and exit statuses.
@Suite struct CommandLineTests {
    struct Result {
        let status: Int32
        let output: String
    }

    static func rigctl(_ arguments: [String], environment: [String: String] = [:], in directory: URL? = nil) async throws -> Result {
        let binary = try #require(locateProduct("rigctl"), "rigctl is not built next to the tests")
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "RIGCTL_DATASET")
        for (key, value) in environment { env[key] = value }
        process.environment = env
        if let directory { process.currentDirectoryURL = directory }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let data = try await runToEnd(process, reading: pipe)
        return Result(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }

    @Test func initImportStatusExportVerifyReview() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let set = dir.appendingPathComponent("RealDOF")
        for (i, name) in ["a.png", "b.png"].enumerated() {
            try writePNG(set.appendingPathComponent("source/\(name)"), seed: UInt64(i))
            try writePNG(set.appendingPathComponent("target/\(name)"), seed: UInt64(10 + i))
        }
        try writePNG(set.appendingPathComponent("target/c.png"), seed: 20)
        let ds = dir.appendingPathComponent("ds")

        #expect(try await Self.rigctl(["dataset", "init", ds.path]).status == 0)
        // --dataset from the environment.
        let imported = try await Self.rigctl(["import", set.path, "--layout", "realdof", "--tag", "indoor"],
                                             environment: ["RIGCTL_DATASET": ds.path])
        #expect(imported.status == 0)
        #expect(imported.output.contains("imported 2 pairs, 0 already present, 1 mismatches"))
        #expect(imported.output.contains("target/c.png has no source/c.png"))
        // ... and from the current folder.
        let status = try await Self.rigctl(["dataset", "status", "--json"], in: ds)
        #expect(status.status == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(status.output.utf8)) as? [String: Any])
        #expect(json["pairs"] as? Int == 2)

        let list = try await Self.rigctl(["dataset", "list", "--dataset", ds.path, "--tag", "indoor", "--scene", "b"])
        #expect(list.status == 0 && list.output.split(separator: "\n").count == 2)
        #expect(try await Self.rigctl(["dataset", "show", "1", "--dataset", ds.path]).output.contains("scene: a [indoor]"))
        #expect(try await Self.rigctl(["dataset", "review", "2", "--state", "rejected", "--note", "moved",
                                       "--dataset", ds.path]).status == 0)
        let export = try await Self.rigctl(["export", "--dataset", ds.path, "--out", dir.appendingPathComponent("out").path,
                                            "--format", "dpdd", "--depth", "16"])
        #expect(export.status == 0 && export.output.contains("exported 1 pairs"))
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out/test_c/target/0001_a.png").path))
        #expect(try await Self.rigctl(["export", "--dataset", ds.path, "--out", dir.path]).status == 2)  // not an export
        #expect(try await Self.rigctl(["export", "--dataset", ds.path, "--out", "x", "--depth", "12"]).status != 0)

        #expect(try await Self.rigctl(["dataset", "verify", "--dataset", ds.path]).status == 0)
        let pair = try Dataset.open(at: ds, readOnly: true).pair("1")
        try FileManager.default.removeItem(at: ds.appendingPathComponent(pair.target.path))
        let verify = try await Self.rigctl(["dataset", "verify", "--dataset", ds.path])
        #expect(verify.status == 1)
        #expect(verify.output.contains("missing: \(pair.target.path)") && verify.output.contains("NOT consistent"))

        let missing = try await Self.rigctl(["dataset", "status", "--dataset", dir.appendingPathComponent("nope").path])
        #expect(missing.status == 2 && missing.output.contains("is not a dataset"))
        #expect(try await Self.rigctl(["dataset", "init", ds.path]).status == 2)
    }
}
