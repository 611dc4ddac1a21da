import Foundation
import Imaging
import TestSupport
import Testing
import ThreadSupport

/// The exit status table of README.md, one code at a time: 0 ok, 1 failure, 2 bad input, 3 rejected pair,
/// 64 usage, 130 interrupted.
@Suite struct ExitStatusTests {
    @Test func okFailureBadInputRejectedAndUsage() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let env = ["RIGCTL_HOME": dir.appendingPathComponent("home").path]
        let ds = dir.appendingPathComponent("ds").path

        // 0: success.
        #expect(try await CommandLine.run(["dataset", "init", ds], environment: env).status == 0)
        #expect(try await CommandLine.run(["dataset", "status", "--dataset", ds], environment: env).status == 0)

        // 1: a failure - a dataset whose catalogued file has gone does not verify.
        let set = dir.appendingPathComponent("set")
        for side in ["source", "target"] {
            try FileManager.default.createDirectory(at: set.appendingPathComponent(side), withIntermediateDirectories: true)
            try PNGFile.write(texturedImage(seed: side == "source" ? 1 : 2, width: 48, height: 32),
                              to: set.appendingPathComponent("\(side)/a.png"))
        }
        #expect(try await CommandLine.run(["import", set.path, "--layout", "realdof", "--dataset", ds], environment: env).status == 0)
        let pair = try JSONOutput.object(try await CommandLine.run(["dataset", "show", "1", "--dataset", ds, "--json"], environment: env))
        try FileManager.default.removeItem(atPath: ds + "/" + (try #require((pair["target"] as? [String: Any])?["path"] as? String)))
        let verify = try await CommandLine.run(["dataset", "verify", "--dataset", ds], environment: env)
        #expect(verify.status == 1, "\(verify.stdout)\(verify.stderr)")

        // 2: bad input - no dataset there, an image that is not one.
        let missing = try await CommandLine.run(["dataset", "status", "--dataset", dir.appendingPathComponent("nope").path], environment: env)
        #expect(missing.status == 2, "\(missing.stderr)")
        let notImage = dir.appendingPathComponent("not.png")
        try Data("not an image".utf8).write(to: notImage)
        let bad = try await CommandLine.run(["align", notImage.path, notImage.path, "--out", dir.appendingPathComponent("x").path],
                                            environment: env)
        #expect(bad.status == 2, "\(bad.stderr)")

        // 3: `align` rejects two unrelated images, and says so in the catalogue's word.
        let a = dir.appendingPathComponent("a.png"), b = dir.appendingPathComponent("b.png")
        try PNGFile.write(texturedImage(seed: 11), to: a)
        try PNGFile.write(texturedImage(seed: 12), to: b)
        let rejected = try await CommandLine.run(["align", a.path, b.path, "--out", dir.appendingPathComponent("ab").path], environment: env)
        #expect(rejected.status == 3, "\(rejected.stdout)\(rejected.stderr)")
        #expect(rejected.stdout.hasPrefix("rejected:"), "\(rejected.stdout)")
        #expect(try await CommandLine.run(["dataset", "list", "--dataset", ds, "--verdict", "rejected"], environment: env).status == 0)

        // 64: usage errors, ArgumentParser's EX_USAGE - an unknown option, a bad value, a failed validation.
        for arguments in [["dataset", "status", "--no-such-option"], ["dataset", "list", "--dataset", ds, "--verdict", "accept"],
                          ["capture", "--rig", "r.json", "--out", dir.path, "--count", "0"], ["evaluate", "--no-input"]] {
            let usage = try await CommandLine.run(arguments, environment: env)
            #expect(usage.status == 64, "\(arguments): \(usage.status) \(usage.stderr)")
            #expect(usage.stdout.isEmpty, "\(arguments): \(usage.stdout)")
        }
    }

    /// 130: Ctrl-C stops `capture` after the pair in hand; the pairs written are whole and listed in the JSON.
    @Test func interruptedCaptureExits130() async throws {
        let rigctl = CommandLine.executable.path
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let rig = try await startVirtualRig(rigctl, in: dir, arguments: ["--width", "160", "--height", "120"])
        defer { if rig.server.isRunning { rig.server.terminate() } }
        try #require(FileManager.default.fileExists(atPath: rig.rigFile.path), "virtual-rig wrote no rig file: \(rig.logText)")
        let out = dir.appendingPathComponent("pairs")
        let capture = Process()
        capture.executableURL = CommandLine.executable
        capture.arguments = ["capture", "--rig", rig.rigFile.path, "--out", out.path, "--count", "50", "--interval", "0.3", "--json"]
        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = rig.home.path
        capture.environment = environment
        let stdout = Pipe(), stderr = Pipe()
        capture.standardOutput = stdout
        capture.standardError = stderr
        let (printed, loggedData) = try await ProcessSlots.shared.withSlot {
            try capture.run()
            // Interrupt once the first pair is whole (its sidecar is written last).
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline && capture.isRunning
                && !FileManager.default.fileExists(atPath: out.appendingPathComponent("0001.json").path) {
                try await Task.sleep(for: .milliseconds(50))
            }
            capture.interrupt()
            return try await JoinableThread.awaiting(name: "capture-exit") {
                let printed = stdout.fileHandleForReading.readDataToEndOfFile()
                let logged = stderr.fileHandleForReading.readDataToEndOfFile()
                capture.waitUntilExit()
                return (printed, logged)
            }
        }
        let logged = String(decoding: loggedData, as: UTF8.self)
        #expect(capture.terminationReason == .exit && capture.terminationStatus == 130, "\(logged)")
        #expect(logged.contains("stopping after the pair in hand"), "\(logged)")
        let result = CommandLine.Result(status: capture.terminationStatus, stdout: String(decoding: printed, as: UTF8.self),
                                        stderr: logged)
        let run = try JSONOutput.object(result)
        JSONOutput.expectKeys(run, required: ["folder", "pairs", "interrupted", "seconds"], "capture --out --json")
        #expect(run["interrupted"] as? Bool == true)
        let pairs = try #require(run["pairs"] as? [[String: Any]])
        #expect(pairs.count >= 1 && pairs.count < 50, "\(pairs.count) pairs")
        for pair in pairs {
            JSONOutput.expectKeys(pair, required: ["index", "shallow", "deep", "sidecar", "trigger", "arrivalSkew"],
                                  optional: ["triggerSkew"], "capture --out --json pair")
            #expect(pair["trigger"] as? String == "software")
            for key in ["shallow", "deep", "sidecar"] {
                #expect(FileManager.default.fileExists(atPath: pair[key] as? String ?? ""), "\(key) of \(pair)")
            }
        }
        // Every file in the folder belongs to a listed pair: none was left half-written.
        let names = try FileManager.default.contentsOfDirectory(atPath: out.path)
        #expect(names.count == 3 * pairs.count, "\(names.sorted())")
    }
}
