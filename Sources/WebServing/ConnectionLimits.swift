import Hummingbird
import HummingbirdCore
import NIOCore
import NIOHTTP1

/// How long and how many connections the servers keep: an idle or slow client (no complete header, a stalled
/// body, a kept-alive connection with nothing more to ask) is closed after `idleTimeout`, and no more than
/// `maxConnections` are served at once (further ones wait in the listen backlog until one closes).
public struct ConnectionLimits: Sendable {
    /// Time without a complete request part (header, body chunk) before a connection is closed.
    public var idleTimeout: TimeAmount
    public var maxConnections: Int

    public init(idleTimeout: TimeAmount = .seconds(15), maxConnections: Int = 64) {
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
    }

    /// The HTTP/1 server with these limits, closing HTTP/1.0 exchanges that did not ask for keep-alive.
    package var server: HTTPServerBuilder {
        .http1(configuration: .init(additionalChannelHandlers: [HTTP10CloseInstaller()], idleTimeout: idleTimeout))
    }

    package var connectionsDelegate: any AvailableConnectionsDelegate { MaximumAvailableConnections(maxConnections) }
}

/// Hummingbird's HTTP/1 channel drops the request's HTTP version before handlers added through its configuration
/// see it, and closes a connection after the response only when the request says `Connection: close`. This handler,
/// added there, puts `HTTP10Close` right after the HTTP/1 decoder (where the version is still known) and removes
/// itself.
final class HTTP10CloseInstaller: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    func handlerAdded(context: ChannelHandlerContext) {
        let pipeline = context.pipeline.syncOperations
        if let decoder = try? pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self) {
            try? pipeline.addHandler(HTTP10Close(), position: .after(decoder))
        }
        pipeline.removeHandler(context: context, promise: nil)
    }
}

/// Marks an HTTP/1.0 request without `Connection: keep-alive` (and any request that asks to close) with
/// `Connection: close`, so the server closes the connection once it has answered.
final class HTTP10Close: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(var head) = unwrapInboundIn(data), !head.isKeepAlive {
            head.headers.replaceOrAdd(name: "Connection", value: "close")
            context.fireChannelRead(wrapInboundOut(.head(head)))
            return
        }
        context.fireChannelRead(data)
    }
}
