import DatasetBuilder
import Foundation
import Hummingbird
import PairVocabulary
import WebServing

/// The review server's routes on Hummingbird's `Router`, behind the shared `AccessMiddleware` (Host, token,
/// Origin). Paths carry pair ids and image kinds only; nothing in a URL is ever used as a file path.
struct ReviewResponder: Sendable {
    let dataset: Dataset
    let images: ImageService
    let options: ReviewOptions
    let boundPort: BoundPort

    /// Largest review body accepted (a note is a sentence or two).
    static let maxBody = 64 << 10

    /// The catalogue's errors as answers: a pair or file that is not there is a 404; a link or special file where
    /// the catalogue names a file is refused (403), never followed; the rest are 500s.
    static func failure(for error: any Error) -> HTTPFailure? {
        guard let error = error as? DatasetError else { return nil }
        switch error {
        case .notFound: return .notFound("\(error)")
        case .unsafePath: return HTTPFailure(status: .forbidden, message: "\(error)")
        default: return HTTPFailure(status: .internalServerError, message: "\(error)")
        }
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: AccessMiddleware(bindHost: options.host, token: options.token, boundPort: boundPort,
                                                classify: Self.failure(for:)))
        let dataset = self.dataset
        let images = self.images
        router.route("/", [.get]) { request, _ in try await queuePage(QueryItems(request.uri.query)) }
        router.route("/static/:name", [.get]) { _, context in
            guard let name = context.parameters.get("name"), let asset = Assets.named(name) else {
                throw HTTPFailure.notFound("no such file")
            }
            return Responses.data(Data(asset.text.utf8), type: asset.type, headers: [.cacheControl: "no-cache"])
        }
        router.route("/pairs/:id", [.get]) { request, context in
            try await pairPage(try Self.pairID(context), QueryItems(request.uri.query))
        }
        router.route("/api/pairs", [.get]) { request, _ in
            let q = try ReviewQuery(items: QueryItems(request.uri.query))
            return try Responses.json(try await offload { try dataset.reviewPage(q) })
        }
        router.route("/api/review", [.post]) { request, _ in try await batchReview(request) }
        router.route("/api/facets", [.get]) { _, _ in
            try Responses.json(try await offload { try dataset.reviewFacets() })
        }
        router.route("/api/pairs/:id", [.get]) { _, context in
            let id = try Self.pairID(context)
            return try Responses.json(try await offload { try dataset.pair(id: id) })
        }
        router.route("/api/pairs/:id/review", [.post]) { request, context in
            try await review(request, id: try Self.pairID(context))
        }
        router.route("/api/pairs/:id/misalignment", [.get]) { _, context in
            let id = try Self.pairID(context)
            let data = try await offload { try images.misalignment(for: try dataset.pair(id: id)) }
            return Responses.data(data, type: "application/json; charset=utf-8")
        }
        router.route("/api/pairs/:id/image/:kind", [.get]) { request, context in
            try await image(request, id: try Self.pairID(context), kind: context.parameters.get("kind") ?? "",
                            query: QueryItems(request.uri.query))
        }
        return router
    }

    /// Whether a Content-Type names JSON itself (parameters such as `charset` allowed), not a type that merely
    /// begins with the same letters.
    static func isJSON(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let media = contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return media.trimmingCharacters(in: .whitespaces).lowercased() == "application/json"
    }

    static func pairID(_ context: BasicRequestContext) throws -> PairID {
        try pairID(context.parameters.get("id") ?? "")
    }

    /// Pair ids are positive decimal numbers; keys, prefixes and anything path-like are refused.
    static func pairID(_ text: String) throws -> PairID {
        guard !text.isEmpty, text.count <= 18, text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber),
              let id = Int64(text), id > 0 else {
            throw HTTPFailure.notFound("no pair \(text): pairs are addressed by their numeric id")
        }
        return PairID(id)
    }

    struct ReviewResult: Encodable {
        let id: PairID
        let reviewState: ReviewState
        let reviewNote: String
    }

    /// The JSON body of a decision, after the checks every decision passes (writable, JSON, size).
    private func decisionBody(_ request: Request, limit: Int) async throws -> Data {
        guard !dataset.readOnly else {
            throw HTTPFailure(status: .forbidden, message: "decisions are off: the catalogue is open read-only; start rigctl review with --decisions to decide on pairs")
        }
        guard Self.isJSON(request.headers[.contentType]) else {
            throw HTTPFailure(status: .unsupportedMediaType, message: "send the decision as application/json")
        }
        var request = request
        do {
            return Data(try await request.collectBody(upTo: limit).readableBytesView)
        } catch {
            throw HTTPFailure(status: .contentTooLarge, message: "a decision's body is at most \(limit) bytes")
        }
    }

    private func review(_ request: Request, id: PairID) async throws -> Response {
        let body = try ReviewDecision(json: try await decisionBody(request, limit: Self.maxBody))
        // The catalogue's own review path: the same update as `rigctl dataset review`, committed with
        // synchronous = FULL before the answer goes out, so an acknowledged decision survives a killed server.
        let detail = try await offload { [dataset] in
            try dataset.review(pair: id, state: body.state, note: body.note)
            return try dataset.pair(id: id)
        }
        return try Responses.json(ReviewResult(id: detail.id, reviewState: detail.reviewState, reviewNote: detail.reviewNote))
    }

    /// A batch decision: the pairs named by id, or every pair a queue filter matches. With a filter, `expected` is
    /// the count the person confirmed; if the filter matches a different number now, nothing is changed (409).
    struct BatchResult: Encodable {
        let updated: Int
        let reviewState: String
        let ids: [PairID]
    }

    /// Largest batch body (about 60,000 ids).
    static let maxBatchBody = 1 << 20

    private func batchReview(_ request: Request) async throws -> Response {
        let body = try BatchDecision(json: try await decisionBody(request, limit: Self.maxBatchBody))
        let ids = try await offload { [dataset] () throws -> [PairID] in
            let ids: [PairID]
            switch body.target {
            case .ids(let listed): ids = listed
            case .filter(let query): ids = try dataset.reviewOrder(query)
            }
            if let expected = body.expected, expected != ids.count {
                throw HTTPFailure(status: .conflict, message: "the filter matches \(ids.count) pairs now, not the \(expected) confirmed; nothing was changed")
            }
            // One transaction: all of them or, if one id is unknown, none.
            try dataset.review(pairs: ids, state: body.state, note: body.note)
            return ids
        }
        return try Responses.json(BatchResult(updated: Set(ids).count, reviewState: body.state.rawValue, ids: ids))
    }

    private func image(_ request: Request, id: PairID, kind kindText: String, query: QueryItems) async throws -> Response {
        let asked = try ImageRequest(kind: kindText, items: query)
        let (kind, size, encoding, model) = (asked.kind, asked.size, asked.encoding, asked.model)
        let ifNoneMatch = request.headers[.ifNoneMatch]
        let images = self.images
        // The tag comes from the catalogue's hashes, so a revalidation is answered without decoding anything.
        let result: ImageResult = try await offload { [dataset] in
            let pair = try dataset.pair(id: id)
            let tag = try images.etag(for: pair, kind: kind, model: model, size: size, encoding: encoding)
            let tags = ifNoneMatch?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } ?? []
            if tags.contains(tag) || tags.contains("*") { return .notModified(tag) }
            return .image(try images.image(for: pair, kind: kind, model: model, size: size, encoding: encoding))
        }
        switch result {
        case .notModified(let tag):
            return Response(status: .notModified, headers: [.eTag: tag, .cacheControl: "private, no-cache"])
        case .image(let image):
            return Responses.data(image.data, type: image.contentType,
                                  headers: [.eTag: image.etag, .cacheControl: "private, no-cache"])
        }
    }

    enum ImageResult: Sendable {
        case notModified(String)
        case image(EncodedImage)
    }

    private func queuePage(_ query: QueryItems) async throws -> Response {
        let q = try ReviewQuery(items: query, defaultLimit: 100)
        let readOnly = dataset.readOnly
        let (page, facets) = try await offload { [dataset] in (try dataset.reviewPage(q), try dataset.reviewFacets()) }
        return Responses.html(Page.queue(query: q, page: page, facets: facets, dataset: dataset.root.lastPathComponent,
                                         readOnly: readOnly))
    }

    private func pairPage(_ id: PairID, _ query: QueryItems) async throws -> Response {
        let q = try ReviewQuery(items: query)
        let readOnly = dataset.readOnly
        let (pair, order) = try await offload { [dataset] in (try dataset.pair(id: id), try dataset.reviewOrder(q)) }
        let index = order.firstIndex(of: id)
        let previous = index.flatMap { $0 > 0 ? order[$0 - 1] : nil }
        let next = index.flatMap { $0 + 1 < order.count ? order[$0 + 1] : nil }
        return Responses.html(Page.pair(pair, query: q, previous: previous, next: next,
                                        position: index.map { ($0 + 1, order.count) }, readOnly: readOnly))
    }
}
