import Foundation
import PairVocabulary
import GRDB

/// What a selection of pairs is for: the pairs each use may take differ.
public enum PairUse: Sendable {
    /// Accepted (or flagged for review and approved), not rejected on review: what `export` writes.
    case export
    /// Not rejected by the checks nor on review: what `evaluate --dataset` scores.
    case evaluation
}

extension Dataset {
    /// The SQL condition (on `pair p`) for the pairs `use` may take.
    static func usableClause(_ use: PairUse) -> String {
        switch use {
        case .export:
            PairSQL.exportable
        case .evaluation:
            PairSQL.evaluable
        }
    }

    /// ` AND p.split IN (...)` for a split selection (empty for `all`), with its arguments.
    static func splitClause(_ selection: SplitSelection) -> (String, StatementArguments) {
        guard let splits = selection.splits else { return ("", []) }
        return (" AND p.split IN (" + splits.map { _ in "?" }.joined(separator: ", ") + ")",
                StatementArguments(splits.map(\.rawValue)))
    }

    /// Why `selection` holds no pair that `use` may take, as one sentence that names the way out (for example
    /// "6 accepted pairs have no split yet; run `rigctl dataset split` or pass `--split unused`"); nil when it holds
    /// some.
    public func emptySelectionReason(_ selection: SplitSelection, for use: PairUse) throws -> String? {
        let verb = use == .export ? "export" : "evaluate"
        let (total, usable, unusable) = try read { db in
            let total = try Int.fetchOne(db, sql: "SELECT count(*) FROM pair") ?? 0
            var usable: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT p.split, count(*) FROM pair p WHERE \(Self.usableClause(use)) GROUP BY p.split") {
                usable[row[0]] = row[1]
            }
            var unusable: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT \(PairSQL.unusableReason), count(*)
                FROM pair p WHERE NOT (\(Self.usableClause(use))) GROUP BY 1
                """) {
                unusable[row[0]] = row[1]
            }
            return (total, usable, unusable)
        }
        let inSelection = selection.splits.map { splits in splits.reduce(0) { sum, split in sum + (usable[split.rawValue] ?? 0) } }
            ?? usable.values.reduce(0, +)
        guard inSelection == 0 else { return nil }
        let place = selection == .all ? "" : " in the \(selection.rawValue) split"
        if total == 0 { return "nothing to \(verb): the dataset \(root.path) holds no pairs yet" }
        if usable.values.reduce(0, +) == 0 {
            let why = unusable.keys.sorted().map { "\(unusable[$0] ?? 0) \($0)" }.joined(separator: ", ")
            return "nothing to \(verb): none of the \(total) pairs can be used (\(why)); see `rigctl dataset list`"
                + (unusable["awaiting a reviewer's approval"] != nil ? " and approve pairs with `rigctl review`" : "")
        }
        // The pairs exist but sit in other splits: say where, and how to take them.
        var clauses: [String] = []
        for split in [Split.unused, .train, .test] {
            guard let n = usable[split.rawValue], n > 0 else { continue }
            let noun = clauses.isEmpty ? (n == 1 ? " accepted pair" : " accepted pairs") : ""
            let verbPhrase = split == .unused ? (n == 1 ? " has no split yet" : " have no split yet")
                : (n == 1 ? " is in the \(split.rawValue) split" : " are in the \(split.rawValue) split")
            clauses.append("\(n)\(noun)\(verbPhrase)")
        }
        let way = (usable[Split.unused.rawValue] ?? 0) > 0
            ? "run `rigctl dataset split` or pass `--split unused`"
            : "pass `--split " + ([Split.train, .test].first { (usable[$0.rawValue] ?? 0) > 0 }?.rawValue ?? "all") + "` or `--split all`"
        let list = clauses.count <= 1 ? clauses.joined()
            : clauses.dropLast().joined(separator: ", ") + " and " + (clauses.last ?? "")
        return "nothing to \(verb)\(place): \(list); \(way)"
    }

    /// The pairs `evaluate --dataset` scores: of `selection`, rejected neither by the checks nor on review, oldest
    /// first; with none, why, as one sentence that names the way out (see `emptySelectionReason`).
    public func pairsToEvaluate(_ selection: SplitSelection) throws -> (pairs: [PairDetail], emptyReason: String?) {
        var filter = PairFilter()
        if case .only(let split) = selection { filter.split = split }
        let pairs = try self.pairs(filter).filter { $0.verdict != .rejected }.map { try pair(id: $0.id) }
            .filter { $0.reviewState != .rejected }
        guard pairs.isEmpty else { return (pairs, nil) }
        return ([], try emptySelectionReason(selection, for: .evaluation))
    }
}
