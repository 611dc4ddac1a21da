import Foundation
import Imaging
import TestSupport
import Testing

/// The command line as a script and a person use it, on pairs captured from the virtual rig: `--json` prints JSON
/// alone on standard output with the documented keys (docs/cli-json.md), the text is readable, and one verdict
/// spelling runs from `align` to `dataset list`.
@Suite(.serialized) struct ScriptingTests {
    static let pairKeys: Set<String> = ["id", "key", "name", "scene", "captureID", "verdict", "split", "reviewState"]

    @Test func captureEvaluateAndExportWithJSON() async throws {
        let rigctl = CommandLine.executable.path
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let rig = try await startVirtualRig(rigctl, in: dir, arguments: ["--width", "320", "--height", "240"])
        defer { if rig.server.isRunning { rig.server.terminate() } }
        try #require(FileManager.default.fileExists(atPath: rig.rigFile.path), "virtual-rig wrote no rig file: \(rig.logText)")
        let env = ["HOME": rig.home.path]
        let ds = dir.appendingPathComponent("ds").path
        #expect(try await CommandLine.run(["dataset", "init", ds], environment: env).status == 0)

        // capture --json: the result on standard output, the per-pair lines on standard error.
        let capture = try await CommandLine.run(["capture", "--rig", rig.rigFile.path, "--dataset", ds, "--scene", "planes",
                                                 "--count", "2", "--split", "test", "--no-model", "--json"], environment: env)
        #expect(capture.status == 0, "\(capture.stderr)")
        let run = try JSONOutput.object(capture)
        JSONOutput.expectKeys(run, required: ["dataset", "pairs", "verdicts", "failures", "waitingCaptures", "interrupted",
                                              "seconds"], "capture --json")
        #expect(run["verdicts"] as? [String: Int] == ["accepted": 2, "review": 0, "rejected": 0], "\(run)")
        #expect(run["interrupted"] as? Bool == false && run["failures"] as? Int == 0 && run["waitingCaptures"] as? Int == 0)
        let outcomes = try #require(run["pairs"] as? [[String: Any]])
        #expect(outcomes.count == 2)
        for o in outcomes {
            JSONOutput.expectKeys(o, required: ["captureID", "pairID", "scene", "verdict", "reasons", "seconds", "input", "protocols"],
                                  optional: ["model", "deblurred", "protocol"], "capture --json pair")
            JSONOutput.expectKeys(o["input"] as? [String: Any], required: ["psnr", "ssim", "ssimGaussian", "mae"],
                                  optional: ["lpips"], "capture --json scores")
        }
        // One number per capture in both lines: the capture id, which the pair line maps to its pair id.
        #expect(capture.stderr.contains("capture 1 -> pair 1 [planes] accepted"), "\(capture.stderr)")
        #expect(capture.stderr.contains("capture 2 taken (2 of 2 in this run"), "\(capture.stderr)")
        #expect(!capture.stderr.contains("captured pair"), "\(capture.stderr)")

        // Pair names carry the scene.
        let list = try await CommandLine.run(["dataset", "list", "--dataset", ds, "--json"], environment: env)
        let pairs = try JSONOutput.array(list)
        #expect(pairs.map { $0["name"] as? String } == ["planes-1", "planes-2"])
        for p in pairs { JSONOutput.expectKeys(p, required: Self.pairKeys, "dataset list --json") }

        let status = try JSONOutput.object(try await CommandLine.run(["dataset", "status", "--dataset", ds, "--json"], environment: env))
        JSONOutput.expectKeys(status, required: ["captures", "pairs", "scenes", "files", "models", "evaluations", "byVerdict",
                                                 "bySplit", "byReview", "byScene"], "dataset status --json")
        #expect(status["pairs"] as? Int == 2)
        // Only the input was scored (no model installed): its baseline row is not counted as a model.
        #expect(status["models"] as? Int == 0 && (status["evaluations"] as? Int ?? 0) >= 2, "\(status)")

        let show = try JSONOutput.object(try await CommandLine.run(["dataset", "show", "1", "--dataset", ds, "--json"], environment: env))
        JSONOutput.expectKeys(show, required: ["id", "key", "name", "scene", "sceneNotes", "tags", "source", "target",
                                               "quality", "verdict", "reasons", "split", "reviewState", "reviewNote", "origin",
                                               "evaluations", "homography", "crop", "capture"],
                              optional: ["left", "right", "colour", "provenance"], "dataset show --json")
        let shots = try #require((show["capture"] as? [String: Any])?["shots"] as? [[String: Any]])
        let original = { (role: String) -> String in
            let file = shots.first { $0["role"] as? String == role }?["file"] as? [String: Any]
            return ds + "/" + (file?["path"] as? String ?? "missing")
        }

        let verify = try await CommandLine.run(["dataset", "verify", "--dataset", ds, "--json"], environment: env)
        #expect(verify.status == 0, "\(verify.stdout)")
        let report = try JSONOutput.object(verify)
        JSONOutput.expectKeys(report, required: ["consistent", "hashesChecked", "checkedFiles", "checkedBytes", "missing",
                                                 "mismatched", "orphans", "unsafe", "pending", "databaseProblems"],
                              "dataset verify --json")
        #expect(report["consistent"] as? Bool == true)

        // evaluate: the table alone on standard output, in every machine-readable format.
        let json = try await CommandLine.run(["evaluate", "--dataset", ds, "--format", "json"], environment: env)
        #expect(json.status == 0, "\(json.stderr)")
        let rows = try JSONOutput.array(json)
        #expect(rows.map { $0["name"] as? String } == ["Input"] && rows.first?["pairs"] as? Int == 2, "\(rows)")
        JSONOutput.expectKeys(rows.first, required: ["name", "pairs", "psnr", "ssim", "ssim_gaussian", "mae", "lpips",
                                                     "seconds_per_image", "complexity", "protocol", "protocol_detail", "intervals"],
                              optional: ["comparison"], "evaluate --format json")
        #expect(rows.first?["protocol"] as? String == "ifan", "the default protocol by name: \(rows)")
        #expect(json.stderr.contains("recorded in"), "the note goes to standard error: \(json.stderr)")
        let csv = try await CommandLine.run(["evaluate", "--dataset", ds, "--format", "csv"], environment: env)
        #expect(csv.status == 0, "\(csv.stderr)")
        let lines = csv.stdout.split(separator: "\n")
        #expect(lines.count == 2 && lines[1].hasPrefix("Input,2,"), "only the header and the row: \(csv.stdout)")

        let export = try await CommandLine.run(["export", "--dataset", ds, "--out", dir.appendingPathComponent("testset").path,
                                                "--json"], environment: env)
        #expect(export.status == 0, "\(export.stderr)")
        let exported = try JSONOutput.object(export)
        JSONOutput.expectKeys(exported, required: ["folder", "pairs", "files"], "export --json")
        #expect(exported["pairs"] as? Int == 2)
        #expect((exported["files"] as? [String])?.contains("manifest.json") == true)

        let process = try await CommandLine.run(["process", "--dataset", ds, "--no-model", "--json"], environment: env)
        #expect(process.status == 0, "\(process.stderr)")
        let processed = try JSONOutput.object(process)
        JSONOutput.expectKeys(processed, required: ["dataset", "pairs", "verdicts", "failures", "waitingCaptures",
                                                    "interrupted", "seconds"], "process --json")
        #expect((processed["pairs"] as? [Any])?.isEmpty == true)

        // `align` on the same originals says the verdict as the catalogue spells it: `dataset list` takes it.
        let align = try await CommandLine.run(["align", original("source"), original("target"), "--rig", rig.rigFile.path,
                                               "--out", dir.appendingPathComponent("aligned").path], environment: env)
        #expect(align.status == 0, "\(align.stdout)\(align.stderr)")
        let verdict = String(align.stdout.prefix { $0 != ":" })
        #expect(verdict == "accepted", "\(align.stdout)")
        let filtered = try await CommandLine.run(["dataset", "list", "--dataset", ds, "--verdict", verdict, "--json"], environment: env)
        #expect(filtered.status == 0, "\(filtered.stderr)")
        #expect(try JSONOutput.array(filtered).count == 2)
    }

