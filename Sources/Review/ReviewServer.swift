import DatasetBuilder
import Foundation
import Hummingbird
import Logging
import ThreadSupport
import WebServing

/// How `rigctl review` serves a dataset.
public struct ReviewOptions: Sendable {
    public var host: String
    public var port: Int
    /// Generated when the host is not loopback; nil on loopback.
    public var token: String?
    public var imageCacheBytes: Int
    /// Pixels decoded per image and renders in flight.
    public var imageBudget = ImageBudget()
    /// Idle, header and body timeout and the connection cap.
    public var connections = ConnectionLimits()

    public init(host: String = "127.0.0.1", port: Int = 8417, token: String? = nil, imageCacheBytes: Int = 64 << 20) {
        self.host = host
        self.port = port
        self.token = token ?? (AccessPolicy.isLoopback(host) ? nil : AccessPolicy.makeToken())
        self.imageCacheBytes = imageCacheBytes
    }
}

/// The review server's address (see `ServerAddress`).
public typealias ReviewAddress = ServerAddress

/// The review web app: pages, JSON API and images of one dataset.
public struct ReviewServer: Sendable {
    let dataset: Dataset
    let options: ReviewOptions

    public init(dataset: Dataset, options: ReviewOptions) {
        self.dataset = dataset
        self.options = options
    }

    /// Serves until `until` returns or, with `stopOnSignals`, SIGINT or SIGTERM arrives (then it finishes the
    /// requests in flight and stops), or the task is cancelled. `onStart` gets the bound address (the real port
    /// when `options.port` is 0).
    public func run(stopOnSignals: Bool = false, logger: Logger? = nil,
                    until stop: @escaping @Sendable () async -> Void = { await GracefulRun.never() },
                    onStart: @escaping @Sendable (ReviewAddress) async -> Void) async throws {
        let images = ImageService(dataset: dataset, cacheBytes: options.imageCacheBytes, budget: options.imageBudget)
        let options = self.options
        let dataset = self.dataset
        var log = logger ?? Logger(label: "rigctl.review")
        if logger == nil { log.logLevel = .warning }
        let boundPort = BoundPort()
        let app = Application(
            router: ReviewResponder(dataset: dataset, images: images, options: options, boundPort: boundPort).router(),
            server: options.connections.server,
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: nil,
                                 availableConnectionsDelegate: options.connections.connectionsDelegate),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? options.port
                boundPort.set(port)
                await onStart(ReviewAddress(host: options.host, port: port, token: options.token))
            },
            logger: log)
        try await GracefulRun.run(app, stopOnSignals: stopOnSignals, logger: log, until: stop)
    }
}
