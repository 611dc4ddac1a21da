import Foundation
import PairVocabulary
import GRDB

/// A model name the dataset already gives other weights (or, for a baseline, weights at all): found before any
/// work starts, so that a run does not end with a registration that fails.
public struct ModelNameConflict: Error, Sendable, Equatable, CustomStringConvertible {
    public let name: String
    public let dataset: String
    /// SHA-256 of the weights the dataset has under the name; nil: it is a baseline there.
    public let registered: String?
    /// The weights offered under the name and their SHA-256; nil: a baseline was offered.
    public let offered: (path: String, sha256: String)?

    public static func == (a: ModelNameConflict, b: ModelNameConflict) -> Bool {
        a.name == b.name && a.dataset == b.dataset && a.registered == b.registered
            && a.offered?.path == b.offered?.path && a.offered?.sha256 == b.offered?.sha256
    }

    public var description: String {
        guard let offered else {
            return "model \(name) is already registered in \(dataset) with weights (SHA-256 \(registered ?? "none"))"
        }
        return "model \(name) is already registered in \(dataset) with other weights (SHA-256 \(registered ?? "none"); "
            + "\(offered.path) has \(offered.sha256))"
    }
}

extension Dataset {
    /// The clash `registerModel` would report for a model called `name` with `weights` (nil: a baseline without
    /// weights), or nil when it can be registered; for callers to check before any work starts.
    public func modelNameConflict(_ name: String, weights: URL?) throws -> ModelNameConflict? {
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let row = try read({ db in
            try Row.fetchOne(db, sql: "SELECT weightsSHA256 FROM model WHERE name = ?", arguments: [name])
        }) else { return nil }
        let known: String? = row["weightsSHA256"]
        guard let weights else {
            return known.map { ModelNameConflict(name: name, dataset: root.path, registered: $0, offered: nil) }
        }
        let sha = SHA256Hex.of(try Self.readInput(weights))
        guard known != sha else { return nil }
        return ModelNameConflict(name: name, dataset: root.path, registered: known, offered: (weights.path, sha))
    }
}
