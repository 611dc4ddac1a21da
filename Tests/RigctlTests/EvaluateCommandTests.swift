import TestSupport
import Foundation
import Imaging
import Testing

@Suite struct EvaluateCommandTests {
    func texture(_ seed: Int, width: Int = 40, height: Int = 32) -> RGBImage {
        var image = RGBImage(width: width, height: height)
        for y in 0..<height { for x in 0..<width { for c in 0..<3 {
            image[c, x, y] = Float((x * 7 + y * 13 + c * 29 + seed * 31) % 64) / 63
        } } }
        return image
    }

    @Test func tableReportAndMismatch() async throws {
        let root = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        for name in ["a", "b"] {
            for folder in ["source", "target", "mine"] {
                try FileManager.default.createDirectory(at: root.appendingPathComponent("set/\(folder)"), withIntermediateDirectories: true)
                let seed = folder == "source" ? 1 : 2
                try PNGFile.write(texture(seed), to: root.appendingPathComponent("set/\(folder)/\(name).png"))
            }
        }
        let set = root.appendingPathComponent("set").path
        // HOME too: LPIPS weights installed for the user would otherwise be found beside RIGCTL_HOME.
        let home = ["RIGCTL_HOME": root.appendingPathComponent("home").path, "HOME": root.appendingPathComponent("user").path]
        let result = try await CommandLine.run(["evaluate", set, "--results", set + "/mine", "--name", "Mine", "--format", "csv",
                                                "--report", root.appendingPathComponent("report").path], environment: home)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[2].hasPrefix("Mine,2,inf,1.0,1.0,0.0,,"), "a perfect output: PSNR inf, SSIM 1, MAE 0")
        #expect(result.stderr.contains("LPIPS weights are not installed"))
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("report/index.html").path))

        // A method's error names the pair and the stage, and keeps its exit status (bad input: 2).
        try FileManager.default.removeItem(at: root.appendingPathComponent("set/mine/b.png"))
        let missing = try await CommandLine.run(["evaluate", set, "--results", set + "/mine", "--name", "Mine"], environment: home)
        #expect(missing.status == 2, "\(missing.stderr)")
        #expect(missing.stderr.contains("rigctl: error: pair b, running Mine: "), "\(missing.stderr)")
        // An unreadable target: the pair and the reading stage are named; not bad input of the command's own kind
        // unless the decoder says so, so only the words are checked.
        try Data("not a PNG".utf8).write(to: root.appendingPathComponent("set/target/a.png"))
        let unreadable = try await CommandLine.run(["evaluate", set], environment: home)
        #expect(unreadable.status != 0)
        #expect(unreadable.stderr.contains("rigctl: error: pair a, reading the images: "), "\(unreadable.stderr)")

        try FileManager.default.removeItem(at: root.appendingPathComponent("set/target/b.png"))
        let mismatch = try await CommandLine.run(["evaluate", set], environment: home)
        #expect(mismatch.status == 2)
        #expect(mismatch.stderr.contains("only in source: b"))
    }
}

@Suite struct EvaluateModelTests {
    /// An imported IFAN checkpoint is evaluated as a method, with the paper's parameter and MAC counts.
    @Test func importedModelIsARowOfTheTable() async throws {
        let root = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let home = ["RIGCTL_HOME": root.appendingPathComponent("home").path]
        let imported = try await CommandLine.run(["model", "import", fixture("ifan-random/IFAN_random.pytorch").path,
                                                  "--name", "ifan-test"], environment: home)
        #expect(imported.status == 0, "\(imported.stderr)")
        for folder in ["source", "target"] {
            try FileManager.default.createDirectory(at: root.appendingPathComponent("set/\(folder)"), withIntermediateDirectories: true)
            try PNGFile.write(try ImageFile.read(fixture("ifan-random/input.png")),
                              to: root.appendingPathComponent("set/\(folder)/a.png"))
        }
        let result = try await CommandLine.run(["evaluate", root.appendingPathComponent("set").path, "--model", "ifan-test",
                                                "--format", "markdown"], environment: home)
        #expect(result.status == 0, "\(result.stderr)")
        let row = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("| ifan-test |") })
        #expect(row.contains("| 10.48 | 362.9 |"), "\(row)")
        // Standard error is a pipe: without --progress no stage of the model is shown, with it every one is.
        #expect(!result.stderr.contains("filter encoder"), "\(result.stderr)")
        let shown = try await CommandLine.run(["evaluate", root.appendingPathComponent("set").path, "--model", "ifan-test",
                                               "--progress"], environment: home)
        #expect(shown.status == 0, "\(shown.stderr)")
        let lines = shown.stderr.split(separator: "\n").filter { $0.hasPrefix("evaluating [1/1] a ifan-test: ") }
        #expect(lines.first == "evaluating [1/1] a ifan-test: filter encoder, 0%", "\(shown.stderr)")
        #expect(lines.last == "evaluating [1/1] a ifan-test: done, 100%", "\(shown.stderr)")
        #expect(lines.count == 8, "\(shown.stderr)")
    }
}

