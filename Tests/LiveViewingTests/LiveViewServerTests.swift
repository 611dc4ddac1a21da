import Alignment
import Foundation
import LiveViewing
import TestSupport
import Testing

/// The live-view page's server, now in this module: what it serves before and after the first frame, and the
/// shared access checks in front of it (Host, methods, security headers).
@Suite struct LiveViewServerTests {
    /// A server on a free loopback port: its port, and how to stop it gracefully, as Ctrl-C does (cancelling its
    /// task instead makes Hummingbird log two errors).
    static func start(_ feed: LiveViewFeed) async throws -> (port: Int, stop: @Sendable () async -> Void) {
        let (stream, continuation) = AsyncStream.makeStream(of: String.self)
        let (stopSignal, stopping) = AsyncStream.makeStream(of: Void.self)
        let task = Task {
            defer { continuation.finish() }
            try await LiveViewServer(feed: feed, port: 0).run(until: { for await _ in stopSignal {} }) { url in
                continuation.yield(url)
            }
        }
        let stop: @Sendable () async -> Void = {
            stopping.finish()
            _ = try? await task.value
        }
        var iterator = stream.makeAsyncIterator()
        guard let url = await iterator.next(), let port = URL(string: url)?.port else {
            await stop()
            throw HTTPTestError("the live-view server stopped before it listened")
        }
        return (port, stop)
    }

    static func get(_ path: String, port: Int, host: String? = nil, method: String = "GET") async throws -> HTTPReply {
        try await HTTPClient.send(method: method, port: port, path: path, host: host ?? "127.0.0.1:\(port)",
                                  headers: [:], body: nil)
    }

    @Test func servesTheNewestFrameBehindTheSharedAccessChecks() async throws {
        let feed = LiveViewFeed()
        let (port, stop) = try await Self.start(feed)
        do {
            try await check(feed, port: port)
        } catch {
            await stop()
            throw error
        }
        await stop()
    }

    /// The test itself, against the server `servesTheNewestFrameBehindTheSharedAccessChecks` started.
    func check(_ feed: LiveViewFeed, port: Int) async throws {

        // Before the first frame: the page renders, the API and images say there is nothing yet.
        let empty = try await Self.get("/api/liveview", port: port)
        #expect(empty.status == 503)
        #expect(try empty.object()["error"] as? String == "no frame yet")
        #expect(try await Self.get("/", port: port).status == 200)

        let views = Data([0xFF, 0xD8, 1, 2, 3]), difference = Data([0xFF, 0xD8, 9])
        feed.publish(LiveViewSnapshot(frame: 7, views: views, difference: difference, overlay: .checkerboard,
                                      measurement: Data(#"{"shiftX":1.5}"#.utf8)))
        let api = try await Self.get("/api/liveview", port: port)
        #expect(api.status == 200)
        let object = try api.object()
        #expect(object["frame"] as? Int == 7)
        #expect((object["measurement"] as? [String: Any])?["shiftX"] as? Double == 1.5)
        #expect(try await Self.get("/liveview/views.jpg", port: port).body == views)
        #expect(try await Self.get("/liveview/difference.jpg", port: port).body == difference)
        let page = try await Self.get("/", port: port)
        #expect(page.text.contains("+1.50") && page.text.contains("checkerboard"))
        #expect(page.header("Content-Security-Policy")?.contains("default-src 'none'") == true)
        let css = try await Self.get("/static/review.css", port: port)
        #expect(css.status == 200 && css.text.contains(":root"))

        // The shared middleware: another Host is refused (DNS rebinding), another method is a 405, an unknown
        // path a 404 page.
        #expect(try await Self.get("/api/liveview", port: port, host: "attacker.example:\(port)").status == 403)
        #expect(try await Self.get("/", port: port, method: "POST").status == 405)
        #expect(try await Self.get("/nothing", port: port).status == 404)

        feed.fail("camera busy")
        #expect(try await Self.get("/api/liveview", port: port).object()["error"] as? String == "camera busy")
    }
}
