import DatasetBuilder
import Foundation
import GRDB
import PairVocabulary
import TestSupport
import Testing

/// A dataset made by an earlier rigctl (schema v1 + v2, before image info and the shared vocabulary): 3 captures of 2
/// scenes from the virtual rig, split, one pair flagged with a note, scored by the input and by a results folder.
/// It lives in Resources/legacy-v2; every test works on a copy.
@Suite struct LegacyCatalogueTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Resources/legacy-v2")

    /// A writable copy of the legacy dataset (git keeps no empty folders, so the dataset's own are made again).
    func copy(in dir: URL) throws -> URL {
        let target = dir.appendingPathComponent("legacy")
        try FileManager.default.copyItem(at: Self.fixture, to: target)
        for folder in ["incoming", "models", "outputs"] {
            try FileManager.default.createDirectory(at: target.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        return target
    }

    func rowCounts(_ catalogue: URL) throws -> [String: Int] {
        let db = try DatabaseQueue(path: catalogue.path, configuration: { var c = Configuration(); c.readonly = true; return c }())
        return try db.read { db in
            var counts: [String: Int] = [:]
            for table in ["file", "capture", "shot", "pair", "scene", "model", "evaluation", "camera", "session"] {
                counts[table] = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)")
            }
            return counts
        }
    }

    @Test func opensMigratesVerifiesAndKeepsEveryRow() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = try copy(in: dir)
        let before = try rowCounts(root.appendingPathComponent("catalog.sqlite"))
        #expect(before["pair"] == 3 && before["evaluation"] == 6)

        let dataset = try Dataset.open(at: root)
        let report = try dataset.verify()
        #expect(report.isConsistent, "\(report)")
        #expect(try rowCounts(root.appendingPathComponent("catalog.sqlite")) == before)

        // Every value reads back typed, as the earlier version wrote it.
        let pairs = try dataset.pairs()
        #expect(pairs.map(\.verdict) == [.accepted, .accepted, .accepted])
        #expect(pairs.map(\.split) == [.test, .test, .train])
        #expect(pairs.map(\.reviewState) == [.flagged, .unreviewed, .unreviewed])
        let first = try dataset.pair("1")
        #expect(first.reviewNote == "a legacy note")
        #expect(first.colour?.model == .gainOffset || first.colour?.model == .affine)
        #expect(first.colour?.matrix.count == 9 && first.colour?.offset.count == 3)
        #expect(first.homography != nil)
        #expect(first.crop != nil)
        #expect(first.capture?.shot(.source)?.role == .source)
        #expect(Set(first.evaluations.map(\.model)) == ["input", "blurry"])
        #expect(try dataset.status().byScene.map(\.scene) == ["cards", "planes"])

        // The views answer a lab's questions on the migrated catalogue (docs/dataset.md).
        let db = try DatabaseQueue(path: root.appendingPathComponent("catalog.sqlite").path,
                                   configuration: { var c = Configuration(); c.readonly = true; return c }())
        try db.read { db in
            let scores = try Row.fetchAll(db, sql: "SELECT scene, model, framing, pairs FROM sceneScores ORDER BY scene, model")
            #expect(scores.map { "\($0["scene"] as String)/\($0["model"] as String)/\($0["pairs"] as Int)" }
                    == ["cards/blurry/1", "cards/input/1", "planes/blurry/2", "planes/input/2"])
            #expect(try Int64.fetchAll(db, sql: "SELECT id FROM pairsNeedingReview") == [1])
            let worst = try Row.fetchAll(db, sql: "SELECT id, p95Shift FROM pairAlignment ORDER BY p95Shift DESC")
            #expect(worst.count == 3 && worst.allSatisfy { ($0["p95Shift"] as Double?) != nil })
        }
    }

    @Test func readOnlyOpenReadsTheUnmigratedCatalogue() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = try copy(in: dir)
        let dataset = try Dataset.open(at: root, readOnly: true)
        #expect(try dataset.pairs().count == 3)
        #expect(try dataset.pair("3").scene == "cards")
    }

    @Test func anUnknownVerdictIsAnErrorNotAGuess() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = try copy(in: dir)
        let db = try DatabaseQueue(path: root.appendingPathComponent("catalog.sqlite").path)
        try db.write { try $0.execute(sql: "UPDATE pair SET verdict = 'accept' WHERE id = 2") }
        try db.close()
        let dataset = try Dataset.open(at: root, readOnly: true)
        #expect {
            try dataset.pair("2")
        } throws: { error in
            "\(error)".contains("pair 2 has verdict") && "\(error)".contains("accept")
        }
        #expect(throws: DatasetError.self) { try dataset.pairs() }
    }
}
