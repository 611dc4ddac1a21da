import Foundation
import GRDB
import PairVocabulary

/// What is left to do: the queries a capture pipeline resumes from. The catalogue is the queue, so an
/// interrupted run loses nothing - `rigctl process` picks up where it stopped.
extension Dataset {
    /// Captures that have no pair yet (not aligned), oldest first.
    public func capturesWithoutPair(limit: Int? = nil) throws -> [CaptureID] {
        try read { db in
            try CaptureID.fetchAll(db, sql: """
                SELECT c.id FROM capture c WHERE NOT EXISTS (SELECT 1 FROM pair p WHERE p.captureId = c.id)
                ORDER BY c.id LIMIT ?
                """, arguments: [limit ?? -1])
        }
    }

    /// The name a pair aligned from this capture gets: its scene and the capture's number within the scene,
    /// "desk-3" for the third capture of "desk", so that a name alone says what it shows. Nil for an unknown capture.
    public func pairName(forCapture id: CaptureID) throws -> String? {
        try read { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT s.name AS scene, (SELECT COUNT(*) FROM capture o WHERE o.sceneId = c.sceneId AND o.id <= c.id) AS n
                FROM capture c JOIN scene s ON s.id = c.sceneId WHERE c.id = ?
                """, arguments: [id]) else { return nil }
            return "\(row["scene"] as String)-\(row["n"] as Int)"
        }
    }

    /// The catalogued capture with this id, or nil.
    public func capture(id: CaptureID) throws -> CaptureDetail? {
        try read { db in try Self.captureDetail(id: id.rawValue, in: db) }
    }

    /// Pairs that are not rejected and have no evaluation by the model named `model` (or no such model yet),
    /// oldest first.
    public func pairsWithoutEvaluation(model: String, limit: Int? = nil) throws -> [PairID] {
        try read { db in
            try PairID.fetchAll(db, sql: """
                SELECT p.id FROM pair p WHERE p.verdict != ? AND NOT EXISTS (
                    SELECT 1 FROM evaluation e JOIN model m ON m.id = e.modelId WHERE e.pairId = p.id AND m.name = ?)
                ORDER BY p.id LIMIT ?
                """, arguments: [Verdict.rejected, model, limit ?? -1])
        }
    }

    /// Where a catalogued file lies on disk, after checking that it is a regular file reached without a symbolic
    /// link, so that readers outside this module (the pipeline, evaluate) never follow one planted in a dataset.
    public func url(of file: FileInfo) throws -> URL {
        switch try files.kind(file.path) {
        case .file: return root.appendingPathComponent(file.path)
        case .link: throw DatasetError.unsafePath(path: files.full(file.path), detail: "a symbolic link, which rigctl does not follow")
        case .special: throw DatasetError.unsafePath(path: files.full(file.path), detail: "not a regular file")
        case .directory: throw DatasetError.unreadable(path: files.full(file.path), reason: "a folder where a file is expected")
        case .missing: throw DatasetError.unreadable(path: files.full(file.path), reason: "no such file")
        }
    }

    /// The bytes of a catalogued file, read through the dataset's descriptor without following links.
    public func contents(of file: FileInfo) throws -> Data { try files.read(file.path) }
}
