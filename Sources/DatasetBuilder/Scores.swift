import Foundation
import GRDB
import PairVocabulary

/// One row of the `evaluation` table as the scorer needs it to decide what to reuse: the scores as `show` gives
/// them, plus the row's own ids.
public struct StoredScore: Sendable, Equatable {
    public let id: Int64
    public let outputFileID: Int64?
    public let detail: EvaluationDetail
}

/// A model's output kept in the catalogue, found by the weights that made it.
public struct StoredOutput: Sendable, Equatable {
    public let fileID: Int64
    public let file: FileInfo
    /// The inference time recorded when the output was made.
    public let seconds: Double?
}

/// The queries behind score reuse: what is already scored under a protocol, and which outputs the same weights
/// already produced.
extension Dataset {
    /// The row of this pair and model under the protocol identity, if any.
    public func score(pairID: PairID, modelID: Int64, identity: ScoreProtocol.Identity) throws -> StoredScore? {
        try read { db in
            guard let e = try Row.fetchOne(db, sql: """
                SELECT m.name AS model, e.* FROM evaluation e JOIN model m ON m.id = e.modelId
                WHERE e.pairId = ? AND e.modelId = ? AND e.framing = ? AND e.bitDepth = ? AND e.ssimConvention = ?
                  AND e.channels = ?
                """, arguments: [pairID, modelID, identity.framing.rawValue, identity.bitDepth, identity.ssim.rawValue,
                                 identity.channels.rawValue])
            else { return nil }
            return StoredScore(id: e["id"], outputFileID: e["outputFileId"], detail: try Self.evaluationDetail(e, in: db))
        }
    }

    /// The newest output of this pair made by weights with the same SHA-256 as the model's (under any name and
    /// any protocol); nil for a model without weights or when none is kept.
    public func storedOutput(pairID: PairID, modelID: Int64) throws -> StoredOutput? {
        try read { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT e.outputFileId, e.seconds FROM evaluation e JOIN model m ON m.id = e.modelId
                WHERE e.pairId = ? AND e.outputFileId IS NOT NULL
                  AND m.weightsSHA256 = (SELECT weightsSHA256 FROM model WHERE id = ?)
                ORDER BY e.evaluatedAt DESC, e.id DESC LIMIT 1
                """, arguments: [pairID, modelID]),
                let fileID: Int64 = row["outputFileId"], let file = try Self.fileInfo(fileID, in: db)
            else { return nil }
            return StoredOutput(fileID: fileID, file: file, seconds: row["seconds"])
        }
    }

    /// Pairs that are not rejected and lack a score of the model named `model` framed as `framing` (with that SSIM
    /// convention and channels) - or, with `requireLPIPS`, have one without LPIPS (scored before the LPIPS weights
    /// were installed). Oldest first.
    public func pairsWithoutScores(model: String, framing: ScoreProtocol.Framing,
                                   ssim: ScoreProtocol.SSIMConvention = .skimageUniform7,
                                   channels: ScoreProtocol.Channels = .rgb, requireLPIPS: Bool,
                                   limit: Int? = nil) throws -> [PairID] {
        try read { db in
            try PairID.fetchAll(db, sql: """
                SELECT p.id FROM pair p WHERE \(PairSQL.notRejected) AND NOT EXISTS (
                    SELECT 1 FROM evaluation e JOIN model m ON m.id = e.modelId
                    WHERE e.pairId = p.id AND m.name = ? AND e.framing = ? AND e.ssimConvention = ? AND e.channels = ?
                      AND (e.lpips IS NOT NULL OR NOT ?))
                ORDER BY p.id LIMIT ?
                """, arguments: [model, framing.rawValue, ssim.rawValue, channels.rawValue, requireLPIPS, limit ?? -1])
        }
    }
}
