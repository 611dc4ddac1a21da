import Foundation
import TestSupport
import Testing

/// A lab's session as separate `rigctl` processes against a virtual Canon + Nikon rig, following docs/rig.md:
/// detect, init, check, live view, two scenes (the second after a restart that renders the same frames again),
/// process, review decisions over HTTP, split, export, import into a second dataset and evaluate there with an
/// imported model. It asserts the facts at each seam, not only exit statuses.
@Suite(.serialized) struct LabSessionTests {
    static func object(_ result: CommandLine.Result) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)")
    }

    @Test func fromRigInitToExportAndBack() async throws {
        let rigctl = CommandLine.executable.path
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let vendors = ["--width", "640", "--height", "400", "--vendor", "shallow=canon", "--vendor", "deep=nikon"]
        var rig = try await startVirtualRig(rigctl, in: dir.appendingPathComponent("v1"), arguments: vendors)
        defer { if rig.server.isRunning { rig.server.terminate() } }
        try #require(FileManager.default.fileExists(atPath: rig.rigFile.path), "\(rig.logText)")
        let env = ["HOME": rig.home.path, "RIGCTL_HOME": dir.appendingPathComponent("rigctl-home").path]
        func run(_ arguments: [String]) async throws -> CommandLine.Result { try await CommandLine.run(arguments, environment: env) }
        let ports = ["ptpip:127.0.0.1:\(rig.port):\(rig.port + 1)", "ptpip:127.0.0.1:\(rig.port + 2):\(rig.port + 3)"]

        // 1. Detect and init: the starter file knows the splitter's mirror.
        let detect = try await run(["rig", "detect", "--json", "--port", ports[0], "--port", ports[1]])
        #expect(detect.status == 0 && detect.stdout.contains("VC-SHALLOW-0001") && detect.stdout.contains("VC-DEEP-0002"), "\(detect.stdout)")
        let bench = dir.appendingPathComponent("bench.rig.json").path
        let initialised = try await run(["rig", "init", "--port", ports[0], "--port", ports[1], "--shallow", "VC-SHALLOW-0001",
                                         "--deep", "VC-DEEP-0002", "-o", bench])
        #expect(initialised.status == 0 && initialised.stdout.contains("wrote alignment.mirror horizontal"), "\(initialised.stdout) \(initialised.stderr)")
        // 2. Check (applying the file's settings) and live view: the deep camera's known offset, within 1 px.
        let check = try await run(["rig", "check", "--rig", bench, "--apply"])
        #expect(check.status == 0, "\(check.stdout) \(check.stderr)")
        let lv = dir.appendingPathComponent("lv")
        let live = try await run(["rig", "liveview", "--rig", bench, "--frames", "1", "--out", lv.path])
        #expect(live.status == 0, "\(live.stderr)")
        let frames = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: lv.appendingPathComponent("liveview.json"))) as? [[String: Any]])
        let shift = (frames.first?["shiftX"] as? Double ?? 99, frames.first?["shiftY"] as? Double ?? 99)
        #expect(abs(shift.0 - 3.5) < 1 && abs(shift.1 + 2.25) < 1, "\(shift)")

        // 3. Two scenes; the rig restarted between them renders the same frames again.
        let ds = dir.appendingPathComponent("ds").path
        let first = try await run(["capture", "--rig", bench, "--dataset", ds, "--init", "--scene", "desk", "--count", "2"])
        #expect(first.status == 0, "\(first.stdout) \(first.stderr)")
        await rig.stop()
        rig = try await startVirtualRig(rigctl, in: dir.appendingPathComponent("v2"), arguments: vendors, port: rig.port)
        let second = try await run(["capture", "--rig", bench, "--dataset", ds, "--scene", "shelf", "--count", "2"])
        #expect(second.status == 0, "\(second.stdout) \(second.stderr)")
        #expect(second.stdout.contains("[shelf]") && !second.stdout.contains("[desk]"), "\(second.stdout)")
        let processed = try await run(["process", "--dataset", ds])
        #expect(processed.status == 0 && !processed.stdout.contains("still waiting"), "\(processed.stdout)")
        let status = try Self.object(try await run(["dataset", "status", "--dataset", ds, "--json"]))
        #expect(status["captures"] as? Int == 4 && status["pairs"] as? Int == 4 && status["scenes"] as? Int == 2, "\(status)")
        let byScene = (status["byScene"] as? [[String: Any]] ?? []).map { "\($0["scene"] ?? "")=\($0["pairs"] ?? "")" }
        #expect(byScene.sorted() == ["desk=2", "shelf=2"], "\(byScene)")
        let list = try #require(try JSONSerialization.jsonObject(with: Data(try await run(["dataset", "list", "--dataset", ds, "--json"]).stdout.utf8)) as? [[String: Any]])
        let shelf = list.filter { $0["scene"] as? String == "shelf" }
        // The repeated frames are kept as pairs of their own, each flagged for a person.
        for pair in shelf {
            let id = try #require(pair["id"] as? Int)
            let shown = try Self.object(try await run(["dataset", "show", "\(id)", "--dataset", ds, "--json"]))
            #expect(shown["verdict"] as? String == "review", "\(shown["verdict"] ?? "")")
            #expect((shown["reasons"] as? [String] ?? []).contains { $0.contains("identical images to pair") }, "\(shown["reasons"] ?? "")")
        }

        // 4. A person approves the flagged pairs in the browser's API.
        let server = try await ReviewServerProcess.start(rigctl: CommandLine.executable, ["--dataset", ds, "--decisions"], environment: env)
        for pair in shelf {
            let id = try #require(pair["id"] as? Int)
            let body = Data(#"{"state": "approved", "note": "same frames as the desk, kept on purpose"}"#.utf8)
            let reply = try await HTTPClient.send(method: "POST", port: server.port, path: "/api/pairs/\(id)/review",
                                                  host: "127.0.0.1:\(server.port)",
                                                  headers: ["Content-Type": "application/json"], body: body)
            #expect(reply.status == 200, "\(reply.status)")
        }
        await server.stop()

        // 5. Split (approved pairs are usable now): "desk" and "shelf" hash to 0.22 and 0.79 with the default seed.
        let split = try await run(["dataset", "split", "--dataset", ds, "--test-fraction", "0.8"])
        #expect(split.status == 0 && split.stdout.contains("test: 2 scenes, train: 0 scenes"), "\(split.stdout) \(split.stderr)")

        // 6. Export the test split, import it into a second dataset: scene, split and verdicts kept.
        let exported = dir.appendingPathComponent("export")
        let export = try await run(["export", "--dataset", ds, "--out", exported.path, "--json"])
        #expect(export.status == 0, "\(export.stdout) \(export.stderr)")
        let written = try Self.object(export)
        #expect(written["pairs"] as? Int == 4, "\(written)")
        let ds2 = dir.appendingPathComponent("ds2").path
        let imported = try Self.object(try await run(["import", exported.path, "--layout", "realdof", "--dataset", ds2, "--init", "--json"]))
        #expect(imported["fromManifest"] as? Int == 4, "\(imported)")
        let status2 = try Self.object(try await run(["dataset", "status", "--dataset", ds2, "--json"]))
        #expect((status2["byScene"] as? [[String: Any]])?.compactMap { $0["scene"] as? String }.sorted() == ["desk", "shelf"], "\(status2)")
        #expect((status2["bySplit"] as? [String: Int]) == ["test": 4], "\(status2)")
        let again = dir.appendingPathComponent("again")
        #expect(try await run(["export", "--dataset", ds2, "--out", again.path]).status == 0)
        // Every file but the mark that names the dataset is the same: images, manifest (cameras included), datasheet;
        // SHA256SUMS leaves the mark out, so it is the same too.
        func sums(_ url: URL) throws -> [String] {
            try String(contentsOf: url.appendingPathComponent("SHA256SUMS"), encoding: .utf8).split(separator: "\n").map(String.init)
        }
        let (before, after) = (try sums(exported), try sums(again))
        #expect(before.count == 11 && before == after, "the round trip differs: \(before) vs \(after)")
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: again.appendingPathComponent("manifest.json")))
        let cameras = ((manifest as? [String: Any])?["pairs"] as? [[String: Any]])?.compactMap { $0["cameras"] as? [String: Any] }
        #expect(cameras?.count == 4, "the re-export lost the camera records")

        // 7. Evaluate there with a model imported under its own name: it is the default.
        let model = try await run(["model", "import", packageRoot().deletingLastPathComponent()
            .appendingPathComponent("shared/fixtures/ifan-random/IFAN_random.pytorch").path])
        #expect(model.status == 0, "\(model.stderr)")
        let evaluated = try await run(["evaluate", "--dataset", ds2, "--model", "ifan_random", "--format", "csv"])
        #expect(evaluated.status == 0 && evaluated.stdout.contains("ifan_random"), "\(evaluated.stdout) \(evaluated.stderr)")
        await rig.stop()
    }
}
