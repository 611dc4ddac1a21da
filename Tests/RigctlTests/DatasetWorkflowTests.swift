import Foundation
import Imaging
import TestSupport
import Testing

/// The dataset workflow as a new user meets it: which command may create a dataset, which pairs an export or an
/// evaluation takes, and how models are named.
@Suite struct DatasetWorkflowTests {
    /// A rig file whose cameras are on loopback ports where nothing listens, so a command that reaches a camera
    /// fails there (and says "camera").
    func deadRigFile(in dir: URL) throws -> URL {
        let template = try String(contentsOf: packageRoot().appendingPathComponent("calibration/virtual.rig.json"), encoding: .utf8)
        let text = template.replacingOccurrences(of: "15740:15741", with: "1:2").replacingOccurrences(of: "15742:15743", with: "3:4")
        let url = dir.appendingPathComponent("dead.rig.json")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func texture(_ seed: Int, width: Int = 64, height: Int = 48) -> RGBImage {
        var image = RGBImage(width: width, height: height)
        for y in 0..<height { for x in 0..<width { for c in 0..<3 {
            image[c, x, y] = Float((x * 7 + y * 13 + c * 29 + seed * 31) % 64) / 63
        } } }
        return image
    }

    /// `DIR/NAME/source.png` and `DIR/NAME/target.png` for each name: the `pairs` import layout.
    func pairFolder(_ dir: URL, names: [String], seed: Int = 0) throws -> URL {
        for (n, name) in names.enumerated() {
            let i = n + seed
            let folder = dir.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try PNGFile.write(texture(i * 2 + 1), to: folder.appendingPathComponent("source.png"))
            try PNGFile.write(texture(i * 2 + 2), to: folder.appendingPathComponent("target.png"))
        }
        return dir
    }

    // MARK: - Item 6: a dataset is created only by `dataset init` or an explicit --init

    @Test func captureAndImportNeverCreateADatasetUnasked() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let rig = try deadRigFile(in: dir)
        let home = ["RIGCTL_HOME": dir.appendingPathComponent("home").path]
        let ds = dir.appendingPathComponent("new-ds")
        let capture = try await CommandLine.run(["capture", "--rig", rig.path, "--dataset", ds.path, "--scene", "desk", "--no-model"],
                                                environment: home)
        #expect(capture.status == 2, "\(capture.stderr)")
        #expect(capture.stderr.contains("rigctl dataset init") && capture.stderr.contains("--init"), "\(capture.stderr)")
        #expect(!capture.stderr.contains("camera"), "a camera was contacted: \(capture.stderr)")
        #expect(!FileManager.default.fileExists(atPath: ds.path))

        // Without --dataset (and no $RIGCTL_DATASET) the current folder is not turned into a dataset either.
        let plain = dir.appendingPathComponent("plain")
        try FileManager.default.createDirectory(at: plain, withIntermediateDirectories: true)
        var env = home
        env["RIGCTL_DATASET"] = ""
        let here = try await CommandLine.run(["capture", "--rig", rig.path, "--scene", "desk", "--no-model"], environment: env, in: plain)
        #expect(here.status == 2, "\(here.stderr)")
        #expect(here.stderr.contains("rigctl dataset init"), "\(here.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: plain.path).isEmpty)

        // --init asks for it: the dataset is made before the cameras are contacted (which then fail).
        let made = try await CommandLine.run(["capture", "--rig", rig.path, "--dataset", ds.path, "--scene", "desk", "--no-model",
                                              "--init"], environment: home)
        #expect(made.status != 0 && made.stderr.contains("camera"), "\(made.stderr)")
        #expect(FileManager.default.fileExists(atPath: ds.appendingPathComponent("catalog.sqlite").path))
        #expect(try await CommandLine.run(["capture", "--rig", rig.path, "--out", dir.path, "--init"], environment: home).status == 64,
                "--init has no meaning with --out")

