import Foundation
import Hummingbird
import Logging
import PairVocabulary
import WebServing

/// `capture --serve`: the capture's page, served while the capture runs. On loopback by default; on another
/// address every request must carry the token printed at start, as the review server's do (the same
/// `AccessMiddleware`: Host check, token, no POST at all here).
public struct DashboardServer: Sendable {
    public let feed: DashboardFeed
    public let host: String
    public let port: Int
    /// Generated when the host is not loopback; nil on loopback.
    public let token: String?
    public var connections = ConnectionLimits()

    public init(feed: DashboardFeed, host: String = "127.0.0.1", port: Int = 8419, token: String? = nil) {
        self.feed = feed
        self.host = host
        self.port = port
        self.token = token ?? (AccessPolicy.isLoopback(host) ? nil : AccessPolicy.makeToken())
    }

    /// Serves until `until` returns (then it finishes the requests in flight and stops) or the task is cancelled.
    /// `onStart` gets the bound address (the real port when `port` is 0).
    public func run(logger: Logger? = nil, until stop: @escaping @Sendable () async -> Void = { await GracefulRun.never() },
                    onStart: @escaping @Sendable (ServerAddress) async -> Void) async throws {
        var log = logger ?? Logger(label: "rigctl.dashboard")
        if logger == nil { log.logLevel = .warning }
        let boundPort = BoundPort()
        let (host, port, token) = (self.host, self.port, self.token)
        let app = Application(
            router: DashboardRoutes.router(feed: feed, host: host, token: token, boundPort: boundPort),
            server: connections.server,
            configuration: .init(address: .hostname(host, port: port), serverName: nil,
                                 availableConnectionsDelegate: connections.connectionsDelegate),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                boundPort.set(bound)
                await onStart(ServerAddress(host: host, port: bound, token: token))
            },
            logger: log)
        try await GracefulRun.run(app, stopOnSignals: false, logger: log, until: stop)
    }
}

/// GET only: the page, its script and stylesheets, the state as JSON (with the page's fragments), thumbnails.
enum DashboardRoutes {
    static func router(feed: DashboardFeed, host: String, token: String?, boundPort: BoundPort) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: AccessMiddleware(bindHost: host, token: token, boundPort: boundPort))
        router.route("/", [.get]) { _, _ in Responses.html(DashboardPage.page(feed.snapshot)) }
        router.pageAssets("dashboard", css: DashboardPage.css, script: DashboardPage.script)
        // `?since=V`: 204 while nothing changed after version V, so a page polling twice a second costs nothing.
        router.route("/api/dashboard", [.get]) { request, _ in
            let state = feed.snapshot
            if let since = QueryItems(request.uri.query)["since"].flatMap(Int.init), since == state.version {
                return Response(status: .noContent, headers: [.cacheControl: "no-store"])
            }
            return Responses.data(try DashboardPage.json(state), type: "application/json; charset=utf-8",
                                  headers: [.cacheControl: "no-store"])
        }
        router.route("/thumbnails/:pair/:file", [.get]) { _, context in
            let file = context.parameters.get("file") ?? ""
            guard let number = context.parameters.get("pair").flatMap(Int.init), file.hasSuffix(".jpg"),
                  let role = CameraRole(rawValue: String(file.dropLast(4))) else {
                throw HTTPFailure.notFound("no such thumbnail")
            }
            guard let jpeg = feed.thumbnail(pair: number, role: role) else {
                throw HTTPFailure.notFound("pair \(number) has no \(role) thumbnail (yet)")
            }
            // A pair's frame never changes: the browser may keep it.
            return Responses.data(jpeg, type: "image/jpeg", headers: [.cacheControl: "private, max-age=86400, immutable"])
        }
        return router
    }
}