    /// `dataset show` as a person reads it: a few decimals, the shutter as 1/500, the homography as a 3x3 block.
    @Test func datasetShowIsReadable() async throws {
        let rigctl = CommandLine.executable.path
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let rig = try await startVirtualRig(rigctl, in: dir, arguments: ["--width", "320", "--height", "240"])
        defer { if rig.server.isRunning { rig.server.terminate() } }
        try #require(FileManager.default.fileExists(atPath: rig.rigFile.path), "virtual-rig wrote no rig file: \(rig.logText)")
        let env = ["HOME": rig.home.path]
        let ds = dir.appendingPathComponent("ds").path
        #expect(try await CommandLine.run(["dataset", "init", ds], environment: env).status == 0)
        let capture = try await CommandLine.run(["capture", "--rig", rig.rigFile.path, "--dataset", ds, "--scene", "desk",
                                                 "--count", "1", "--no-model"], environment: env)
        #expect(capture.status == 0, "\(capture.stderr)")

        let show = try await CommandLine.run(["dataset", "show", "1", "--dataset", ds], environment: env)
        #expect(show.status == 0, "\(show.stderr)")
        let lines = show.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasSuffix(": desk-1") == true, "\(show.stdout)")
        // The virtual rig's shallow camera is set to 1/500 s, its deep one to 1/125 s.
        #expect(show.stdout.contains(", 1/500 s,") && show.stdout.contains(", 1/125 s,"), "\(show.stdout)")
        #expect(show.stdout.contains(" f/2, ") && show.stdout.contains(" f/16, "), "\(show.stdout)")
        // No number with more than 6 significant digits anywhere (scores 2-4 decimals, the homography 6 digits).
        let decimal = try Regex(#"[0-9]+\.[0-9]+"#)
        for match in show.stdout.matches(of: decimal) {
            let digits = show.stdout[match.range].filter(\.isNumber).drop { $0 == "0" }
            #expect(digits.count <= 6, "\(show.stdout[match.range]) in \(show.stdout)")
        }
        let psnr = try Regex(#"^model input: PSNR [0-9]+\.[0-9]{2} dB, SSIM [0-9]\.[0-9]{4}, SSIM \(Gaussian\) [0-9]\.[0-9]{4}, MAE [0-9]\.[0-9]{4}"#)
        #expect(lines.contains { $0.firstMatch(of: psnr) != nil }, "\(show.stdout)")
        let h = try #require(lines.firstIndex(of: "homography (source -> target):"), "\(show.stdout)")
        let row = try Regex(#"^  \[ +-?[0-9.e+-]+ +-?[0-9.e+-]+ +-?[0-9.e+-]+ \]$"#)
        #expect(lines.count > h + 3 && lines[(h + 1)...(h + 3)].allSatisfy { $0.firstMatch(of: row) != nil }, "\(show.stdout)")
    }

    /// `import`, `export` and `dataset verify` with `--json` on a folder of pairs, and `model list --json`.
    @Test func importVerifyAndModelListWithJSON() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let set = dir.appendingPathComponent("set")
        for (i, name) in ["a", "b"].enumerated() {
            for (j, side) in ["source", "target"].enumerated() {
                try FileManager.default.createDirectory(at: set.appendingPathComponent(side), withIntermediateDirectories: true)
                try PNGFile.write(texturedImage(seed: UInt64(i * 2 + j), width: 48, height: 32),
                                  to: set.appendingPathComponent("\(side)/\(name).png"))
            }
        }
        try PNGFile.write(texturedImage(seed: 9, width: 48, height: 32), to: set.appendingPathComponent("target/c.png"))
        let ds = dir.appendingPathComponent("ds").path
        let env = ["RIGCTL_HOME": dir.appendingPathComponent("home").path]
        #expect(try await CommandLine.run(["dataset", "init", ds], environment: env).status == 0)
        let imported = try await CommandLine.run(["import", set.path, "--layout", "realdof", "--dataset", ds, "--json"], environment: env)
        #expect(imported.status == 0, "\(imported.stderr)")
        let report = try JSONOutput.object(imported)
        JSONOutput.expectKeys(report, required: ["dataset", "added", "alreadyPresent", "mismatches", "refused", "skipped", "fromManifest"],
                              optional: ["manifestNote"], "import --json")
        #expect(report["fromManifest"] as? Int == 0, "a plain set, no manifest")
        #expect(report["added"] as? [String] == ["a", "b"] && (report["mismatches"] as? [String])?.count == 1, "\(report)")

        let pair = try JSONOutput.object(try await CommandLine.run(["dataset", "show", "1", "--dataset", ds, "--json"], environment: env))
        let target = try #require((pair["target"] as? [String: Any])?["path"] as? String)
        try FileManager.default.removeItem(atPath: ds + "/" + target)
        let verify = try await CommandLine.run(["dataset", "verify", "--dataset", ds, "--json"], environment: env)
        #expect(verify.status == 1, "not consistent: status 1, with the JSON")
        let checked = try JSONOutput.object(verify)
        #expect(checked["consistent"] as? Bool == false && checked["missing"] as? [String] == [target], "\(checked)")

        let empty = try await CommandLine.run(["model", "list", "--json"], environment: env)
        #expect(empty.status == 0, "\(empty.stderr)")
        let store = try JSONOutput.object(empty)
        JSONOutput.expectKeys(store, required: ["directory", "models"], "model list --json")
        #expect((store["models"] as? [Any])?.isEmpty == true)
        #expect(try await CommandLine.run(["model", "import", fixture("ifan-random/IFAN_random.pytorch").path, "--name", "ifan"],
                                          environment: env).status == 0)
        let listed = try JSONOutput.object(try await CommandLine.run(["model", "list", "--json"], environment: env))
        let models = try #require(listed["models"] as? [[String: Any]])
        #expect(models.map { $0["name"] as? String } == ["ifan"])
        JSONOutput.expectKeys(models.first, required: ["name", "path", "bytes", "kind"], "model list --json model")
        #expect(models.first?["kind"] as? String == "deblurring")
        #expect((models.first?["bytes"] as? Int ?? 0) > 1_000_000)
    }
}
