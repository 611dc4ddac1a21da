import TestSupport
import DatasetBuilder
import Foundation
import GRDB
import Imaging
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Import folders with links and damaged images; export folders that are not ours, or inside the dataset.
@Suite struct HostileImportExportTests {
    /// A RealDOF folder with one good pair and one pair per kind of bad source file.
    func hostileRealDOF(in dir: URL) throws -> URL {
        let set = dir.appendingPathComponent("RealDOF")
        try writePNG(set.appendingPathComponent("source/good.png"), seed: 1)
        let good = try Data(contentsOf: set.appendingPathComponent("source/good.png"))
        func put(_ name: String, source: Data?) throws {
            if let source { try source.write(to: set.appendingPathComponent("source/\(name).png")) }
            try writePNG(set.appendingPathComponent("target/\(name).png"), seed: UInt64(name.utf8.count) + 40)
        }
        try writePNG(set.appendingPathComponent("target/good.png"), seed: 2)
        try put("empty", source: Data())
        try put("truncated", source: good.prefix(good.count / 2))
        var flipped = good
        flipped[good.count / 2] ^= 0x10
        try put("flipped", source: flipped)
        try put("text", source: Data("not an image at all".utf8))
        try put("passwd", source: nil)
        try FileManager.default.createSymbolicLink(atPath: set.appendingPathComponent("source/passwd.png").path,
                                                   withDestinationPath: "/etc/passwd")
        try put("environ", source: nil)
        try FileManager.default.createSymbolicLink(atPath: set.appendingPathComponent("source/environ.png").path,
                                                   withDestinationPath: "/proc/self/environ")
        return set
    }

