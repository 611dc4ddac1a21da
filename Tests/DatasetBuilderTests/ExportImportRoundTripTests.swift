import DatasetBuilder
import Foundation
import PairVocabulary
import TestSupport
import Testing

/// export -> import -> export: the imported pairs keep what the first export recorded, and the second export
/// writes the same images with the same names, scenes, splits, verdicts and alignment.
@Suite struct ExportImportRoundTripTests {
    /// The manifest's pairs by name, without what an import cannot recreate (camera records, originals, keys).
    static func comparable(_ folder: URL) throws -> [String: [String: String]] {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("manifest.json")))
        let pairs = try #require((object as? [String: Any])?["pairs"] as? [[String: Any]])
        var out: [String: [String: String]] = [:]
        for pair in pairs {
            var kept: [String: String] = [:]
            for key in ["scene", "tags", "split", "verdict", "reasons", "review", "alignment", "files", "sha256", "width", "height"] {
                let value = pair[key] ?? NSNull()
                let data = try JSONSerialization.data(withJSONObject: ["v": value], options: [.sortedKeys])
                kept[key] = String(decoding: data, as: UTF8.self)
            }
            out[pair["name"] as? String ?? ""] = kept
        }
        return out
    }

    @Test func anExportImportsAsWhatItWasAndExportsTheSame() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dataset = try makeDataset(in: dir, count: 6, scenes: 2)
        let first = dir.appendingPathComponent("first")
        _ = try Exporter(options: ExportOptions(split: .all)).run(from: dataset, to: first)

        let second = try Dataset.create(at: dir.appendingPathComponent("ds2"))
        let report = try Importer(layout: .realdof).run(from: first, into: second)
        #expect(report.added.count == 5 && report.fromManifest == 5 && report.manifestNote == nil, "\(report)")
        // Scenes as in the first dataset (two), not one per pair; splits as they were.
        let status = try second.status()
        #expect(status.scenes == 2, "\(status.byScene.map(\.scene))")
        #expect(status.bySplit == ["test": 2, "train": 3], "\(status.bySplit)")
        let pair = try second.pair("1")
        #expect(pair.homography != nil && pair.colour != nil && pair.crop != nil && !pair.quality.isEmpty)

        let again = dir.appendingPathComponent("again")
        _ = try Exporter(options: ExportOptions(split: .all)).run(from: second, to: again)
        let a = try Self.comparable(first), b = try Self.comparable(again)
        #expect(a.keys.sorted() == b.keys.sorted())
        for name in a.keys.sorted() { #expect(a[name] == b[name], "\(name)") }

        // Importing the same export again adds nothing.
        #expect(try Importer(layout: .realdof).run(from: first, into: second).added.isEmpty)
    }

    @Test func anAlteredExportIsRefusedAndAManifestWithoutSumsIsNotTrusted() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dataset = try makeDataset(in: dir, count: 4, scenes: 1)
        let out = dir.appendingPathComponent("out")
        _ = try Exporter(options: ExportOptions(split: .all)).run(from: dataset, to: out)
        // A scene renamed in the manifest after the export: SHA256SUMS no longer vouches for it.
        let manifest = out.appendingPathComponent("manifest.json")
        let text = try String(contentsOf: manifest, encoding: .utf8)
        try text.replacingOccurrences(of: "\"scene-0\"", with: "\"elsewhere\"").write(to: manifest, atomically: true, encoding: .utf8)
        let target = try Dataset.create(at: dir.appendingPathComponent("t"))
        let error = #expect(throws: DatasetError.self) { try Importer(layout: .realdof).run(from: out, into: target) }
        #expect("\(error!)".contains("manifest.json") && "\(error!)".contains("SHA256SUMS"), "\(error!)")
        #expect(try target.status().pairs == 0)

        try FileManager.default.removeItem(at: out.appendingPathComponent("SHA256SUMS"))
        let report = try Importer(layout: .realdof).run(from: out, into: target)
        #expect(report.fromManifest == 0 && report.manifestNote?.contains("SHA256SUMS") == true)
        #expect(try target.status().scenes == report.added.count, "a plain set: each pair its own scene")
    }
}
