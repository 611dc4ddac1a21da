import DatasetBuilder
import Foundation
import PairVocabulary
import TestSupport
import Testing

/// export -> import -> export: the imported pairs keep what the first export recorded, and the second export
/// writes the same images with the same names, scenes, splits, verdicts and alignment.
@Suite struct ExportImportRoundTripTests {
    /// Every file of an export folder, by path, with its bytes.
    static func files(_ folder: URL) throws -> [String: Data] {
        var out: [String: Data] = [:]
        let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey])
        while let url = walker?.nextObject() as? URL {
            guard try url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile == true else { continue }
            out[String(url.path.dropFirst(folder.path.count + 1))] = try Data(contentsOf: url)
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
        // The same files, byte for byte: images, manifest.json (cameras, keys, source files and origins included),
        // manifest.csv, SHA256SUMS and the datasheet.
        // Only the folder's mark names the dataset it came from; SHA256SUMS leaves the mark out, so it is the same.
        var a = try Self.files(first), b = try Self.files(again)
        #expect(a.removeValue(forKey: ".rigctl-export") != nil && b.removeValue(forKey: ".rigctl-export") != nil)
        #expect(a.keys.sorted() == b.keys.sorted())
        #expect(a.keys.contains("SHA256SUMS"))
        #expect(a.keys.contains("manifest.json") && a.keys.contains("manifest.csv") && a.keys.contains("README.md"))
        for path in a.keys.sorted() where a[path] != b[path] {
            Issue.record("\(path) differs:\n\(String(decoding: a[path]!.prefix(3000), as: UTF8.self))\n---\n\(String(decoding: b[path]!.prefix(3000), as: UTF8.self))")
        }
        // The imported pairs carry the first dataset's camera records.
        let cameras = try #require(pair.provenance?.cameras)
        #expect(cameras[.source]?.serial == (try dataset.pair("1")).capture?.shot(.source)?.camera.serial)

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
