import Foundation
import Testing

/// `dataset tag` and `evaluate --by scene|tag|cameras`: a table per subset after the whole set's, each row with
/// its intervals, and the subset a column in CSV.
@Suite(.serialized) struct SubsetTableTests {
    func scene(of pair: String, _ f: ScoringFixture) async throws -> String {
        let shown = try await f.run(["dataset", "show", pair, "--dataset", f.dataset])
        let line = try #require(shown.stdout.split(separator: "\n").first { $0.hasPrefix("scene: ") })
        return String(line.dropFirst("scene: ".count).prefix { $0 != " " })
    }

    @Test func tagsAndSubsets() async throws {
        let f = try await ScoringFixture()
        defer { try? FileManager.default.removeItem(at: f.root) }
        let scenes = [try await scene(of: "1", f), try await scene(of: "2", f)]

        let tagged = try await f.run(["dataset", "tag", scenes[0], "indoor", "lab", "--dataset", f.dataset])
        #expect(tagged.status == 0 && tagged.stdout.contains("indoor, lab"), "\(tagged.stdout)\(tagged.stderr)")
        let removed = try await f.run(["dataset", "tag", scenes[0], "lab", "--remove", "--dataset", f.dataset])
        #expect(removed.stdout.contains("scene \(scenes[0]): indoor"), "\(removed.stdout)")
        let unknown = try await f.run(["dataset", "tag", "no-such-scene", "x", "--dataset", f.dataset])
        #expect(unknown.status != 0 && unknown.stderr.contains("no-such-scene"), "\(unknown.stderr)")
        let bad = try await f.run(["dataset", "tag", scenes[0], " spaced", "--dataset", f.dataset])
        #expect(bad.status != 0 && bad.stderr.contains("tag ' spaced'"), "\(bad.stderr)")

        let byTag = try await f.run(["evaluate", "--dataset", f.dataset, "--by", "tag", "--format", "csv"])
        #expect(byTag.status == 0, "\(byTag.stderr)")
        let rows = byTag.stdout.split(separator: "\n").dropFirst().map { String($0) }
        let subsets = rows.map { $0.split(separator: ",", omittingEmptySubsequences: false).last.map(String.init) ?? "" }
        let expected = scenes[0] == scenes[1] ? ["", "tag=indoor"] : ["", "tag=indoor", "tag=untagged"]
        #expect(subsets == expected, "\(byTag.stdout)")

        let byScene = try await f.run(["evaluate", "--dataset", f.dataset, "--by", "scene", "--format", "markdown"])
        #expect(byScene.stdout.components(separatedBy: "| Model |").count == 1 + 1 + Set(scenes).count, "\(byScene.stdout)")
        #expect(byScene.stdout.contains("Subset: scene=\(scenes[0])") && byScene.stdout.contains("PSNR 95% CI"))

        let byCameras = try await f.run(["evaluate", "--dataset", f.dataset, "--by", "cameras", "--format", "json"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(byCameras.stdout.utf8)) as? [[String: Any]])
        #expect(json.compactMap { $0["subset"] as? String } == ["cameras=unknown"], "an imported folder has no camera records")

        let folder = try await f.run(["evaluate", f.root.appendingPathComponent("set").path, "--by", "scene"])
        #expect(folder.status == 64 && folder.stderr.contains("--by needs a dataset"), "\(folder.stderr)")
    }
}
