import DatasetBuilder
import Foundation
import GRDB
import PairVocabulary
import TestSupport
import Testing

/// The `v5-capture-calibration` migration and re-aligning a pair in place.
@Suite struct CaptureCalibrationTests {
    /// A catalogue from before the migration (simulated by undoing it) opens, keeps every row, and its captures'
    /// calibration is unknown; a new capture records its own.
    @Test func aCatalogueFromBeforeV5MigratesAndKeepsItsRows() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = dir.appendingPathComponent("ds")
        do { _ = try makeDataset(in: dir, count: 3) }
        do {
            let queue = try DatabaseQueue(path: root.appendingPathComponent(Dataset.catalogName).path)
            try queue.write { db in
                try db.execute(sql: """
                    DROP TABLE staleEvaluation;
                    ALTER TABLE pair DROP COLUMN calibration;
                    ALTER TABLE capture DROP COLUMN split;
                    ALTER TABLE capture DROP COLUMN calibration;
                    DELETE FROM grdb_migrations WHERE identifier = 'v5-capture-calibration';
                    """)
            }
        }
        // Read-only opens do not need v5.
        #expect(try Dataset.open(at: root, readOnly: true).status().pairs == 3)
        let dataset = try Dataset.open(at: root)
        #expect(try dataset.status().pairs == 3 && dataset.verify().isConsistent)
        let processing = try dataset.captureProcessing(id: 1)
        #expect(processing.calibration == nil && processing.split == nil && processing.sceneSplit == .test)
        #expect(try dataset.pairsAlignedWithOtherCalibration().isEmpty, "unknown capture calibrations ask for nothing")
        #expect(try dataset.pairsAlignedWithOtherCalibration(than: AlignmentCalibration(mirror: .none)) == [1, 2, 3])
        try dataset.recordCalibration(AlignmentCalibration(mirror: .horizontal), forCapture: 1)
        try dataset.recordCalibration(AlignmentCalibration(mirror: .vertical), forCapture: 1)
        #expect(try dataset.captureProcessing(id: 1).calibration == AlignmentCalibration(mirror: .horizontal), "a known one stays")
        #expect(try dataset.pairsAlignedWithOtherCalibration() == [1])

        let item = try SyntheticCapture.make(index: 7, seed: 9, in: dir.appendingPathComponent("scratch"), width: 32, height: 24)
        var input = item.capture
        input.calibration = AlignmentCalibration(mirror: .horizontal)
        input.split = .train
        let capture = try dataset.ingestCapture(input)
        #expect(try dataset.captureProcessing(id: capture.id).split == .train)
    }

    /// Replacing a pair's alignment: same id, new images and verdict; old scores kept as stale, old images gone,
    /// an approval reset; the dataset stays consistent.
    @Test func replacingAnAlignmentKeepsTheOldScoresAsStale() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dataset = try makeDataset(in: dir, count: 1)
        let before = try dataset.pair("1")
        let model = try dataset.registerModel(ModelInput(name: "m", weights: nil))
        let output = try writePNG(dir.appendingPathComponent("out.png"), seed: 3)
        try dataset.recordEvaluation(EvaluationInput(pairID: 1, modelID: model.id, psnr: 30, ssim: 0.9, output: output))
        try dataset.review(pair: "1", state: .approved, note: "fine")
        let source = try writePNG(dir.appendingPathComponent("new/source.png"), seed: 11)
        let target = try writePNG(dir.appendingPathComponent("new/target.png"), seed: 12)
        let replaced = try dataset.replaceAlignment(pairID: 1, with: PairInput(
            captureID: before.capture?.id, name: before.name, source: source, target: target, verdict: .review,
            reasons: ["moved"], split: .unused, calibration: AlignmentCalibration(mirror: .horizontal)))
        #expect(replaced.id == 1)
        let after = try dataset.pair("1")
        #expect(after.key != before.key && after.verdict == .review && after.reasons == ["moved"])
        #expect(after.reviewState == .unreviewed && after.reviewNote == "fine" && after.name == before.name)
        #expect(after.evaluations.isEmpty)
        let stale = try dataset.staleScores(pairID: 1)
        #expect(stale.count == 1 && stale[0].model == "m" && stale[0].pairKey == before.key)
        #expect(stale[0].record.contains("\"psnr\":30"), "\(stale[0].record)")
        #expect(!FileManager.default.fileExists(atPath: dataset.root.appendingPathComponent(before.source.path).path))
        #expect(try dataset.pairsAlignedWithOtherCalibration(than: AlignmentCalibration(mirror: .horizontal)).isEmpty)
        let report = try dataset.verify()
        #expect(report.isConsistent, "\(report)")
        // The same images again change the figures only; nothing becomes stale.
        try dataset.replaceAlignment(pairID: 1, with: PairInput(
            captureID: before.capture?.id, name: before.name, source: source, target: target, verdict: .accepted,
            split: .test, calibration: AlignmentCalibration(mirror: .horizontal)))
        #expect(try dataset.pair("1").key == after.key && dataset.pair("1").verdict == .accepted)
        #expect(try dataset.staleScores(pairID: 1).count == 1)
    }
}
