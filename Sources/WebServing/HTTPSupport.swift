import Foundation
import Hummingbird
import ThreadSupport

/// Query strings as browsers write them (`+` for space, percent escapes), first value of a name wins.
package struct QueryItems: Sendable {
    private(set) var items: [(name: String, value: String)] = []

    package init(_ query: String?) {
        guard let query, !query.isEmpty else { return }
        for part in query.split(separator: "&") {
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s)
            }
            items.append((decode(pieces[0]), pieces.count > 1 ? decode(pieces[1]) : ""))
        }
    }

    package subscript(_ name: String) -> String? {
        items.first { $0.name == name }.map(\.value).flatMap { $0.isEmpty ? nil : $0 }
    }
}

extension AccessPolicy {
    /// The Host check both servers make first: exactly one Host header, naming this server. Returns the authority.
    package func checkHost(of request: Request) throws -> String {
        // The first Host header became the authority; a second one left among the fields makes the request
        // ambiguous (a proxy and this server could read different hosts), so it is refused, not guessed at.
        guard request.headers[values: .init("Host")!].isEmpty else {
            throw HTTPFailure.badRequest("one Host header, not several")
        }
        let authority = request.head.authority
        guard acceptsHost(authority), let authority else {
            throw HTTPFailure(status: .forbidden, message: "this server answers to its own address only, not to Host \(authority ?? "(none)")")
        }
        return authority
    }
}

/// A request the server refuses, with the status and a message for the person or script that sent it.
package struct HTTPFailure: Error {
    package let status: HTTPResponse.Status
    package let message: String

    package init(status: HTTPResponse.Status, message: String) {
        self.status = status
        self.message = message
    }

    package static func badRequest(_ m: String) -> Self { .init(status: .badRequest, message: m) }
    package static func notFound(_ m: String) -> Self { .init(status: .notFound, message: m) }
}

package enum URLText {
    /// Percent-encodes everything but unreserved characters.
    package static func component(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }
}

package enum Responses {
    package static let jsonEncoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .iso8601
        return e
    }()

    package static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        data(try jsonEncoder.encode(value), type: "application/json; charset=utf-8", status: status)
    }

    package static func data(_ data: Data, type: String, status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.contentType] = type
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    package static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        data(Data(text.utf8), type: "text/html; charset=utf-8", status: status, headers: [.cacheControl: "no-store"])
    }

    /// API callers get `{"error": ...}`, pages a short HTML message.
    package static func failure(_ f: HTTPFailure, api: Bool) -> Response {
        if api {
            let body = (try? jsonEncoder.encode(["error": f.message])) ?? Data()
            return data(body, type: "application/json; charset=utf-8", status: f.status)
        }
        return html(HTML.message(title: "\(f.status.code) \(f.status.reasonPhrase)", text: f.message), status: f.status)
    }
}

/// The port the listener got, known only once it is bound (port 0 picks a free one); until then it is 0 and the
/// Host check refuses everything.
package final class BoundPort: Sendable {
    private let value = LockedValue(0)

    package init() {}
    package func set(_ port: Int) { value.withLock { $0 = port } }
    package var port: Int { value.withLock { $0 } }
}
