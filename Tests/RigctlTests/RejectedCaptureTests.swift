import Foundation
import TestSupport
import Testing

/// A rig file without the splitter's mirror (as `rig init` wrote them before it looked): every pair is rejected,
/// and capture says so loudly while it runs and at the end, with the mirror first among the likely causes, and
/// exits 3 instead of 0.
@Suite struct RejectedCaptureTests {
    @Test func aCaptureWhoseEveryPairIsRejectedSaysWhyAndFails() async throws {
        let rigctl = CommandLine.executable.path
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let rig = try await startVirtualRig(rigctl, in: dir, arguments: ["--width", "320", "--height", "240"])
        defer { if rig.server.isRunning { rig.server.terminate() } }
        try #require(FileManager.default.fileExists(atPath: rig.rigFile.path), "virtual-rig wrote no rig file: \(rig.logText)")
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: rig.rigFile)) as? [String: Any])
        object["alignment"] = nil
        let unmirrored = dir.appendingPathComponent("starter.rig.json")
        try JSONSerialization.data(withJSONObject: object).write(to: unmirrored)
        let env = ["HOME": rig.home.path]
        let ds = dir.appendingPathComponent("ds").path
        let capture = try await CommandLine.run(["capture", "--rig", unmirrored.path, "--dataset", ds, "--init", "--scene", "desk",
                                                 "--count", "3"], environment: env)
        #expect(capture.status == 3, "\(capture.stdout) \(capture.stderr)")
        #expect(capture.stderr.contains("WARNING: the last 3 pairs were all rejected for the same reason"), "\(capture.stderr)")
        #expect(capture.stderr.contains("every pair of this run (3) was rejected") && capture.stderr.contains("alignment.mirror"),
                "\(capture.stderr)")
    }
}