@Suite struct EvaluateInterruptTests {
    /// Ctrl-C during `evaluate SET`: the pairs in flight finish, no table is printed, the message says how far it
    /// got and the exit status is 130. The signal is sent once the first pair is being scored, with 40 pairs of
    /// IFAN work still to come, so it always arrives while work remains.
    @Test func interruptStopsAfterThePairsInFlight() async throws {
        let root = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let home = ["RIGCTL_HOME": root.appendingPathComponent("home").path, "HOME": root.appendingPathComponent("user").path]
        #expect(try await CommandLine.run(["model", "import", fixture("ifan-random/IFAN_random.pytorch").path, "--name", "ifan-test"],
                                          environment: home).status == 0)
        let input = try ImageFile.read(fixture("ifan-random/input.png"))
        for folder in ["source", "target"] {
            try FileManager.default.createDirectory(at: root.appendingPathComponent("set/\(folder)"), withIntermediateDirectories: true)
            for i in 0..<40 { try PNGFile.write(input, to: root.appendingPathComponent("set/\(folder)/p\(i).png")) }
        }
        let result = try await CommandLine.interrupted(["evaluate", root.appendingPathComponent("set").path, "--model", "ifan-test"],
                                                       environment: home, once: "evaluating [0/40]")
        let text = result.stderr
        #expect(result.status == 130, "\(text)")
        #expect(text.contains("stopping after the pairs in hand"), "\(text)")
        #expect(text.contains("rigctl: error: stopped after ") && text.contains(" of 40 pairs"), "\(text)")
        #expect(result.stdout.isEmpty, "no table for an interrupted run")
    }
}

@Suite struct EvaluateDatasetInterruptTests {
    /// Ctrl-C during `evaluate --dataset`: the signal is sent once the second pair's scoring has begun (so the first
    /// one's rows are in the catalogue), with 38 more pairs of IFAN work to come. The run stops after the pair in
    /// hand with status 130 and says how many pairs it scored; exactly those pairs have their two rows (the input's
    /// and the model's), nothing of the others is written, and the catalogue verifies.
    @Test func interruptKeepsThePairsScoredAndNothingHalfWritten() async throws {
        let root = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let env = ["RIGCTL_HOME": root.appendingPathComponent("home").path, "HOME": root.appendingPathComponent("user").path]
        let dataset = root.appendingPathComponent("ds").path
        let input = try ImageFile.read(fixture("ifan-random/input.png"))
        for i in 0..<40 {
            for folder in ["source", "target"] {
                try FileManager.default.createDirectory(at: root.appendingPathComponent("set/\(folder)"), withIntermediateDirectories: true)
                let shift = folder == "target" ? 1 : 0
                let image = input.cropped(x: i % 8 + shift, y: i / 8 + shift, width: 112, height: 80)
                try PNGFile.write(image, to: root.appendingPathComponent("set/\(folder)/p\(i).png"))
            }
        }
        for command in [["dataset", "init", dataset],
                        ["import", root.appendingPathComponent("set").path, "--layout", "realdof", "--dataset", dataset],
                        ["model", "import", fixture("ifan-random/IFAN_random.pytorch").path, "--name", "ifan-test"]] {
            let r = try await CommandLine.run(command, environment: env)
            #expect(r.status == 0, "\(command): \(r.stderr)")
        }
        let before = try await CommandLine.run(["dataset", "status", "--dataset", dataset], environment: env)
        #expect(before.stdout.contains("pairs 40,") && before.stdout.contains("evaluations 0"), "\(before.stdout)")

        let result = try await CommandLine.interrupted(["evaluate", "--dataset", dataset, "--model", "ifan-test"], environment: env,
                                                       once: "evaluating [1/40]")
        let text = result.stderr
        #expect(result.status == 130, "\(text)")
        #expect(text.contains("stopping after the pair in hand"), "\(text)")
        #expect(result.stdout.isEmpty, "no table for an interrupted run")
        // "rigctl: error: stopped after N of 40 pairs"
        let scored = text.components(separatedBy: "stopped after ").dropFirst().first
            .flatMap { Int($0.prefix { $0.isNumber }) }
        let n = try #require(scored, "\(text)")
        #expect(text.contains("stopped after \(n) of 40 pairs"), "\(text)")
        #expect(n >= 1 && n < 40)
        let after = try await CommandLine.run(["dataset", "status", "--dataset", dataset], environment: env)
        #expect(after.stdout.contains("evaluations \(2 * n)\n") || after.stdout.contains("evaluations \(2 * n),")
                || after.stdout.hasSuffix("evaluations \(2 * n)"), "\(n) pairs: \(after.stdout)")
        #expect(try await CommandLine.run(["dataset", "verify", "--dataset", dataset], environment: env).status == 0)
        // The next run scores only the rest.
        let resumed = try await CommandLine.run(["evaluate", "--dataset", dataset, "--model", "ifan-test"], environment: env)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("ifan-test: \(n) already scored, \(40 - n) scored anew"), "\(resumed.stderr)")
    }
}
