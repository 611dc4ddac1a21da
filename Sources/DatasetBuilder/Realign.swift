import Foundation
import PairVocabulary
import GRDB

/// How a capture is to be processed, as recorded with it (see the `v5-capture-calibration` migration).
public struct CaptureProcessing: Sendable, Equatable {
    /// The alignment calibration the capture was taken with; nil when unknown (older captures).
    public let calibration: AlignmentCalibration?
    /// The split the capture asked for; nil when it left that to the scene.
    public let split: Split?
    /// The side the capture's scene is on: the split of its other pairs when those are all train or all test.
    public let sceneSplit: Split?
    /// The skew measured for the capture (seconds, target minus source) and the most its rig file allowed; nil
    /// when not recorded (the limit: none was set, or the capture predates v12).
    public var skew: Double? = nil
    public var maxSkew: Double? = nil
}

/// A score computed on aligned images that re-aligning replaced: kept, but no longer the pair's.
public struct StaleScore: Sendable, Equatable {
    public let model: String
    /// The key of the aligned images the score was computed on.
    public let pairKey: String
    public let staleSince: Date
    /// The evaluation row as it was, column by column, as JSON.
    public let record: String
}

extension Dataset {
    public func captureProcessing(id: CaptureID) throws -> CaptureProcessing {
        try read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT calibration, split, sceneId, skew, maxSkew FROM capture WHERE id = ?",
                                             arguments: [id]) else {
                throw DatasetError.notFound(what: "capture", id: "\(id)")
            }
            let sides = try String.fetchAll(db, sql: "SELECT DISTINCT split FROM pair WHERE sceneId = ? AND split != ?",
                                            arguments: [row["sceneId"] as Int64, Split.unused.rawValue])
            var calibration: AlignmentCalibration?
            if let text: String = row["calibration"] {
                do {
                    calibration = try AlignmentCalibration(canonicalJSON: text)
                } catch let error as DecodingError {
                    throw DatasetError.database("capture \(id)'s recorded calibration cannot be read (\(error.located))")
                }
            }
            return CaptureProcessing(calibration: calibration,
                                     split: (row["split"] as String?).flatMap(Split.init(rawValue:)),
                                     sceneSplit: sides.count == 1 ? Split(rawValue: sides[0]) : nil,
                                     skew: row["skew"], maxSkew: row["maxSkew"])
        }
    }

    /// Records the calibration of a capture whose calibration is unknown (one made before it was recorded). A
    /// known calibration is never changed: it is how the capture was taken.
    public func recordCalibration(_ calibration: AlignmentCalibration, forCapture id: CaptureID) throws {
        try write { db in
            try db.execute(sql: "UPDATE capture SET calibration = ? WHERE id = ? AND calibration IS NULL",
                           arguments: [calibration, id])
        }
    }

    /// Captured pairs whose verdict was reached with another calibration than `calibration`, or, when that is nil,
    /// than the one their capture was taken with (captures whose calibration is unknown are left out). A pair
    /// aligned with an unknown calibration counts as aligned with another one. Oldest first.
    public func pairsAlignedWithOtherCalibration(than calibration: AlignmentCalibration? = nil) throws -> [PairID] {
        try read { db in
            if let calibration {
                return try PairID.fetchAll(db, sql: """
                    SELECT id FROM pair WHERE captureId IS NOT NULL AND (calibration IS NULL OR calibration != ?)
                    ORDER BY id
                    """, arguments: [calibration])
            }
            return try PairID.fetchAll(db, sql: """
                SELECT p.id FROM pair p JOIN capture c ON c.id = p.captureId
                WHERE c.calibration IS NOT NULL AND (p.calibration IS NULL OR p.calibration != c.calibration)
                ORDER BY p.id
                """)
        }
    }

    /// Replaces a captured pair's alignment - its aligned images, homography, colour model, crop, quality figures,
    /// verdict, reasons, split and calibration - in one crash-safe step; the pair keeps its id, name, scene, capture
    /// and review note. When the images change, the scores computed on the old ones move to `staleEvaluation`
    /// (kept, but no longer the pair's, so `process` scores it again), the old images are removed, and an approval
    /// is reset to unreviewed (it was given to images that no longer exist; a reviewer's flag or rejection stands).
    @discardableResult
    public func replaceAlignment(pairID: PairID, with input: PairInput) throws -> Ingested<PairID> {
        try requireWritable()
        try Self.validateAlignment(input)
        let (files, paths, key) = try Self.pairFiles(input, preloaded: nil)
        guard let oldKey = try read({ db in
            try String.fetchOne(db, sql: "SELECT contentKey FROM pair WHERE id = ?", arguments: [pairID])
        }) else { throw DatasetError.notFound(what: "pair", id: "\(pairID)") }
        let changed = key != oldKey
        if changed, let other = try read({ db in
            try Int64.fetchOne(db, sql: "SELECT id FROM pair WHERE contentKey = ?", arguments: [key])
        }) {
            throw DatasetError.invalidInput("pair \(pairID): the re-aligned images are already catalogued as pair \(other)")
        }
        let quality = try JSONText.encode(input.quality)
        let reasons = try JSONText.encode(input.reasons)
        let homography = try input.homography.map { try JSONText.encode($0.m) }
        let colourParameters = try input.colour.map { try JSONText.encode($0.parameters) }
        try commitStep(changed ? files : []) { db, fileIDs in
            if changed {
                func id(_ role: PairImageRole) -> Int64? { paths[role].flatMap { fileIDs[$0] } }
                let old = try Row.fetchOne(db, sql: "SELECT sourceFileId, targetFileId, leftFileId, rightFileId FROM pair WHERE id = ?",
                                           arguments: [pairID])
                try db.execute(sql: """
                    UPDATE pair SET contentKey = ?, sourceFileId = ?, targetFileId = ?, leftFileId = ?, rightFileId = ?,
                        reviewState = \(PairSQL.reviewAfterRealign)
                    WHERE id = ?
                    """, arguments: [key, id(.source), id(.target), id(.left), id(.right), pairID])
                try Self.retireScores(pairID: pairID.rawValue, pairKey: oldKey, in: db)
                for column in ["sourceFileId", "targetFileId", "leftFileId", "rightFileId"] {
                    let fileID: Int64? = old.flatMap { $0[column] }
                    try Self.release(fileID: fileID, in: db)
                }
            }
            try db.execute(sql: """
                UPDATE pair SET homography = ?, colourModel = ?, colourParameters = ?, colourResidual = ?,
                    cropX = ?, cropY = ?, cropWidth = ?, cropHeight = ?, quality = ?, verdict = ?, reasons = ?, split = ?,
                    calibration = ?
                WHERE id = ?
                """, arguments: [homography, input.colour?.model, colourParameters, input.colour?.residual,
                                 input.crop?.x, input.crop?.y, input.crop?.width, input.crop?.height, quality,
                                 input.verdict, reasons, input.split, input.calibration, pairID])
        }
        sweepBetweenSteps()
        return Ingested(id: pairID, created: false)
    }

    /// Moves a pair's scores to `staleEvaluation`, each row whole as JSON (whatever columns it has), with the key
    /// of the images it was computed on. Their output files stay catalogued.
    static func retireScores(pairID: Int64, pairKey: String, in db: Database) throws {
        let now = Date()
        for row in try Row.fetchAll(db, sql: """
            SELECT m.name AS modelName, e.* FROM evaluation e JOIN model m ON m.id = e.modelId WHERE e.pairId = ?
            """, arguments: [pairID]) {
            var record: [String: Any] = [:]
            for (column, value) in row {
                switch value.storage {
                case .null: record[column] = NSNull()
                case .int64(let v): record[column] = v
                case .double(let v): record[column] = v.isFinite ? v : "\(v)"
                case .string(let v): record[column] = v
                case .blob(let v): record[column] = v.base64EncodedString()
                }
            }
            let json = String(decoding: try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]), as: UTF8.self)
            try db.execute(sql: """
                INSERT INTO staleEvaluation (pairId, pairKey, model, outputFileId, record, staleSince) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [pairID, pairKey, row["modelName"] as String, row["outputFileId"] as Int64?, json, now])
        }
        try db.execute(sql: "DELETE FROM evaluation WHERE pairId = ?", arguments: [pairID])
    }

    /// The scores of a pair that re-aligning made stale, oldest first.
    public func staleScores(pairID: PairID) throws -> [StaleScore] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM staleEvaluation WHERE pairId = ? ORDER BY id", arguments: [pairID]).map {
                StaleScore(model: $0["model"], pairKey: $0["pairKey"], staleSince: $0["staleSince"], record: $0["record"])
            }
        }
    }
}
