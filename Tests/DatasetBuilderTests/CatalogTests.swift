import PairVocabulary
import TestSupport
import DatasetBuilder
import Foundation
import GRDB
import Testing

@Suite struct CatalogTests {
    @Test func ingestCopiesFilesAndIsIdempotent() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dataset = try Dataset.create(at: dir.appendingPathComponent("ds"))
        let item = try SyntheticCapture.make(index: 0, seed: 7, in: dir.appendingPathComponent("in"))
        let first = try dataset.ingestCapture(item.capture)
        #expect(first.created)
        let again = try dataset.ingestCapture(item.capture)
        #expect(again == Ingested(id: first.id, created: false))
        let pair = try dataset.addPair(item.pair(captureID: first.id))
        #expect(try dataset.addPair(item.pair(captureID: first.id)) == Ingested(id: pair.id, created: false))

        let detail = try dataset.pair("\(pair.id)")
        #expect(detail.scene == "scene-0")
        #expect(detail.tags == ["synthetic"])
        #expect(detail.homography?.m.count == 9)
        #expect(detail.colour?.model == .affine)
        #expect(detail.crop == CropRect(x: 4, y: 4, width: 64, height: 48))
        #expect(detail.quality["ecc"] == 0.97)
        let capture = try #require(detail.capture)
        #expect(capture.shots.count == 2)
        #expect(capture.shot(.source)?.settings.aperture == 1.8)
        #expect(capture.shot(.target)?.settings.aperture == 16)
        #expect(capture.shot(.target)?.camera.serial == "TGT-0002")
        #expect(capture.skew == 0.0004)
        #expect(capture.triggerTime == item.capture.triggerTime)
        // The originals are byte-identical copies, under the documented folder.
        let original = try #require(capture.shot(.source)).file
        #expect(original.path.hasPrefix("originals/"))
        #expect(try Data(contentsOf: dataset.root.appendingPathComponent(original.path))
                == Data(contentsOf: item.capture.source.file))
        #expect(detail.source.path.hasPrefix("aligned/"))
        // Looking a pair up by a prefix of its key works too.
        #expect(try dataset.pair(String(detail.key.prefix(8))).id == pair.id)

        let status = try dataset.status()
        #expect(status.captures == 1 && status.pairs == 1 && status.files == 4)
        #expect(try dataset.verify().isConsistent)
    }

    @Test func modelsAndEvaluationsReplaceTheirOutputs() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dataset = try makeDataset(in: dir, count: 2)
        let weights = try writePNG(dir.appendingPathComponent("ifan.weights"), seed: 99)
        let model = try dataset.registerModel(ModelInput(name: "IFAN", weights: weights,
                                                         cost: ModelCost(parameters: 10_476_996, macs: 361_500_000_000)))
        #expect(try dataset.registerModel(ModelInput(name: "IFAN", weights: weights)) == Ingested(id: model.id, created: false))
        let other = try writePNG(dir.appendingPathComponent("other.weights"), seed: 100)
        #expect(throws: DatasetError.self) { try dataset.registerModel(ModelInput(name: "IFAN", weights: other)) }

        let out1 = try writePNG(dir.appendingPathComponent("out1.png"), seed: 1)
        let out2 = try writePNG(dir.appendingPathComponent("out2.png"), seed: 2)
        let e1 = try dataset.recordEvaluation(EvaluationInput(pairID: 1, modelID: model.id, psnr: 25.5, ssim: 0.8,
                                                              mae: 0.03, lpips: 0.2, seconds: 1.5, output: out1))
        #expect(e1.created)
        let e2 = try dataset.recordEvaluation(EvaluationInput(pairID: 1, modelID: model.id, psnr: 26, ssim: 0.81,
                                                              output: out2))
        #expect(e2 == Ingested(id: e1.id, created: false))
        let evaluation = try #require(try dataset.pair("1").evaluations.first)
        #expect(evaluation.model == "IFAN" && evaluation.psnr == 26 && evaluation.mae == nil)
        #expect(try Data(contentsOf: dataset.root.appendingPathComponent(try #require(evaluation.output).path))
                == Data(contentsOf: out2))
        // The replaced output stays on disk and in the catalogue (an evaluation never deletes an output), and
        // verify finds no orphan.
        let report = try dataset.verify()
        #expect(report.isConsistent, "\(report)")
        #expect(try dataset.status().files == 8 + 1 + 2)
        #expect(FileManager.default.fileExists(atPath: dataset.root.appendingPathComponent("outputs/m\(model.id)").path))

        #expect(throws: DatasetError.notFound(what: "pair", id: "999")) {
            try dataset.recordEvaluation(EvaluationInput(pairID: 999, modelID: model.id, psnr: 1, ssim: 1))
        }
        #expect(throws: DatasetError.self) {
            try dataset.recordEvaluation(EvaluationInput(pairID: 1, modelID: model.id, psnr: .nan, ssim: 1))
        }
    }

    @Test func listFiltersAndStatusCounts() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dataset = try makeDataset(in: dir, count: 10, scenes: 3)
        #expect(try dataset.pairs().count == 10)
        #expect(try dataset.pairs(PairFilter(verdict: .rejected)).map(\.id) == [5, 10])
        #expect(try dataset.pairs(PairFilter(split: .test)).count == 5)
        #expect(try dataset.pairs(PairFilter(scene: "scene-1")).map(\.id) == [2, 5, 8])
        #expect(try dataset.pairs(PairFilter(tag: "synthetic")).count == 10)
        #expect(try dataset.pairs(PairFilter(tag: "nope")).isEmpty)
        #expect(try dataset.pairs(PairFilter(limit: 3, offset: 2)).map(\.id) == [3, 4, 5])
        #expect(try dataset.pairs(PairFilter(captureID: 4)).map(\.id) == [4])

        try dataset.review(pair: "3", state: .rejected, note: "ghosting at the left edge")
        #expect(try dataset.pairs(PairFilter(review: .rejected)).map(\.id) == [3])
        #expect(try dataset.pair("3").reviewNote == "ghosting at the left edge")
        #expect(throws: DatasetError.notFound(what: "pair", id: "77")) {
            try dataset.review(pair: "77", state: .approved, note: nil)
        }

        let status = try dataset.status()
        #expect(status.byVerdict == ["accepted": 8, "rejected": 2])
        #expect(status.bySplit == ["test": 5, "train": 5])
        #expect(status.byReview == ["unreviewed": 9, "rejected": 1])
        #expect(status.byScene.map(\.scene) == ["scene-0", "scene-1", "scene-2"])
        #expect(status.byScene.map(\.pairs) == [4, 3, 3])
    }

    @Test func splitKeepsScenesTogetherAndIsDeterministic() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dataset = try makeDataset(in: dir, count: 24, scenes: 12)
        try dataset.review(pair: "1", state: .rejected, note: nil)
        let report = try dataset.assignSplit(testFraction: 0.4, seed: "s")
        #expect(!report.testScenes.isEmpty && !report.trainScenes.isEmpty)
        #expect(Set(report.testScenes).isDisjoint(with: report.trainScenes))
        var sides: [String: Set<Split>] = [:]
        for pair in try dataset.pairs() {
            let detail = try dataset.pair("\(pair.id)")
            if detail.verdict == .rejected || detail.reviewState == .rejected {
                #expect(pair.split == .unused)
            } else {
                sides[pair.scene, default: []].insert(pair.split)
                #expect(pair.split == (Dataset.isTestScene(pair.scene, testFraction: 0.4, seed: "s") ? .test : .train))
            }
        }
        #expect(sides.values.allSatisfy { $0.count == 1 }, "a scene landed on both sides: \(sides)")
        let before = try dataset.pairs().map(\.split)
        try dataset.assignSplit(testFraction: 0.4, seed: "s")
        #expect(try dataset.pairs().map(\.split) == before)
        #expect(throws: DatasetError.self) { try dataset.assignSplit(testFraction: 1.5) }
    }

    @Test func verifyFindsMissingChangedAndOrphanFiles() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dataset = try makeDataset(in: dir, count: 2)
        #expect(try dataset.verify().isConsistent)
        let detail = try dataset.pair("1")
        try FileManager.default.removeItem(at: dataset.root.appendingPathComponent(detail.source.path))
        var changed = try Data(contentsOf: dataset.root.appendingPathComponent(detail.target.path))
        changed[changed.count - 1] ^= 1
        try changed.write(to: dataset.root.appendingPathComponent(detail.target.path))
        try Data([1, 2, 3]).write(to: dataset.root.appendingPathComponent("aligned/stray.png"))
        let report = try dataset.verify()
        #expect(!report.isConsistent)
        #expect(report.missing == [detail.source.path])
        #expect(report.mismatched.map(\.path) == [detail.target.path])
        #expect(report.orphans == ["aligned/stray.png"])
        // A size-only check still sees the missing file but not the same-size change.
        let quick = try dataset.verify(hashes: false)
        #expect(quick.missing == [detail.source.path] && quick.mismatched.isEmpty)
    }

    @Test func badInputGetsTypedErrors() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: DatasetError.notADataset(path: dir.path)) { try Dataset.open(at: dir) }
        let dataset = try makeDataset(in: dir, count: 1)
        #expect(throws: DatasetError.alreadyExists(path: dataset.root.path)) { try Dataset.create(at: dataset.root) }
        // One writer at a time: a second writable open is refused while the first holds the dataset.
        #expect(throws: DatasetError.busy(path: dataset.root.path)) { try Dataset.open(at: dataset.root, lockWait: 0.05) }
        let reader = try Dataset.open(at: dataset.root, readOnly: true)
        #expect(try reader.status().pairs == 1)
        let png = try writePNG(dir.appendingPathComponent("a.png"), seed: 3)
        #expect(throws: DatasetError.readOnly(path: dataset.root.path)) {
            try reader.addPair(PairInput(scene: SceneInput(name: "x"), name: "x", source: png, target: png, verdict: .accepted))
        }
        let missing = dir.appendingPathComponent("missing.png")
        #expect(throws: DatasetError.unreadable(path: missing.path, reason: "no such file")) {
            try dataset.addPair(PairInput(scene: SceneInput(name: "x"), name: "x", source: missing, target: png,
                                          verdict: .accepted))
        }
        #expect(throws: DatasetError.self) {
            // A homography is 9 finite numbers by construction; a colour fit is checked on the way in.
            try dataset.addPair(PairInput(scene: SceneInput(name: "x"), name: "x", source: png, target: png,
                                          colour: ColourFit(model: .affine, matrix: [1, 0, 0], offset: [0, 0, .nan]),
                                          verdict: .accepted))
        }
        #expect(throws: DatasetError.self) {
            try dataset.addPair(PairInput(name: "no scene", source: png, target: png, verdict: .accepted))
        }
        #expect(throws: DatasetError.notFound(what: "capture", id: "42")) {
            try dataset.addPair(PairInput(captureID: 42, name: "x", source: png, target: png, verdict: .accepted))
        }
        // Failed steps leave nothing behind.
        #expect(try dataset.verify().isConsistent)
    }

    /// The JPEG of a RAW+JPEG shot is copied in beside the shot's original and catalogued with that shot.
    @Test func companionFilesAreCataloguedWithTheirShot() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dataset = try Dataset.create(at: dir.appendingPathComponent("ds"))
        var input = try SyntheticCapture.make(index: 0, seed: 9, in: dir.appendingPathComponent("in")).capture
        let jpeg = dir.appendingPathComponent("in/source-preview.jpg")
        try Data([0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 0xFF, 0xD9]).write(to: jpeg)
        input.source.companions = [jpeg]
        let first = try dataset.ingestCapture(input)
        #expect(try dataset.ingestCapture(input) == Ingested(id: first.id, created: false))
        let capture = try #require(try dataset.capture(id: first.id))
        let source = try #require(capture.shot(.source)), target = try #require(capture.shot(.target))
        #expect(source.companions.count == 1 && target.companions.isEmpty)
        let companion = try #require(source.companions.first)
        #expect(companion.path == (source.file.path as NSString).deletingLastPathComponent + "/source-companion-1.jpg")
        #expect(companion.sha256 == SHA256Hex.of(try Data(contentsOf: jpeg)))
        #expect(try Data(contentsOf: dataset.root.appendingPathComponent(companion.path)) == Data(contentsOf: jpeg))
        #expect(try dataset.status().files == 3)
        #expect(try dataset.verify().isConsistent)
        // A missing companion is an error naming it, and nothing of the capture is catalogued.
        var other = try SyntheticCapture.make(index: 1, seed: 9, in: dir.appendingPathComponent("in")).capture
        other.target.companions = [dir.appendingPathComponent("in/gone.jpg")]
        #expect(throws: DatasetError.self) { try dataset.ingestCapture(other) }
        #expect(try dataset.status().captures == 1)
        #expect(try dataset.verify().isConsistent)
    }

    @Test func catalogueHasTheDocumentedSchemaAndWAL() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = dir.appendingPathComponent("ds")
        do { _ = try makeDataset(in: dir, count: 1) }
        let queue = try DatabaseQueue(path: root.appendingPathComponent("catalog.sqlite").path)
        let (journal, tables, migrations, roles) = try queue.read { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"),
             try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'"),
             try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations"),
             try String.fetchAll(db, sql: "SELECT role FROM camera ORDER BY serial"))
        }
        #expect(journal == "wal")
        for table in ["rig", "camera", "session", "scene", "sceneTag", "capture", "shot", "pair", "model", "evaluation",
                      "file", "pendingFile"] {
            #expect(tables.contains(table), "missing table \(table)")
        }
        #expect(migrations == ["v1", "v2-status-index", "v3-image-info", "v4-score-protocol", "v5-capture-calibration",
                               "v6-vocabulary", "v7-views", "v8-shot-companions", "v9-pair-provenance", "v10-scoring-protocols",
                               "v11-score-channels", "v12-capture-firing", "v13-yiq-luma",
                               "v14-downsampled-ssim"])
        #expect(roles == ["source", "target"])
        for folder in Dataset.Folder.all {
            #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent(folder).path))
        }
    }

    @Test func openRemovesTheFilesOfAnInterruptedStep() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = dir.appendingPathComponent("ds")
        let kept: String
        do { kept = try makeDataset(in: dir, count: 1).pair("1").source.path }
        // What a step killed between its journal commit and its final commit leaves behind: a renamed file, a
        // temporary beside it, in a folder of its own.
        let folder = "aligned/0123456789abcdef0123"
        try writePNG(root.appendingPathComponent("\(folder)/source.png"), seed: 5)
        try Data([1]).write(to: root.appendingPathComponent("\(folder)/.rigctl-tmp-1234-target.png"))
        try Data([2]).write(to: dir.appendingPathComponent("outside.txt"))
        do {
            let queue = try DatabaseQueue(path: root.appendingPathComponent("catalog.sqlite").path)
            try queue.write { db in
                // The journal of the step, a journalled path that a committed file claims (it must survive), and
                // entries that point outside the managed folders (a damaged journal must not delete them).
                for path in ["\(folder)/source.png", "\(folder)/target.png", kept, "../outside.txt", "catalog.sqlite",
                             "aligned/../catalog.sqlite"] {
                    try db.execute(sql: "INSERT INTO pendingFile (path) VALUES (?)", arguments: [path])
                }
            }
        }
        #expect(try !Dataset.open(at: root, readOnly: true).verify().isConsistent)
        let dataset = try Dataset.open(at: root)
        #expect(dataset.recoveredFiles == ["\(folder)/.rigctl-tmp-1234-target.png", "\(folder)/source.png"])
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent(folder).path))
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent(kept).path))
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("outside.txt").path))
        let report = try dataset.verify()
        #expect(report.isConsistent, "\(report)")
    }

}
