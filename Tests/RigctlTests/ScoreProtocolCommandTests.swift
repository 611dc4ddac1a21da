import TestSupport
import Foundation
import Imaging
import Testing

/// A small dataset of two imported pairs whose size is not a multiple of 8 (so crop-8 and whole-image scores
/// differ), an imported random-weights IFAN, and the environment that keeps the user's own model stores out.
struct ScoringFixture {
    let root: URL
    let dataset: String
    let env: [String: String]

    init() async throws {
        root = try makeTemporaryDirectory()
        dataset = root.appendingPathComponent("ds").path
        // HOME too: LPIPS weights are also looked for in the per-user store, which must not leak in here.
        env = ["RIGCTL_HOME": root.appendingPathComponent("home").path, "HOME": root.appendingPathComponent("user").path]
        let input = try ImageFile.read(fixture("ifan-random/input.png"))
        for (i, name) in ["a", "b"].enumerated() {
            for folder in ["source", "target"] {
                try FileManager.default.createDirectory(at: root.appendingPathComponent("set/\(folder)"), withIntermediateDirectories: true)
                // The target a pixel off the source: finite, different scores for every method.
                let shift = folder == "target" ? 1 : 0
                let image = input.cropped(x: i * 4 + shift, y: i * 3 + shift, width: 61, height: 45)
                try PNGFile.write(image, to: root.appendingPathComponent("set/\(folder)/\(name).png"))
            }
        }
        for command in [["dataset", "init", dataset],
                        ["import", root.appendingPathComponent("set").path, "--layout", "realdof", "--dataset", dataset],
                        ["model", "import", fixture("ifan-random/IFAN_random.pytorch").path, "--name", "ifan-test"]] {
            let r = try await CommandLine.run(command, environment: env)
            guard r.status == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: ["command": command, "stderr": r.stderr]) }
        }
    }

    func run(_ arguments: [String]) async throws -> CommandLine.Result { try await CommandLine.run(arguments, environment: env) }

    func outputs() -> [String] {
        let folder = URL(fileURLWithPath: dataset).appendingPathComponent("outputs")
        guard let e = FileManager.default.enumerator(atPath: folder.path) else { return [] }
        return e.compactMap { $0 as? String }.filter { $0.hasSuffix(".png") }.sorted()
    }
}

@Suite(.serialized) struct ScoreProtocolCommandTests {
    /// Issue 12, item 1: `evaluate --dataset` after the pipeline scored the pairs keeps the pipeline's whole-image
    /// rows and outputs, adds crop-8 rows from the stored outputs without running the model, says which protocol
    /// its table shows; `--rerun` runs the model again and still deletes nothing.
    @Test func evaluateReusesStoredOutputsAndAddsRows() async throws {
        let f = try await ScoringFixture()
        defer { try? FileManager.default.removeItem(at: f.root) }
        let processed = try await f.run(["process", "--dataset", f.dataset, "--model", "ifan-test"])
        #expect(processed.status == 0, "\(processed.stderr)")
        let outputs = f.outputs()
        #expect(outputs.count == 2, "the pipeline keeps each pair's output")
        let before = try await f.run(["dataset", "show", "1", "--dataset", f.dataset])
        #expect(before.stdout.contains("protocol: whole image, 8-bit"), "\(before.stdout)")

        let evaluated = try await f.run(["evaluate", "--dataset", f.dataset, "--model", "ifan-test", "--format", "markdown"])
        #expect(evaluated.status == 0, "\(evaluated.stderr)")
        #expect(evaluated.stderr.contains("ifan-test: 2 stored output(s) reused"), "\(evaluated.stderr)")
        #expect(!evaluated.stderr.split(separator: "\n").contains { $0.hasPrefix("rigctl: ifan-test:") && $0.contains("scored anew") },
                "\(evaluated.stderr)")
        #expect(evaluated.stdout.contains("Protocol: ifan (cropped to multiples of 8, 8-bit"), "\(evaluated.stdout)")
        #expect(f.outputs() == outputs, "no output deleted")
        let shown = try await f.run(["dataset", "show", "1", "--dataset", f.dataset])
        let modelRows = shown.stdout.split(separator: "\n").filter { $0.hasPrefix("model ifan-test:") }
        #expect(modelRows.count == 2, "\(shown.stdout)")
        #expect(shown.stdout.contains("protocol: whole image, 8-bit") && shown.stdout.contains("protocol: cropped to multiples of 8, 8-bit"))
        #expect(shown.stdout.contains("lpips missing: LPIPS weights not installed"), "\(shown.stdout)")