        // import: the same rule, the same option.
        let set = try pairFolder(dir.appendingPathComponent("set"), names: ["a"])
        let other = dir.appendingPathComponent("other-ds")
        let refused = try await CommandLine.run(["import", set.path, "--layout", "pairs", "--dataset", other.path], environment: home)
        #expect(refused.status == 2 && refused.stderr.contains("--init"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: other.path))
        let imported = try await CommandLine.run(["import", set.path, "--layout", "pairs", "--dataset", other.path, "--init"],
                                                 environment: home)
        #expect(imported.status == 0 && imported.stdout.contains("imported 1 pairs"), "\(imported.stderr)")
        // --init on an existing dataset uses it.
        let again = try await CommandLine.run(["import", set.path, "--layout", "pairs", "--dataset", other.path, "--init"],
                                              environment: home)
        #expect(again.status == 0 && again.stdout.contains("1 already present"), "\(again.stderr)")
    }

    // MARK: - Item 3: which pairs export and evaluate take

    @Test func anEmptyExportOrEvaluationSaysWhyAndAllMeansEveryExportablePair() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let home = ["RIGCTL_HOME": dir.appendingPathComponent("home").path]
        let ds = dir.appendingPathComponent("ds").path
        #expect(try await CommandLine.run(["dataset", "init", ds], environment: home).status == 0)
        let unsplit = try pairFolder(dir.appendingPathComponent("unsplit"), names: ["a", "b", "c"])
        let imported = try await CommandLine.run(["import", unsplit.path, "--layout", "pairs", "--dataset", ds, "--split", "unused"],
                                                 environment: home)
        #expect(imported.status == 0, "\(imported.stderr)")

        // The test split is empty: the export says why and writes nothing.
        let out = dir.appendingPathComponent("testset")
        let empty = try await CommandLine.run(["export", "--dataset", ds, "--out", out.path], environment: home)
        #expect(empty.status == 2, "\(empty.stdout) \(empty.stderr)")
        #expect(empty.stderr.contains("3 accepted pairs have no split yet"), "\(empty.stderr)")
        #expect(empty.stderr.contains("rigctl dataset split") && empty.stderr.contains("--split unused"), "\(empty.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.path))

        // --split all: every exportable pair, whatever its split; the manifest says each pair's split.
        let all = try await CommandLine.run(["export", "--dataset", ds, "--out", out.path, "--split", "all"], environment: home)
        #expect(all.status == 0 && all.stdout.contains("exported 3 pairs"), "\(all.stdout) \(all.stderr)")
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("manifest.json")))
                                    as? [String: Any])
        let pairs = try #require(manifest["pairs"] as? [[String: Any]])
        #expect(pairs.count == 3 && pairs.allSatisfy { $0["split"] as? String == "unused" }, "\(pairs)")
        let csv = try String(contentsOf: out.appendingPathComponent("manifest.csv"), encoding: .utf8)
        #expect(csv.split(separator: "\n").first?.split(separator: ",").contains("split") == true, "\(csv)")

        // evaluate defaults to the test split, says so, and refuses an empty one the same way.
        let help = try await CommandLine.run(["evaluate", "--help"], environment: home)
        #expect(help.stdout.contains("Default: test"), "\(help.stdout)")
        let noTest = try await CommandLine.run(["evaluate", "--dataset", ds, "--format", "csv"], environment: home)
        #expect(noTest.status == 2, "\(noTest.stdout) \(noTest.stderr)")
        #expect(noTest.stderr.contains("3 accepted pairs have no split yet"), "\(noTest.stderr)")
        #expect(noTest.stdout.isEmpty)

        // One more pair in the test split (its own scene): evaluate takes it alone, not the unsplit ones.
        let test = try pairFolder(dir.appendingPathComponent("test"), names: ["z"], seed: 10)
        #expect(try await CommandLine.run(["import", test.path, "--layout", "pairs", "--dataset", ds, "--scene", "zeta"],
                                          environment: home).status == 0)
        let evaluated = try await CommandLine.run(["evaluate", "--dataset", ds, "--format", "csv"], environment: home)
        #expect(evaluated.status == 0, "\(evaluated.stderr)")
        #expect(evaluated.stdout.contains("Input,1,"), "\(evaluated.stdout)")
        // The report's header names the dataset and the split; the per-pair table gives each pair's scene and split.
        let report = dir.appendingPathComponent("report")
        let reported = try await CommandLine.run(["evaluate", "--dataset", ds, "--format", "csv", "--report", report.path], environment: home)
        #expect(reported.status == 0, "\(reported.stderr)")
        let html = try String(contentsOf: report.appendingPathComponent("index.html"), encoding: .utf8)
        let datasetName = URL(fileURLWithPath: ds).lastPathComponent
        #expect(html.contains("<dt>Dataset</dt><dd>\(datasetName)</dd>") && html.contains("<dt>Split</dt><dd>test</dd>"))
        #expect(html.contains("<small>zeta · test</small>"), "the pair's scene and split")
        let everything = try await CommandLine.run(["evaluate", "--dataset", ds, "--split", "all", "--format", "csv"], environment: home)
        #expect(everything.status == 0 && everything.stdout.contains("Input,4,"), "\(everything.stdout) \(everything.stderr)")
        // The train split is empty and says where the pairs are.
        let train = try await CommandLine.run(["export", "--dataset", ds, "--out", out.path, "--split", "train"], environment: home)
        #expect(train.status == 2 && train.stderr.contains("1 is in the test split"), "\(train.stderr)")
    }

    // MARK: - Item 4: model names

    /// Two different weight files both called ifan.safetensors: the second is refused before any work, and
    /// --model-name names it.
    @Test func aModelNameClashIsFoundBeforeAnyWork() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let home = ["RIGCTL_HOME": dir.appendingPathComponent("home").path]
        // The same released checkpoint under two file names: the weights file records its source's name, so the
        // two imports differ byte for byte while both are called ifan.safetensors.
        let copy = dir.appendingPathComponent("IFAN_copy.pytorch")
        try FileManager.default.copyItem(at: fixture("ifan-random/IFAN_random.pytorch"), to: copy)
        let a = dir.appendingPathComponent("a/ifan.safetensors"), b = dir.appendingPathComponent("b/ifan.safetensors")
        try FileManager.default.createDirectory(at: a.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: b.deletingLastPathComponent(), withIntermediateDirectories: true)
        #expect(try await CommandLine.run(["model", "import", fixture("ifan-random/IFAN_random.pytorch").path, "-o", a.path],
                                          environment: home).status == 0)
        #expect(try await CommandLine.run(["model", "import", copy.path, "-o", b.path], environment: home).status == 0)
        try #require(try Data(contentsOf: a) != Data(contentsOf: b))

        let ds = dir.appendingPathComponent("ds").path
        #expect(try await CommandLine.run(["dataset", "init", ds], environment: home).status == 0)
        let set = try pairFolder(dir.appendingPathComponent("set"), names: ["p"])
        #expect(try await CommandLine.run(["import", set.path, "--layout", "pairs", "--dataset", ds], environment: home).status == 0)
        let first = try await CommandLine.run(["evaluate", "--dataset", ds, "--model", a.path, "--format", "csv"], environment: home)
        #expect(first.status == 0 && first.stdout.contains("ifan,1,"), "\(first.stdout) \(first.stderr)")

        // evaluate: refused before the table is computed, with the way out.
        let clash = try await CommandLine.run(["evaluate", "--dataset", ds, "--model", b.path, "--format", "csv"], environment: home)
        #expect(clash.status == 2, "\(clash.stdout) \(clash.stderr)")
        #expect(clash.stderr.contains("model ifan") && clash.stderr.contains("--model-name"), "\(clash.stderr)")
        #expect(clash.stdout.isEmpty, "the evaluation ran before the clash was found: \(clash.stdout)")
        // Two --model options that would get the same name are refused too, in a folder evaluation as well.
        let twice = try await CommandLine.run(["evaluate", dir.appendingPathComponent("set-none").path, "--model", a.path,
                                               "--model", b.path], environment: home)
        #expect(twice.status == 64 && twice.stderr.contains("--model-name"), "\(twice.stderr)")

        // --model-name names it; the catalogue keeps both.
        let named = try await CommandLine.run(["evaluate", "--dataset", ds, "--model", b.path, "--model-name", "ifan-b",
                                               "--format", "csv"], environment: home)
        #expect(named.status == 0 && named.stdout.contains("ifan-b,1,"), "\(named.stdout) \(named.stderr)")
        let show = try await CommandLine.run(["dataset", "show", "1", "--dataset", ds, "--json"], environment: home)
        #expect(show.stdout.contains("\"ifan-b\"") && show.stdout.contains("\"ifan\""), "\(show.stdout)")

        // process and capture check the name before any pair is touched (capture: before any camera).
        let process = try await CommandLine.run(["process", "--dataset", ds, "--model", b.path], environment: home)
        #expect(process.status == 2 && process.stderr.contains("--model-name"), "\(process.stdout) \(process.stderr)")
        let rig = try deadRigFile(in: dir)
        let capture = try await CommandLine.run(["capture", "--rig", rig.path, "--dataset", ds, "--scene", "desk", "--model", b.path],
                                                environment: home)
        #expect(capture.status == 2 && capture.stderr.contains("--model-name"), "\(capture.stderr)")
        #expect(!capture.stderr.contains("camera"), "a camera was contacted: \(capture.stderr)")
        let renamed = try await CommandLine.run(["process", "--dataset", ds, "--model", b.path, "--model-name", "ifan-b"],
                                                environment: home)
        #expect(renamed.status == 0, "\(renamed.stdout) \(renamed.stderr)")
    }
}
