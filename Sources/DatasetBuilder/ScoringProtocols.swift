import Foundation
import GRDB
import PairVocabulary

/// The evaluation protocols a dataset's pairs are scored in as they are captured or processed: a lab that
/// publishes in IFAN's and RealBlur's conventions configures both once, and every pair gets a row in each.
extension Dataset {
    /// What a dataset that configured none is scored in: the whole image at the stored pairs' bit depth, as the
    /// capture pipeline always scored (DPDNet's conventions).
    public static let defaultScoringProtocols: [EvaluationProtocol] = [.dpdd]

    /// The configured protocols in order (the first is the one progress lines show), or the default. A name this
    /// rigctl does not know (written by a newer one) is an error that names it, not a protocol silently skipped.
    public func scoringProtocols() throws -> [EvaluationProtocol] {
        let names = try read { db -> [String] in
            // A catalogue from before v10 (opened read-only) configures none.
            guard try db.tableExists("scoringProtocol") else { return [] }
            return try String.fetchAll(db, sql: "SELECT name FROM scoringProtocol ORDER BY position")
        }
        if names.isEmpty { return Self.defaultScoringProtocols }
        return try names.map { name in
            guard let known = EvaluationProtocol(rawValue: name) else {
                throw DatasetError.invalidInput("the catalogue names a scoring protocol this rigctl does not know: '\(name)' "
                                                + "(known: \(EvaluationProtocol.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return known
        }
    }

    /// Whether the dataset names its protocols (false: it is scored in the default).
    public func configuresScoringProtocols() throws -> Bool {
        try read { db in
            try db.tableExists("scoringProtocol") && (try Int.fetchOne(db, sql: "SELECT count(*) FROM scoringProtocol") ?? 0) > 0
        }
    }

    /// Replaces the configured protocols (at least one, none twice). Scores already recorded stay; pairs lack the
    /// new protocols' rows until `rigctl process` adds them.
    public func setScoringProtocols(_ protocols: [EvaluationProtocol]) throws {
        guard !protocols.isEmpty else { throw DatasetError.invalidInput("give at least one scoring protocol") }
        guard Set(protocols).count == protocols.count else {
            throw DatasetError.invalidInput("a scoring protocol is given twice: \(protocols.map(\.rawValue).joined(separator: ","))")
        }
        try write { db in
            try db.execute(sql: "DELETE FROM scoringProtocol")
            for (position, named) in protocols.enumerated() {
                try db.execute(sql: "INSERT INTO scoringProtocol (name, position) VALUES (?, ?)",
                               arguments: [named.rawValue, position])
            }
        }
    }
}
