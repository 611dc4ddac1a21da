import Foundation
import TestSupport
import Testing

extension DatasetWorkflowTests {
    /// A camera that is not there: one line in words, what to try, libgphoto2's code at the end; its perror() line
    /// ("connect cmd: Connection refused") is not printed on its own, and goes to the --verbose log.
    @Test func aCameraThatIsNotThereIsOneLineInWords() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let rig = try deadRigFile(in: dir)
        let log = dir.appendingPathComponent("gphoto.log")
        let run = try await CommandLine.run(["rig", "check", "--rig", rig.path, "--verbose", log.path])
        #expect(run.status == 1)
        let lines = run.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(run.stderr)")
        #expect(run.stderr.contains("nothing answers at that address") && run.stderr.contains("(-7)"), "\(run.stderr)")
        #expect(run.stderr.hasPrefix("rigctl: error: "), "\(run.stderr)")
        let text = try String(contentsOf: log, encoding: .utf8)
        #expect(text.contains("connect cmd: Connection refused"), "the --verbose log lacks the socket's message")
    }
}
