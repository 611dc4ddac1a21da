import DatasetBuilder
import Foundation
import Hummingbird
import WebServing
import PairVocabulary

/// The queue's filter and sort as they appear in URLs (`verdict`, `review`, `scene`, `split`, `where`, `sort`,
/// `order`, `limit`, `offset`), shared by the pages and the API so a page's address is also its API query.
extension ReviewQuery {
    init(items: QueryItems, defaultLimit: Int = 100) throws {
        self.init()
        if let v = items["verdict"] {
            guard let verdict = Verdict(rawValue: v) else { throw HTTPFailure.badRequest("unknown verdict \(v)") }
            self.verdict = verdict
        }
        if let v = items["review"] {
            guard let review = ReviewState(rawValue: v) else { throw HTTPFailure.badRequest("unknown review state \(v)") }
            self.review = review
        }
        if let v = items["split"] {
            guard let split = Split(rawValue: v) else { throw HTTPFailure.badRequest("unknown split \(v)") }
            self.split = split
        }
        scene = items["scene"]
        if let v = items["where"] {
            do { conditions = try ReviewCondition.parseList(v) } catch { throw HTTPFailure.badRequest("\(error)") }
            guard conditions.count <= Self.maxConditions else {
                throw HTTPFailure.badRequest("where= holds at most \(Self.maxConditions) conditions, not \(conditions.count)")
            }
        }
        if let v = items["sort"] {
            guard let field = ReviewSortField(v) else { throw HTTPFailure.badRequest("cannot sort by \(v)") }
            sort = field
        }
        switch items["order"] {
        case nil, "asc": descending = false
        case "desc": descending = true
        case let other?: throw HTTPFailure.badRequest("order is asc or desc, not \(other)")
        }
        limit = defaultLimit
        if let v = items["limit"] {
            guard let n = Int(v), (1...1000).contains(n) else { throw HTTPFailure.badRequest("limit is 1 to 1000") }
            limit = n
        }
        if let v = items["offset"] {
            guard let n = Int(v), (0...Self.maxOffset).contains(n) else {
                throw HTTPFailure.badRequest("offset is 0 to \(Self.maxOffset)")
            }
            offset = n
        }
    }

    /// The largest offset a URL may ask for: far past any catalogue, and small enough that offset + limit and the
    /// pager's sums cannot overflow.
    static let maxOffset = 1_000_000_000
    /// The most `where` conditions a URL may carry (each becomes a clause of the catalogue's query).
    static let maxConditions = 32

    /// The URL query for this filter and sort (paging left out unless asked for), in a fixed order.
    func queryString(includePaging: Bool = false, offset: Int? = nil) -> String {
        var parts: [(String, String)] = []
        if let verdict { parts.append(("verdict", verdict.rawValue)) }
        if let review { parts.append(("review", review.rawValue)) }
        if let scene { parts.append(("scene", scene)) }
        if let split { parts.append(("split", split.rawValue)) }
        if !conditions.isEmpty { parts.append(("where", ReviewCondition.listText(conditions))) }
        if sort != .id { parts.append(("sort", sort.text)) }
        if descending { parts.append(("order", "desc")) }
        if includePaging {
            if limit != 100 { parts.append(("limit", "\(limit)")) }
            let o = offset ?? self.offset
            if o > 0 { parts.append(("offset", "\(o)")) }
        }
        return parts.map { "\($0.0)=\(URLText.component($0.1))" }.joined(separator: "&")
    }
}

/// Runs blocking catalogue and image work on a Dispatch thread, keeping Swift's few cooperative threads free to
/// serve other requests while a large image decodes.
func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}
