import GRDB
import PairVocabulary

extension Dataset {
    /// Sets the review state (and the note, unless nil) of several pairs in one transaction: either every pair
    /// named is updated or, when one id is unknown, none is. The same update as `review(pair:state:note:)`, for the
    /// review app's batch decisions. Returns how many pairs were updated.
    @discardableResult
    public func review(pairs ids: [PairID], state: ReviewState, note: String?) throws -> Int {
        let unique = Array(Set(ids)).sorted()
        return try write { db in
            for id in unique {
                guard try Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM pair WHERE id = ?)", arguments: [id]) == true else {
                    throw DatasetError.notFound(what: "pair", id: "\(id)")
                }
                if let note {
                    try db.execute(sql: "UPDATE pair SET reviewState = ?, reviewNote = ? WHERE id = ?",
                                   arguments: [state, note, id])
                } else {
                    try db.execute(sql: "UPDATE pair SET reviewState = ? WHERE id = ?", arguments: [state, id])
                }
            }
            return unique.count
        }
    }
}
