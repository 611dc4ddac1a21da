import PairVocabulary
import TestSupport
import DatasetBuilder
import Foundation
import GRDB
import Testing

@Suite struct ScoreProtocolTests {
    static let whole16 = ScoreProtocol(framing: .whole, bitDepth: 16, lpips: nil)
    static let crop16 = ScoreProtocol(framing: .cropToMultipleOf8, bitDepth: 16, lpips: ScoreProtocol.lpipsV01Alex)

    /// Another protocol adds a row beside the first; the same protocol replaces its own row; no output is dropped.
    @Test func anotherProtocolAddsARowAndOutputsStay() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dataset = try makeDataset(in: dir, count: 1)
        let weights = try writePNG(dir.appendingPathComponent("w.weights"), seed: 7)
        let model = try dataset.registerModel(ModelInput(name: "ifan", weights: weights))
        let out = try writePNG(dir.appendingPathComponent("out.png"), seed: 3)
        try dataset.recordEvaluation(EvaluationInput(pairID: 1, modelID: model.id, psnr: 31.34, ssim: 0.9, output: out,
                                                     scoreProtocol: Self.whole16,
                                                     missing: ["lpips": "LPIPS weights not installed"]))
        let stored = try #require(try dataset.storedOutput(pairID: 1, modelID: model.id))
        // evaluate's crop-8 scores of the same output: a second row, pointing at the same output file.
        let cropped = try dataset.recordEvaluation(EvaluationInput(pairID: 1, modelID: model.id, psnr: 31.33, ssim: 0.9,
                                                                   lpips: 0.2, outputFileID: stored.fileID,
                                                                   scoreProtocol: Self.crop16))
        #expect(cropped.created)
        let rows = try dataset.pair("1").evaluations
        #expect(rows.count == 2)
        let whole = try #require(rows.first { $0.scoreProtocol?.framing == .whole })
        let crop = try #require(rows.first { $0.scoreProtocol?.framing == .cropToMultipleOf8 })
        #expect(whole.psnr == 31.34 && crop.psnr == 31.33, "the capture's whole-image score is not overwritten")
        #expect(whole.output == crop.output && whole.output != nil)
        #expect(whole.missing == ["lpips": "LPIPS weights not installed"] && crop.missing.isEmpty)
        #expect(crop.scoreProtocol?.lpips == "v0.1 alex" && crop.scoreProtocol?.rigctlVersion == RigctlRelease.number)
        #expect(whole.evaluatedAt != nil)