    @Test func importCataloguesOnlyRegularFilesThatDecode() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let set = try hostileRealDOF(in: dir)
        let dataset = try Dataset.create(at: dir.appendingPathComponent("ds"))
        let report = try Importer(layout: .realdof).run(from: set, into: dataset)
        #expect(report.added == ["good"])
        let refused = report.refused.joined(separator: "\n")
        for name in ["empty", "truncated", "flipped", "text", "passwd", "environ"] {
            #expect(refused.contains("source/\(name).png"), "\(name) was not refused: \(report)")
        }
        #expect(refused.contains("symbolic link"))
        #expect(try dataset.status().pairs == 1)
        // Export and verify work for the whole dataset afterwards.
        #expect(try dataset.verify().isConsistent)
        #expect(try Exporter(options: ExportOptions()).run(from: dataset, to: dir.appendingPathComponent("out")).pairs == 1)
        // The decoded pixel format is recorded.
        let db = try DatabaseQueue(path: dataset.root.appendingPathComponent(Dataset.catalogName).path,
                                   configuration: { var c = Configuration(); c.readonly = true; return c }())
        let row = try #require(try db.read { try Row.fetchOne($0, sql: "SELECT width, height, channels, bitDepth FROM file WHERE kind = 'aligned' LIMIT 1") })
        #expect(row["width"] as Int? == 24 && row["height"] as Int? == 16 && row["channels"] as Int? == 3 && row["bitDepth"] as Int? == 8)
    }

    @Test func importRefusesALinkedLayoutFolderAndNamesThatAreNotUTF8() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dataset = try Dataset.create(at: dir.appendingPathComponent("ds"))
        // source/ itself a link out of the folder.
        let linked = dir.appendingPathComponent("linked")
        try writePNG(dir.appendingPathComponent("elsewhere/a.png"), seed: 1)
        try writePNG(linked.appendingPathComponent("target/a.png"), seed: 2)
        try FileManager.default.createSymbolicLink(atPath: linked.appendingPathComponent("source").path,
                                                   withDestinationPath: dir.appendingPathComponent("elsewhere").path)
        #expect(throws: DatasetError.self) { try Importer(layout: .realdof).run(from: linked, into: dataset) }
        #expect(try dataset.status().pairs == 0)

        // A file name with invalid UTF-8 is listed and skipped; the rest is imported.
        let odd = dir.appendingPathComponent("odd")
        try writePNG(odd.appendingPathComponent("source/b.png"), seed: 3)
        try writePNG(odd.appendingPathComponent("target/b.png"), seed: 4)
        let badName = odd.path + "/source/caf\u{00E9}".replacingOccurrences(of: "\u{00E9}", with: "") 
        let bytes = Array(badName.utf8) + [0xE9] + Array(".png".utf8) + [0]
        let fd = bytes.withUnsafeBufferPointer { open(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), O_WRONLY | O_CREAT, 0o644) }
        try #require(fd >= 0)
        close(fd)
        let report = try Importer(layout: .realdof).run(from: odd, into: dataset)
        #expect(report.added == ["b"])
        #expect(report.refused.contains { $0.contains("caf\\xE9.png") && $0.contains("UTF-8") })
    }

    // MARK: - Export

    @Test func exportReplacesOnlyAFolderItMarkedAndOnlyItsFiles() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dataset = try makeDataset(in: dir, count: 2)
        let exporter = Exporter(options: ExportOptions(split: .all))

        // A folder that merely looks like an export (manifest.json and SHA256SUMS) is not replaced.
        let lookalike = dir.appendingPathComponent("lookalike")
        try FileManager.default.createDirectory(at: lookalike.appendingPathComponent("chapters"), withIntermediateDirectories: true)
        for name in ["manifest.json", "SHA256SUMS", "thesis.tex", "chapters/one.tex"] {
            try Data(name.utf8).write(to: lookalike.appendingPathComponent(name))
        }
        let before = try contents(of: lookalike)
        #expect(throws: DatasetError.refusingToOverwrite(path: lookalike.path)) { try exporter.run(from: dataset, to: lookalike) }
        #expect(try contents(of: lookalike) == before)

        // Our own export is marked, names the dataset, and is replaced by the next export.
        let out = dir.appendingPathComponent("out")
        let first = try exporter.run(from: dataset, to: out)
        let marker = try String(contentsOf: out.appendingPathComponent(".rigctl-export"), encoding: .utf8)
        #expect(marker.hasPrefix("rigctl export\n") && marker.contains("dataset: \(dataset.root.path)"))
        #expect(first.files.contains(".rigctl-export"))
        _ = try exporter.run(from: dataset, to: out)

        // A file the user added to an export is not deleted: the export is refused and names it.
        try Data("keep".utf8).write(to: out.appendingPathComponent("source/notes.txt"))
        do {
            _ = try exporter.run(from: dataset, to: out)
            Issue.record("the export replaced a folder holding a file it did not write")
        } catch DatasetError.invalidInput(let message) {
            #expect(message.contains("source/notes.txt"))
        }
        #expect(try String(contentsOf: out.appendingPathComponent("source/notes.txt"), encoding: .utf8) == "keep")
    }

    @Test func exportRefusesAnOutputInsideTheDataset() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dataset = try makeDataset(in: dir, count: 2)
        let exporter = Exporter(options: ExportOptions(split: .all))
        for inside in ["export", "aligned/x", "."] {
            let out = dataset.root.appendingPathComponent(inside)
            #expect(throws: DatasetError.self, "\(inside)") { try exporter.run(from: dataset, to: out) }
        }
        // Also through a link to the dataset from outside.
        let link = dir.appendingPathComponent("link")
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: dataset.root.path)
        #expect(throws: DatasetError.self) { try exporter.run(from: dataset, to: link.appendingPathComponent("export")) }
        #expect(try dataset.verify().isConsistent)
    }

    @Test func csvCellsThatSpreadsheetsRunAreNeutralised() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dataset = try Dataset.create(at: dir.appendingPathComponent("ds"))
        let a = try writePNG(dir.appendingPathComponent("in/a.png"), seed: 1)
        let b = try writePNG(dir.appendingPathComponent("in/b.png"), seed: 2)
        try dataset.addPair(PairInput(scene: SceneInput(name: "=HYPERLINK(\"http://x\")", tags: ["@evil", "+1"]),
                                      name: "-2+3", source: a, target: b, verdict: .accepted, split: .test))
        let report = try Exporter(options: ExportOptions()).run(from: dataset, to: dir.appendingPathComponent("out"))
        let csv = try String(contentsOf: report.folder.appendingPathComponent("manifest.csv"), encoding: .utf8)
        for cell in csv.split(separator: "\n").dropFirst().flatMap({ $0.split(separator: ",") }) {
            let text = cell.hasPrefix("\"") ? cell.dropFirst() : cell[...]
            #expect(!(text.first.map { "=+@".contains($0) } ?? false), "cell \(cell) starts with a formula character")
        }
        #expect(csv.contains("'=HYPERLINK"))
    }
}
