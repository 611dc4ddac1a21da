import Foundation
import GRDB

/// A scene's tags (indoor/outdoor, say): every pair of the scene carries them, so `evaluate --by tag` can report
/// a table per tag, as Restormer reports DPDD's indoor and outdoor scenes.
extension Dataset {
    /// Adds `add` and removes `remove` from the scene's tags, and returns the tags it has then. A tag must be a
    /// short name without control characters; an unknown scene is refused.
    @discardableResult
    public func tag(scene name: String, add: [String], remove: [String] = []) throws -> [String] {
        for tag in add + remove {
            let trimmed = tag.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty, trimmed == tag, tag.utf8.count <= 100,
                  !tag.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw DatasetError.invalidInput("tag '\(tag)': a tag is a name of 1 to 100 bytes without leading or trailing spaces or control characters")
            }
        }
        return try write { db in
            guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM scene WHERE name = ?", arguments: [name]) else {
                throw DatasetError.notFound(what: "scene", id: name)
            }
            for tag in add {
                try db.execute(sql: "INSERT OR IGNORE INTO sceneTag (sceneId, tag) VALUES (?, ?)", arguments: [id, tag])
            }
            for tag in remove {
                try db.execute(sql: "DELETE FROM sceneTag WHERE sceneId = ? AND tag = ?", arguments: [id, tag])
            }
            return try String.fetchAll(db, sql: "SELECT tag FROM sceneTag WHERE sceneId = ? ORDER BY tag", arguments: [id])
        }
    }
}