        // The same protocol again (LPIPS completed, no output given): the row is updated and keeps its output.
        let again = try dataset.recordEvaluation(EvaluationInput(pairID: 1, modelID: model.id, psnr: 31.34, ssim: 0.9,
                                                                 lpips: 0.21, scoreProtocol: ScoreProtocol(
                                                                    framing: .whole, bitDepth: 16, lpips: "v0.1 alex")))
        #expect(!again.created)
        let completed = try #require(try dataset.pair("1").evaluations.first { $0.scoreProtocol?.framing == .whole })
        #expect(completed.lpips == 0.21 && completed.missing.isEmpty && completed.output == whole.output)
        #expect(try dataset.pairsWithoutScores(model: "ifan", framing: .whole, requireLPIPS: true).isEmpty)
        #expect(try dataset.verify().isConsistent)
    }

    /// RealBlur's, BasicSR's Y and IQA-PyTorch's Y protocols share framing, bit depth and SSIM convention; the
    /// channels keep their rows apart (v11; `y-yiq` needs no schema change), and each is found again by its own identity.
    @Test func lumaRowsSitBesideRGBRows() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dataset = try makeDataset(in: dir, count: 1)
        let input = try dataset.registerModel(ModelInput(name: "input", weights: nil))
        let rgb = ScoreProtocol(framing: .whole, bitDepth: 8, ssim: .gaussian11, lpips: nil)
        var luma = rgb
        luma.channels = .lumaBT601
        var yiq = rgb
        yiq.channels = .lumaYIQ
        #expect(rgb.named == .realblur && luma.named == .basicsrY && yiq.named == .pyiqaY)
        #expect(try dataset.recordEvaluation(EvaluationInput(pairID: 1, modelID: input.id, psnr: 30, ssim: 0.8,
                                                             scoreProtocol: rgb)).created)
        #expect(try dataset.recordEvaluation(EvaluationInput(pairID: 1, modelID: input.id, psnr: 32, ssim: 0.9,
                                                             scoreProtocol: luma)).created)
        #expect(try dataset.score(pairID: 1, modelID: input.id, identity: rgb.identity)?.detail.psnr == 30)
        #expect(try dataset.score(pairID: 1, modelID: input.id, identity: luma.identity)?.detail.psnr == 32)
        #expect(try dataset.pairsWithoutScores(model: "input", framing: .whole, ssim: .gaussian11, channels: .lumaYIQ,
                                               requireLPIPS: false) == [1])
        #expect(try dataset.recordEvaluation(EvaluationInput(pairID: 1, modelID: input.id, psnr: 31, ssim: 0.85,
                                                             scoreProtocol: yiq)).created)
        #expect(try dataset.score(pairID: 1, modelID: input.id, identity: yiq.identity)?.detail.psnr == 31)
        #expect(try dataset.score(pairID: 1, modelID: input.id, identity: luma.identity)?.detail.psnr == 32)
        #expect(try dataset.pair("1").evaluations.compactMap(\.scoreProtocol?.channels).sorted { $0.rawValue < $1.rawValue }
                == [.rgb, .lumaBT601, .lumaYIQ])
        #expect(try dataset.pairsWithoutScores(model: "input", framing: .whole, ssim: .gaussian11, channels: .lumaBT601,
                                               requireLPIPS: false).isEmpty)
    }

    /// A catalogue written by the previous schema (one row per pair and model, no protocol) opens, keeps every row
    /// and gets the protocol each row was computed with: the pipeline's whole 16-bit rows (an output kept, or the
    /// input with seconds 0) and evaluate's crop-8 rows (no output, timed input).
    @Test func v4MigrationCarriesRowsForwardWithTheirProtocol() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let root: URL
        do {
            let dataset = try makeDataset(in: dir, count: 2)
            root = dataset.root
            let input = try dataset.registerModel(ModelInput(name: "input", weights: nil))
            let model = try dataset.registerModel(ModelInput(name: "ifan", weights: try writePNG(dir.appendingPathComponent("w"), seed: 9)))
            let out = try writePNG(dir.appendingPathComponent("out.png"), seed: 4)
            // Pair 1 as capture left it; pair 2 as evaluate left it.
            try dataset.recordEvaluation(EvaluationInput(pairID: 1, modelID: input.id, psnr: 30, ssim: 0.8, seconds: 0))
            try dataset.recordEvaluation(EvaluationInput(pairID: 1, modelID: model.id, psnr: 31.34, ssim: 0.85, lpips: 0.3,
                                                         seconds: 2, output: out))
            try dataset.recordEvaluation(EvaluationInput(pairID: 2, modelID: input.id, psnr: 29, ssim: 0.7, seconds: 0.00001))
            try dataset.recordEvaluation(EvaluationInput(pairID: 2, modelID: model.id, psnr: 31.33, ssim: 0.84, lpips: 0.31,
                                                         seconds: 3))
        }
        // Take the catalogue back to v3: the v1 evaluation table, exactly as the previous release created it.
        let queue = try DatabaseQueue(path: root.appendingPathComponent(Dataset.catalogName).path)
        try queue.write { db in
            // The views of v7 read the evaluation table: they go too, and come back with v7 after v4.
            try db.execute(sql: """
                DROP VIEW sceneScores; DROP VIEW pairsNeedingReview; DROP VIEW pairAlignment;
                DELETE FROM grdb_migrations WHERE identifier = 'v7-views';
                """)
            try db.execute(sql: """
                CREATE TABLE evaluation_v3 (
                    id INTEGER PRIMARY KEY,
                    pairId INTEGER NOT NULL REFERENCES pair(id),
                    modelId INTEGER NOT NULL REFERENCES model(id),
                    outputFileId INTEGER REFERENCES file(id),
                    psnr DOUBLE NOT NULL, ssim DOUBLE NOT NULL, ssimGaussian DOUBLE, mae DOUBLE, lpips DOUBLE,
                    seconds DOUBLE, evaluatedAt DATETIME NOT NULL,
                    UNIQUE (pairId, modelId)
                );
                INSERT INTO evaluation_v3 SELECT id, pairId, modelId, outputFileId, psnr, ssim, ssimGaussian, mae, lpips,
                                                 seconds, evaluatedAt FROM evaluation;
                DROP TABLE evaluation;
                ALTER TABLE evaluation_v3 RENAME TO evaluation;
                CREATE INDEX evaluation_model ON evaluation(modelId);
                DELETE FROM grdb_migrations WHERE identifier = 'v4-score-protocol';
                -- v11 rebuilt the table v4 makes again: it runs again after v4 (and v7), on the carried rows.
                DELETE FROM grdb_migrations WHERE identifier = 'v11-score-channels';
                """)
        }
        try queue.close()

        let reopened = try Dataset.open(at: root)
        #expect(try reopened.status().evaluations == 4)
        func row(_ pair: String, _ model: String) throws -> EvaluationDetail {
            try #require(try reopened.pair(pair).evaluations.first { $0.model == model })
        }
        let captureInput = try row("1", "input"), captureModel = try row("1", "ifan")
        let evalInput = try row("2", "input"), evalModel = try row("2", "ifan")
        #expect(captureInput.scoreProtocol?.framing == .whole && captureInput.scoreProtocol?.bitDepth == 16)
        #expect(captureModel.scoreProtocol?.framing == .whole && captureModel.output != nil)
        #expect(evalInput.scoreProtocol?.framing == .cropToMultipleOf8)
        #expect(evalModel.scoreProtocol?.framing == .cropToMultipleOf8)
        // The synthetic pairs are 8-bit PNGs, which the file table records.
        #expect(evalModel.scoreProtocol?.bitDepth == 8)
        #expect(captureModel.psnr == 31.34 && evalModel.psnr == 31.33)
        #expect(captureModel.scoreProtocol?.lpips == "v0.1 alex" && captureInput.scoreProtocol?.lpips == nil)
        #expect(captureInput.missing["lpips"]?.contains("not installed") == true)
        #expect(captureInput.scoreProtocol?.ssim == .skimageUniform7)
        #expect(captureInput.scoreProtocol?.rigctlVersion.contains("before v4") == true)
        #expect(captureInput.scoreProtocol?.channels == .rgb && evalModel.scoreProtocol?.channels == .rgb)
        #expect(try reopened.verify().isConsistent)
        // v7's view, rebuilt by v11 with the channels column, reads the carried rows.
        let viewRows = try DatabaseQueue(path: root.appendingPathComponent(Dataset.catalogName).path).read { db in
            try String.fetchAll(db, sql: "SELECT channels FROM sceneScores")
        }
        #expect(viewRows.count == 4 && viewRows.allSatisfy { $0 == "rgb" })
        // And a new protocol now adds rows to a migrated catalogue.
        let model = try reopened.registerModel(ModelInput(name: "ifan", weights: dir.appendingPathComponent("w")))
        #expect(try reopened.recordEvaluation(EvaluationInput(pairID: 1, modelID: model.id, psnr: 31.3, ssim: 0.85,
                                                              scoreProtocol: Self.crop16)).created)
    }
}
