import Foundation
import Hummingbird

/// The one set of access checks both servers (review and live view) put in front of their routes: the Host
/// check, the token off loopback (with its redirect into a cookie), the Origin and Sec-Fetch-Site checks on a
/// POST; then the route's failures turned into answers (JSON under /api/, a short page elsewhere) and the security
/// headers on every reply. `classify` turns a server's own errors (the review server's catalogue errors) into
/// answers; anything it leaves is a 500.
package struct AccessMiddleware: RouterMiddleware {
    package typealias Context = BasicRequestContext

    let bindHost: String
    let token: String?
    let boundPort: BoundPort
    let classify: @Sendable (any Error) -> HTTPFailure?

    package init(bindHost: String, token: String?, boundPort: BoundPort,
                 classify: @escaping @Sendable (any Error) -> HTTPFailure? = { _ in nil }) {
        self.bindHost = bindHost
        self.token = token
        self.boundPort = boundPort
        self.classify = classify
    }

    package func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        let api = path.hasPrefix("/api/")
        var response: Response
        do {
            response = try await checked(request, context: context, path: path, api: api, next: next)
        } catch let failure as HTTPFailure {
            response = Responses.failure(failure, api: api)
        } catch let error as HTTPError where error.status == .notFound {
            response = Responses.failure(.notFound("nothing at \(path)"), api: api)
        } catch {
            let failure = classify(error) ?? HTTPFailure(status: .internalServerError, message: "\(error)")
            response = Responses.failure(failure, api: api)
        }
        Self.addSecurityHeaders(&response.headers)
        return response
    }

    private func checked(_ request: Request, context: Context, path: String, api: Bool,
                         next: (Request, Context) async throws -> Response) async throws -> Response {
        let policy = AccessPolicy(bindHost: bindHost, port: boundPort.port, token: token)
        let authority = try policy.checkHost(of: request)
        let query = QueryItems(request.uri.query)
        var setCookie: String?
        if policy.token != nil {
            let cookie = Self.cookie(AccessPolicy.cookieName, in: request.headers[values: .cookie])
            var bearer: String?
            if let auth = request.headers[.authorization], auth.hasPrefix("Bearer ") { bearer = String(auth.dropFirst(7)) }
            let presented = query["token"] ?? bearer ?? cookie
            guard let presented else {
                throw HTTPFailure(status: .unauthorized, message: "open the address rigctl printed when it started serving, with its ?token=")
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
        var response = try await next(request, context)
        if let setCookie { response.headers[.setCookie] = setCookie }
        return response
    }

    /// A path of this server as a redirect target: one leading slash, so `//host/x` or `/\host/x` (which browsers
    /// read as another site) stays a path here.
    package static func localPath(_ path: String) -> String {
        "/" + path.drop { $0 == "/" || $0 == "\\" }
    }

    package static func cookie(_ name: String, in headers: [String]) -> String? {
        for header in headers {
            for part in header.split(separator: ";") {
                let kv = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if kv.count == 2, kv[0] == name { return String(kv[1]) }
            }
        }
        return nil
    }

    /// Pages load only this server's own scripts, styles and images, and may not be framed by another site.
    package static func addSecurityHeaders(_ headers: inout HTTPFields) {
        headers[.contentSecurityPolicy] = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
            + "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        headers[.xContentTypeOptions] = "nosniff"
        headers[.init("Referrer-Policy")!] = "no-referrer"
        headers[.crossOriginResourcePolicy] = "same-origin"
    }
}

extension Router<BasicRequestContext> {
    /// A one-page server's static files: the shared stylesheet as /static/review.css, and the page's own
    /// stylesheet and script as /static/NAME.css and /static/NAME.js.
    package func pageAssets(_ name: String, css: String, script: String) {
        for (path, text, type) in [("review.css", Stylesheet.css, "text/css"), ("\(name).css", css, "text/css"),
                                   ("\(name).js", script, "text/javascript")] {
            route("/static/\(path)", [.get]) { _, _ in
                Responses.data(Data(text.utf8), type: type + "; charset=utf-8", headers: [.cacheControl: "no-cache"])
            }
        }
    }

    /// Routes `path` for `methods`, and answers the other common methods there with 405 (a route that exists
    /// but does not take that method), not the 404 of a path that does not exist.
    package func route(_ path: String, _ methods: [HTTPRequest.Method],
               _ handler: @escaping @Sendable (Request, BasicRequestContext) async throws -> Response) {
        for method in methods { on(RouterPath(path), method: method, use: handler) }
        for method in [HTTPRequest.Method.get, .post, .put, .delete, .patch] where !methods.contains(method) {
            on(RouterPath(path), method: method) { request, _ -> Response in
                throw HTTPFailure(status: .methodNotAllowed, message: "\(request.method) is not allowed on \(request.uri.path)")
            }
        }
    }
}
