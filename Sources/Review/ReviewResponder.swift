import DatasetBuilder
import Foundation
import Hummingbird
import PairVocabulary

/// Every request passes the access checks first (Host, then token, then Origin for POSTs), then goes to one
/// route. Paths carry pair ids and image kinds only; nothing in a URL is ever used as a file path.
struct ReviewResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let dataset: Dataset
    let images: ImageService
    let options: ReviewOptions
    let boundPort: BoundPort

    /// Largest review body accepted (a note is a sentence or two).
    static let maxBody = 64 << 10

    func respond(to request: Request, context: Context) async throws -> Response {
        let path = request.uri.path
        let api = path.hasPrefix("/api/")
        var response: Response
        do {
            response = try await checkedResponse(to: request, path: path, api: api)
        } catch let failure as HTTPFailure {
            response = Responses.failure(failure, api: api)
        } catch let error as DatasetError {
            if case .notFound = error {
                response = Responses.failure(.notFound("\(error)"), api: api)
            } else if case .unsafePath = error {
                // A link or special file where the catalogue names a file: refused, never followed.
                response = Responses.failure(HTTPFailure(status: .forbidden, message: "\(error)"), api: api)
            } else {
                response = Responses.failure(HTTPFailure(status: .internalServerError, message: "\(error)"), api: api)
            }
        } catch {
            response = Responses.failure(HTTPFailure(status: .internalServerError, message: "\(error)"), api: api)
        }
        Self.addSecurityHeaders(&response.headers)
        return response
    }

    private func checkedResponse(to request: Request, path: String, api: Bool) async throws -> Response {
        let policy = AccessPolicy(bindHost: options.host, port: boundPort.port, token: options.token)
        let authority = try policy.checkHost(of: request)
        let query = QueryItems(request.uri.query)
        var setCookie: String?
        if policy.token != nil {
            let cookie = Self.cookie(AccessPolicy.cookieName, in: request.headers[values: .cookie])
            var bearer: String?
            if let auth = request.headers[.authorization], auth.hasPrefix("Bearer ") { bearer = String(auth.dropFirst(7)) }
            let presented = query["token"] ?? bearer ?? cookie
            guard let presented else {
                throw HTTPFailure(status: .unauthorized, message: "open the address rigctl review printed, with its ?token=")
            }
            guard policy.tokenMatches(presented) else {
                throw HTTPFailure(status: .forbidden, message: "wrong token")
            }
            if query["token"] != nil {
                setCookie = "\(AccessPolicy.cookieName)=\(presented); Path=/; HttpOnly; SameSite=Strict"
                if request.method == .get, !api {
                    // Drop the token from the address bar (and from history) once the cookie holds it.
                    let rest = (request.uri.query ?? "").split(separator: "&").filter { !$0.hasPrefix("token=") }
                    let location = Self.localPath(path) + (rest.isEmpty ? "" : "?" + rest.joined(separator: "&"))
                    return Response(status: .seeOther, headers: [.location: location, .setCookie: setCookie!])
                }
            }
        }
        if request.method == .post {
            if let origin = request.headers[.origin], !policy.acceptsOrigin(origin, authority: authority) {
                throw HTTPFailure(status: .forbidden, message: "cross-origin POST from \(origin) refused")
            }
            if let site = request.headers[.init("Sec-Fetch-Site")!], site != "same-origin", site != "none" {
                throw HTTPFailure(status: .forbidden, message: "cross-site POST refused")
            }
        }
        var response = try await route(request, path: path, query: query)
        if let setCookie { response.headers[.setCookie] = setCookie }
        return response
    }

    private func route(_ request: Request, path: String, query: QueryItems) async throws -> Response {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        let method = request.method
        func only(_ allowed: HTTPRequest.Method) throws {
            guard method == allowed else {
                throw HTTPFailure(status: .methodNotAllowed, message: "\(method) is not allowed on \(path)")
            }
        }
        switch parts.count {
        case 1 where parts[0] == "":
            try only(.get)
            return try await queuePage(query)
        case 2 where parts[0] == "static":
            try only(.get)
            guard let asset = Assets.named(parts[1]) else { throw HTTPFailure.notFound("no such file") }
            return Responses.data(Data(asset.text.utf8), type: asset.type, headers: [.cacheControl: "no-cache"])
        case 2 where parts[0] == "pairs":
            try only(.get)
            return try await pairPage(try Self.pairID(parts[1]), query)
        case 2 where parts[0] == "api" && parts[1] == "pairs":
            try only(.get)
            let q = try ReviewQuery(items: query)
            return try Responses.json(try await offload { [dataset] in try dataset.reviewPage(q) })
        case 2 where parts[0] == "api" && parts[1] == "review":
            try only(.post)
            return try await batchReview(request)
        case 2 where parts[0] == "api" && parts[1] == "facets":
            try only(.get)
            return try Responses.json(try await offload { [dataset] in try dataset.reviewFacets() })
        case 3 where parts[0] == "api" && parts[1] == "pairs":
            try only(.get)
            let id = try Self.pairID(parts[2])
            return try Responses.json(try await offload { [dataset] in try dataset.pair("\(id)") })
        case 4 where parts[0] == "api" && parts[1] == "pairs" && parts[3] == "review":
            try only(.post)
            return try await review(request, id: try Self.pairID(parts[2]))
        case 4 where parts[0] == "api" && parts[1] == "pairs" && parts[3] == "misalignment":
            try only(.get)
            let id = try Self.pairID(parts[2])
            let data = try await offload { [dataset, images] in try images.misalignment(for: try dataset.pair("\(id)")) }
            return Responses.data(data, type: "application/json; charset=utf-8")
        case 5 where parts[0] == "api" && parts[1] == "pairs" && parts[3] == "image":
            try only(.get)
            return try await image(request, id: try Self.pairID(parts[2]), kind: parts[4], query: query)
        default:
            throw HTTPFailure.notFound("nothing at \(path)")
        }
    }

    /// A path of this server as a redirect target: one leading slash, so `//host/x` or `/\\host/x` (which browsers
    /// read as another site) stays a path here.
    static func localPath(_ path: String) -> String {
        "/" + path.drop { $0 == "/" || $0 == "\\" }
    }

    /// Whether a Content-Type names JSON itself (parameters such as `charset` allowed), not a type that merely
    /// begins with the same letters.
    static func isJSON(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let media = contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return media.trimmingCharacters(in: .whitespaces).lowercased() == "application/json"
    }

    /// A note is stored whole or not at all: U+0000 would end it early in C strings on the way to SQLite.
    static func checkNote(_ note: String?) throws {
        if let note, note.unicodeScalars.contains("\u{0}") {
            throw HTTPFailure.badRequest("a note may not contain U+0000")
        }
    }

    /// Pair ids are positive decimal numbers; keys, prefixes and anything path-like are refused.
    static func pairID(_ text: String) throws -> Int64 {
        guard !text.isEmpty, text.count <= 18, text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber),
              let id = Int64(text), id > 0 else {
            throw HTTPFailure.notFound("no pair \(text): pairs are addressed by their numeric id")
        }
        return id
    }

    struct ReviewBody: Decodable {
        let state: ReviewState
        let note: String?
    }

    struct ReviewResult: Encodable {
        let id: Int64
        let reviewState: ReviewState
        let reviewNote: String
    }

    /// The JSON body of a decision, after the checks every decision passes (writable, JSON, size).
    private func decisionBody<T: Decodable>(_ request: Request, as type: T.Type, limit: Int, usage: String) async throws -> T {
        guard !dataset.readOnly else {
            throw HTTPFailure(status: .forbidden, message: "decisions are off: the catalogue is open read-only; start rigctl review with --decisions to decide on pairs")
        }
        guard Self.isJSON(request.headers[.contentType]) else {
            throw HTTPFailure(status: .unsupportedMediaType, message: "send the decision as application/json")
        }
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limit)
        } catch {
            throw HTTPFailure(status: .contentTooLarge, message: "a decision's body is at most \(limit) bytes")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch {
            throw HTTPFailure.badRequest("expected \(usage)")
        }
    }

    private func review(_ request: Request, id: Int64) async throws -> Response {
        let body = try await decisionBody(request, as: ReviewBody.self, limit: Self.maxBody,
                                          usage: "{\"state\": \"approved\"|\"rejected\"|\"flagged\"|\"unreviewed\", \"note\": \"...\"}")
        try Self.checkNote(body.note)
        // The catalogue's own review path: the same update as `rigctl dataset review`, committed with
        // synchronous = FULL before the answer goes out, so an acknowledged decision survives a killed server.
        let detail = try await offload { [dataset] in
            try dataset.review(pair: "\(id)", state: body.state, note: body.note)
            return try dataset.pair("\(id)")
        }
        return try Responses.json(ReviewResult(id: detail.id, reviewState: detail.reviewState, reviewNote: detail.reviewNote))
    }

    /// A batch decision: the pairs named by id, or every pair a queue filter matches. With a filter, `expected` is
    /// the count the person confirmed; if the filter matches a different number now, nothing is changed (409).
    struct BatchBody: Decodable {
        let ids: [Int64]?
        let filter: String?
        let expected: Int?
        let state: ReviewState
        let note: String?
    }

    struct BatchResult: Encodable {
        let updated: Int
        let reviewState: String
        let ids: [Int64]
    }

    /// Largest batch body (about 60,000 ids).
    static let maxBatchBody = 1 << 20

    private func batchReview(_ request: Request) async throws -> Response {
        let body = try await decisionBody(request, as: BatchBody.self, limit: Self.maxBatchBody, usage: """
            {"ids": [1, 2, ...] or "filter": "verdict=review&...", "expected": N, "state": "approved"|"rejected"|"flagged"|"unreviewed", "note": "..."}
            """)
        try Self.checkNote(body.note)
        let query: ReviewQuery?
        switch (body.ids, body.filter) {
        case (let ids?, nil):
            guard !ids.isEmpty else { throw HTTPFailure.badRequest("ids is empty: name at least one pair") }
            query = nil
        case (nil, let filter?):
            guard body.expected != nil else {
                throw HTTPFailure.badRequest("a filtered batch needs \"expected\": the number of pairs confirmed")
            }
            var q = try ReviewQuery(items: QueryItems(filter))
            q.offset = 0
            query = q
        default:
            throw HTTPFailure.badRequest("give either ids or filter, not both or neither")
        }
        let ids = try await offload { [dataset] () throws -> [Int64] in
            let ids = try query.map { try dataset.reviewOrder($0) } ?? body.ids ?? []
            if let expected = body.expected, expected != ids.count {
                throw HTTPFailure(status: .conflict, message: "the filter matches \(ids.count) pairs now, not the \(expected) confirmed; nothing was changed")
            }
            // One transaction: all of them or, if one id is unknown, none.
            try dataset.review(pairs: ids, state: body.state, note: body.note)
            return ids
        }
        return try Responses.json(BatchResult(updated: Set(ids).count, reviewState: body.state.rawValue, ids: ids))
    }

    private func image(_ request: Request, id: Int64, kind kindText: String, query: QueryItems) async throws -> Response {
        guard let kind = PairImageKind(rawValue: kindText) else {
            throw HTTPFailure.notFound("no image kind \(kindText); kinds: "
                                       + PairImageKind.allCases.map(\.rawValue).joined(separator: ", "))
        }
        let size: Int? = try query["size"].map { text in
            guard let n = Int(text), (16...16384).contains(n) else { throw HTTPFailure.badRequest("size is 16 to 16384") }
            return n
        }
        let encoding: PairImageEncoding
        switch query["format"] {
        case nil, "png": encoding = .png
        case "jpeg", "jpg": encoding = .jpeg
        case let other?: throw HTTPFailure.badRequest("format is png or jpeg, not \(other)")
        }
        let model = query["model"]
        guard kind == .output || model == nil else { throw HTTPFailure.badRequest("model= goes with the output image only") }
        let ifNoneMatch = request.headers[.ifNoneMatch]
        let images = self.images
        // The tag comes from the catalogue's hashes, so a revalidation is answered without decoding anything.
        let result: ImageResult = try await offload { [dataset] in
            let pair = try dataset.pair("\(id)")
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

    private func pairPage(_ id: Int64, _ query: QueryItems) async throws -> Response {
        let q = try ReviewQuery(items: query)
        let readOnly = dataset.readOnly
        let (pair, order) = try await offload { [dataset] in (try dataset.pair("\(id)"), try dataset.reviewOrder(q)) }
        let index = order.firstIndex(of: id)
        let previous = index.flatMap { $0 > 0 ? order[$0 - 1] : nil }
        let next = index.flatMap { $0 + 1 < order.count ? order[$0 + 1] : nil }
        return Responses.html(Page.pair(pair, query: q, previous: previous, next: next,
                                        position: index.map { ($0 + 1, order.count) }, readOnly: readOnly))
    }

    static func cookie(_ name: String, in headers: [String]) -> String? {
        for header in headers {
            for part in header.split(separator: ";") {
                let kv = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if kv.count == 2, kv[0] == name { return String(kv[1]) }
            }
        }
        return nil
    }

    /// Pages load only this server's own scripts, styles and images, and may not be framed by another site.
    static func addSecurityHeaders(_ headers: inout HTTPFields) {
        headers[.contentSecurityPolicy] = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
            + "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        headers[.xContentTypeOptions] = "nosniff"
        headers[.init("Referrer-Policy")!] = "no-referrer"
        headers[.crossOriginResourcePolicy] = "same-origin"
    }
}