        // Two protocols at once: one CSV list, the protocol a column; DPDD's whole-image rows are the ones the
        // pipeline recorded, so nothing runs or is scored again.
        let both = try await f.run(["evaluate", "--dataset", f.dataset, "--model", "ifan-test", "--protocol", "ifan,dpdd", "--format", "csv"])
        #expect(both.status == 0, "\(both.stderr)")
        let csvRows = both.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        #expect(csvRows.map { "\($0[0]) \($0[10])" } == ["Input ifan", "ifan-test ifan", "Input dpdd", "ifan-test dpdd"], "\(both.stdout)")
        #expect(both.stderr.contains("dpdd: ifan-test: 2 already scored") && both.stderr.contains("ifan: ifan-test: 2 already scored"),
                "\(both.stderr)")
        let markdown = try await f.run(["evaluate", "--dataset", f.dataset, "--model", "ifan-test", "--protocol", "dpdd,ifan", "--format", "markdown"])
        #expect(markdown.stdout.components(separatedBy: "| Model |").count == 3, "one table per protocol: \(markdown.stdout)")
        #expect(markdown.stdout.contains("Protocol: dpdd (whole image, 8-bit") && markdown.stdout.contains("Protocol: ifan (cropped"))
        let refused = try await f.run(["evaluate", "--dataset", f.dataset, "--protocol", "ifan,realdof"])
        #expect(refused.status == 64 && refused.stderr.contains("no evaluation protocol 'realdof' (known: ifan, dpdd, realblur, basicsr-y, pyiqa-y, pyiqa-y-downsample)"), "\(refused.stderr)")

        let again = try await f.run(["evaluate", "--dataset", f.dataset, "--model", "ifan-test", "--rerun", "--format", "csv"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stderr.contains("ifan-test: 2 scored anew"), "\(again.stderr)")
        #expect(again.stdout.contains("cropped to multiples of 8"))
        #expect(Set(f.outputs()).isSuperset(of: outputs), "a re-run keeps the earlier outputs")
        let after = try await f.run(["dataset", "show", "1", "--dataset", f.dataset])
        #expect(after.stdout.split(separator: "\n").filter { $0.hasPrefix("model ifan-test:") }.count == 2)
        #expect(try await f.run(["dataset", "verify", "--dataset", f.dataset]).status == 0)
    }

    /// Issue 12, item 5: with RIGCTL_HOME set, LPIPS weights installed in the per-user store are found; `process`
    /// then completes the LPIPS scores it left out before and says why they were missing.
    @Test func processCompletesLPIPSAfterInstallAndRIGCTLHomeDoesNotHideIt() async throws {
        let f = try await ScoringFixture()
        defer { try? FileManager.default.removeItem(at: f.root) }
        let first = try await f.run(["process", "--dataset", f.dataset, "--model", "ifan-test"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("2 pair(s) processed"))
        #expect(first.stdout.contains("lpips missing: LPIPS weights not installed (2 pair(s))"), "\(first.stdout)")

        // Installed once per user, as script/fetch-lpips-weights does without RIGCTL_HOME.
        let perUser = f.env.merging(["RIGCTL_HOME": ""]) { $1 }
        let installed = try await CommandLine.run(["lpips", "install", "--lin", fixture("metrics/lpips_v0.1_alex_lin.pth").path,
                                                   "--backbone", fixture("metrics/alexnet_random_features.pth").path],
                                                  environment: perUser)
        #expect(installed.status == 0, "\(installed.stderr)")
        #expect(installed.stdout.contains(f.root.appendingPathComponent("user/.local/share/rigctl/models").path), "\(installed.stdout)")

        let second = try await f.run(["process", "--dataset", f.dataset, "--model", "ifan-test"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("2 pair(s) processed"), "\(second.stdout)")
        #expect(!second.stdout.contains("missing"))
        let shown = try await f.run(["dataset", "show", "1", "--dataset", f.dataset])
        let rows = shown.stdout.split(separator: "\n").filter { $0.hasPrefix("model ") }
        #expect(rows.count == 2 && rows.allSatisfy { $0.contains("LPIPS") }, "\(shown.stdout)")
        #expect(!shown.stdout.contains("missing"))
        let third = try await f.run(["process", "--dataset", f.dataset, "--model", "ifan-test"])
        #expect(third.stdout.contains("0 pair(s) processed"), "nothing left")
    }

    /// Issue 25: `dataset protocols` configures what `process` scores in; each pair then has a row per protocol,
    /// the JSON names them, and `evaluate --dataset --protocol` in each finds them recorded.
    @Test func processScoresInTheDatasetsProtocols() async throws {
        let f = try await ScoringFixture()
        defer { try? FileManager.default.removeItem(at: f.root) }
        let shown = try await f.run(["dataset", "protocols", "--dataset", f.dataset])
        #expect(shown.status == 0)
        #expect(shown.stdout.contains("scoring protocols: dpdd (the default)"), "\(shown.stdout)\(shown.stderr)")
        let unknown = try await f.run(["dataset", "protocols", "ifan", "bogus", "--dataset", f.dataset])
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("no evaluation protocol 'bogus'"), "\(unknown.stderr)")
        let set = try await f.run(["dataset", "protocols", "ifan,realblur", "--dataset", f.dataset])
        #expect(set.stdout.contains("scoring protocols: ifan, realblur"), "\(set.stdout)\(set.stderr)")

        // Without a model first: the input under each protocol (RealBlur's scores it unaligned, as its script does).
        let processed = try await f.run(["process", "--dataset", f.dataset, "--no-model", "--json"])
        #expect(processed.status == 0, "\(processed.stderr)")
        #expect(processed.stderr.contains("· realblur: input "), "\(processed.stderr)")
        let run = try #require(try JSONSerialization.jsonObject(with: Data(processed.stdout.utf8)) as? [String: Any])
        let pairs = try #require(run["pairs"] as? [[String: Any]])
        #expect(pairs.count == 2)
        for pair in pairs {
            let first: String? = pair["protocol"] as? String
            #expect(first == "ifan")
            let protocols = try #require(pair["protocols"] as? [[String: Any]])
            let names: [String] = protocols.compactMap { $0["protocol"] as? String }
            #expect(names == ["ifan", "realblur"])
            let inputs = protocols.filter { $0["input"] is [String: Any] }.count
            let models = protocols.filter { $0["deblurred"] != nil }.count
            #expect(inputs == 2)
            #expect(models == 0)
        }
        for named in ["ifan", "realblur"] {
            let evaluated = try await f.run(["evaluate", "--dataset", f.dataset, "--protocol", named])
            #expect(evaluated.status == 0)
            #expect(evaluated.stderr.contains("Input: 2 already scored"), "\(named): \(evaluated.stderr)")
        }

        // The random-weights network's output has no structure for RealBlur's ECC to fit (the official script
        // stops there too): the pair fails, naming the protocol, and the IFAN rows before it are kept.
        let model = try await f.run(["process", "--dataset", f.dataset, "--model", "ifan-test"])
        #expect(model.status == 1, "\(model.stdout)\(model.stderr)")
        #expect((model.stdout + model.stderr).contains("aligning ifan-test's output onto the target (realblur protocol)"), "\(model.stdout)")
        #expect(f.outputs().count == 2, "one output per pair, kept with its IFAN row")
        let ifan = try await f.run(["evaluate", "--dataset", f.dataset, "--model", "ifan-test", "--protocol", "ifan"])
        #expect(ifan.status == 0)
        #expect(ifan.stderr.contains("ifan-test: 2 already scored"), "\(ifan.stderr)")
    }
}
