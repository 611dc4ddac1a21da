import Foundation
import PairVocabulary
import GRDB

extension Dataset {
    /// Why a model called `name` with `weights` (nil: a baseline without weights) cannot be registered, or nil when
    /// it can: the check `registerModel` makes, for callers to make before any work starts.
    public func modelNameConflict(_ name: String, weights: URL?) throws -> String? {
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let row = try read({ db in
            try Row.fetchOne(db, sql: "SELECT weightsSHA256 FROM model WHERE name = ?", arguments: [name])
        }) else { return nil }
        let known: String? = row["weightsSHA256"]
        guard let weights else {
            return known.map { "model \(name) is already registered in \(root.path) with weights (SHA-256 \($0))" }
        }
        let sha = SHA256Hex.of(try Self.readInput(weights))
        guard known != sha else { return nil }
        return "model \(name) is already registered in \(root.path) with other weights (SHA-256 \(known ?? "none"); "
            + "\(weights.path) has \(sha))"
    }
}
