import DatasetBuilder
import Foundation
import PairVocabulary
import WebServing

/// What the review server reads from a request before it touches the catalogue, as pure values: the routes parse
/// with these, and the `review` fuzz target (Fuzz/FuzzTargets) feeds them arbitrary bytes. Every number is parsed
/// into a checked range; anything else is an `HTTPFailure` (400, 404 or 415), never a trap.

/// `image/KIND?size=N&format=png|jpeg&model=NAME`.
struct ImageRequest: Equatable {
    let kind: PairImageKind
    let size: Int?
    let encoding: PairImageEncoding
    let model: String?

    init(kind text: String, items: QueryItems) throws {
        guard let kind = PairImageKind(rawValue: text) else {
            throw HTTPFailure.notFound("no image kind \(text); kinds: " + PairImageKind.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self.kind = kind
        size = try items["size"].map { text in
            guard let n = Int(text), (16...16384).contains(n) else { throw HTTPFailure.badRequest("size is 16 to 16384") }
            return n
        }
        switch items["format"] {
        case nil, "png": encoding = .png
        case "jpeg", "jpg": encoding = .jpeg
        case let other?: throw HTTPFailure.badRequest("format is png or jpeg, not \(other)")
        }
        model = items["model"]
        guard kind == .output || model == nil else { throw HTTPFailure.badRequest("model= goes with the output image only") }
    }
}

/// The body of `POST /api/pairs/ID/review`.
struct ReviewDecision: Decodable, Equatable {
    let state: ReviewState
    let note: String?

    static let usage = "{\"state\": \"approved\"|\"rejected\"|\"flagged\"|\"unreviewed\", \"note\": \"...\"}"

    init(json: Data) throws {
        let decoded: ReviewDecision
        do { decoded = try JSONDecoder().decode(Self.self, from: json) } catch { throw HTTPFailure.badRequest("expected \(Self.usage)") }
        try ReviewDecision.checkNote(decoded.note)
        self = decoded
    }

    /// A note is stored whole or not at all: U+0000 would end it early in C strings on the way to SQLite.
    static func checkNote(_ note: String?) throws {
        if let note, note.unicodeScalars.contains("\u{0}") {
            throw HTTPFailure.badRequest("a note may not contain U+0000")
        }
    }
}

/// The body of `POST /api/review`: a decision on listed pairs, or on every pair a queue filter matches (with the
/// count the person confirmed).
struct BatchDecision: Equatable {
    enum Target: Equatable {
        case ids([PairID])
        case filter(ReviewQuery)
    }

    let target: Target
    /// The number of pairs the person confirmed (required with a filter): a batch that would touch another number
    /// changes nothing.
    let expected: Int?
    let state: ReviewState
    let note: String?

    private struct Body: Decodable {
        let ids: [PairID]?
        let filter: String?
        let expected: Int?
        let state: ReviewState
        let note: String?
    }

    static let usage = """
        {"ids": [1, 2, ...] or "filter": "verdict=review&...", "expected": N, "state": "approved"|"rejected"|"flagged"|"unreviewed", "note": "..."}
        """

    init(json: Data) throws {
        let body: Body
        do { body = try JSONDecoder().decode(Body.self, from: json) } catch { throw HTTPFailure.badRequest("expected \(Self.usage)") }
        try ReviewDecision.checkNote(body.note)
        switch (body.ids, body.filter) {
        case (let ids?, nil):
            guard !ids.isEmpty else { throw HTTPFailure.badRequest("ids is empty: name at least one pair") }
            target = .ids(ids)
        case (nil, let filter?):
            guard body.expected != nil else {
                throw HTTPFailure.badRequest("a filtered batch needs \"expected\": the number of pairs confirmed")
            }
            var q = try ReviewQuery(items: QueryItems(filter))
            q.offset = 0
            target = .filter(q)
        default:
            throw HTTPFailure.badRequest("give either ids or filter, not both or neither")
        }
        expected = body.expected
        state = body.state
        note = body.note
    }
}

/// The parsers as one function of bytes, for the fuzzer.
public enum RequestParsing {
    /// What the parsers accepted of one request.
    public struct Outcome: Sendable, Equatable {
        public var pairID: PairID?
        public var query = false
        /// The image kinds whose route would take this query.
        public var imageKinds: [String] = []
        public var decision = false
        public var batch = false

        public init(pairID: PairID? = nil, query: Bool = false, imageKinds: [String] = [], decision: Bool = false,
                    batch: Bool = false) {
            self.pairID = pairID
            self.query = query
            self.imageKinds = imageKinds
            self.decision = decision
            self.batch = batch
        }
    }

    /// `exercise` on one input of the `review` fuzz target: path, query, Content-Type and body separated by NUL
    /// bytes (the body is the rest, NULs included); a missing part is absent.
    public static func exercise(_ data: Data) -> Outcome {
        let parts = data.split(separator: 0, maxSplits: 3, omittingEmptySubsequences: false)
        func text(_ i: Int) -> String? { i < parts.count ? String(decoding: parts[i], as: UTF8.self) : nil }
        return exercise(path: text(0) ?? "", query: text(1), contentType: text(2),
                        body: parts.count > 3 ? Data(parts[3]) : Data())
    }

    /// Runs a request's parts through every parser the routes use: the path's pair id, the query as the queue,
    /// the API and the image route read it, and the body as a single and a batch decision. It also checks that an
    /// accepted query survives its own URL form (`queryString`, which the pages' links are made of) unchanged: it
    /// traps when it does not, a bug for the fuzzer to find.
    public static func exercise(path: String, query: String?, contentType: String?, body: Data) -> Outcome {
        var outcome = Outcome()
        let items = QueryItems(query)
        outcome.pairID = try? ReviewResponder.pairID(path)
        if let q = try? ReviewQuery(items: items) {
            outcome.query = true
            let again = try? ReviewQuery(items: QueryItems(q.queryString(includePaging: true)))
            precondition(again == q, "query \(query ?? "") does not survive its own URL form \(q.queryString(includePaging: true))")
            _ = q.queryString(includePaging: true, offset: ReviewQuery.maxOffset)
        }
        outcome.imageKinds = PairImageKind.allCases.filter { (try? ImageRequest(kind: $0.rawValue, items: items)) != nil }
            .map(\.rawValue)
        if ReviewResponder.isJSON(contentType) {
            outcome.decision = (try? ReviewDecision(json: body)) != nil
            outcome.batch = (try? BatchDecision(json: body)) != nil
        }
        return outcome
    }
}
