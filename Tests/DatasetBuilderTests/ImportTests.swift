import TestSupport
import DatasetBuilder
import Foundation
import PairVocabulary
import Testing

@Suite struct ImportTests {
    @Test func realdofMatchesByNameReportsMismatchesAndIsIdempotent() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let set = dir.appendingPathComponent("RealDOF")
        for (i, name) in ["0001.png", "0002.png", "0003.png"].enumerated() {
            try writePNG(set.appendingPathComponent("source/\(name)"), seed: UInt64(10 + i))
            try writePNG(set.appendingPathComponent("target/\(name)"), seed: UInt64(20 + i))
        }
        try writePNG(set.appendingPathComponent("source/only-source.png"), seed: 30)
        try writePNG(set.appendingPathComponent("target/only-target.png"), seed: 31)
        try Data("notes".utf8).write(to: set.appendingPathComponent("source/readme.txt"))  // not an image: ignored
        // Same name, different size: reported, not imported.
        try writePNG(set.appendingPathComponent("source/0004.png"), width: 24, height: 16, seed: 40)
        try writePNG(set.appendingPathComponent("target/0004.png"), width: 20, height: 16, seed: 41)

        let dataset = try Dataset.create(at: dir.appendingPathComponent("ds"))
        let importer = Importer(layout: .realdof, tags: ["realdof"])
        let first = try importer.run(from: set, into: dataset)
        #expect(first.added == ["0001", "0002", "0003"])
        #expect(first.alreadyPresent.isEmpty)
        #expect(first.mismatches.count == 3)
        #expect(first.mismatches.contains("source/only-source.png has no target/only-source.png"))
        #expect(first.mismatches.contains("target/only-target.png has no source/only-target.png"))
        #expect(first.mismatches.contains { $0.hasPrefix("0004:") && $0.contains("20x16") })

        let again = try importer.run(from: set, into: dataset)
        #expect(again.added.isEmpty)
        #expect(again.alreadyPresent == ["0001", "0002", "0003"])
        let status = try dataset.status()
        #expect(status.pairs == 3 && status.files == 6 && status.bySplit == ["test": 3])
        let pair = try dataset.pair("1")
        #expect(pair.scene == "0001" && pair.tags == ["realdof"] && pair.origin == "import:realdof:source/0001.png")
        #expect(try Data(contentsOf: dataset.root.appendingPathComponent(pair.source.path))
                == Data(contentsOf: set.appendingPathComponent("source/0001.png")))
        #expect(try dataset.verify().isConsistent)
    }

    @Test func dpddWithDualPixelViews() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let set = dir.appendingPathComponent("DPDD")
        for (i, name) in ["1P0A1001.png", "1P0A1002.png"].enumerated() {
            for (j, folder) in ["test_c/source", "test_c/target", "test_l/source", "test_r/source"].enumerated() {
                if i == 1 && folder == "test_r/source" { continue }  // one right view missing
                try writePNG(set.appendingPathComponent("\(folder)/\(name)"), seed: UInt64(i * 10 + j))
            }
        }
        let dataset = try Dataset.create(at: dir.appendingPathComponent("ds"))
        let report = try Importer(layout: .dpdd, scene: "dpdd").run(from: set, into: dataset)
        #expect(report.added == ["1P0A1001"])
        #expect(report.mismatches == ["test_c/source/1P0A1002.png has no test_r/source/1P0A1002.png"])
        let pair = try dataset.pair("1")
        #expect(pair.left != nil && pair.right != nil && pair.scene == "dpdd")

        #expect(throws: DatasetError.self) {
            try Importer(layout: .dpdd).run(from: set.appendingPathComponent("test_c"), into: dataset)
        }
    }

    @Test func pairFoldersLayout() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let set = dir.appendingPathComponent("pairs")
        try writePNG(set.appendingPathComponent("kitchen/source.png"), seed: 1)
        try writePNG(set.appendingPathComponent("kitchen/target.png"), seed: 2)
        try writePNG(set.appendingPathComponent("garden/source.png"), seed: 3)
        let dataset = try Dataset.create(at: dir.appendingPathComponent("ds"))
        let report = try Importer(layout: .pairs, split: .train).run(from: set, into: dataset)
        #expect(report.added == ["kitchen"])
        #expect(report.mismatches == ["garden/ has no target image"])
        #expect(try dataset.pair("1").split == .train)
        #expect(throws: DatasetError.badLayout(path: dir.appendingPathComponent("none").path, detail: "not a folder")) {
            try Importer(layout: .pairs).run(from: dir.appendingPathComponent("none"), into: dataset)
        }
    }
}
