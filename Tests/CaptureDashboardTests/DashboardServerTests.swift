import CaptureDashboard
import Foundation
import PairVocabulary
import Rig
import TestSupport
import Testing
import ThreadSupport
import WebServing

/// The dashboard's server in this process: its API, its thumbnails and the access checks it shares with review.
struct DashboardServerTests {
    struct Running {
        let port: Int
        let task: Task<Void, Error>
        let feed: DashboardFeed
        let done: LockedValue<Bool>

        func get(_ path: String, host: String? = nil, headers: [String: String] = [:]) async throws -> HTTPReply {
            try await HTTPClient.send(method: "GET", port: port, path: path, host: host ?? "127.0.0.1:\(port)",
                                      headers: headers, body: nil)
        }

        /// A graceful stop, as `capture --serve` stops its page.
        func stop() async {
            done.withLock { $0 = true }
            _ = try? await task.value
            feed.close()
        }
    }

    static func start(token: String? = nil) async throws -> Running {
        let feed = try DashboardFeed(DashboardState(destination: "/data/<set>", scene: "desk & garden", planned: 3,
                                                    trigger: .software, maxSkew: 0.001))
        let server = DashboardServer(feed: feed, host: "127.0.0.1", port: 0, token: token)
        let (stream, continuation) = AsyncStream.makeStream(of: ServerAddress.self)
        let done = LockedValue(false)
        let task = Task {
            defer { continuation.finish() }
            try await server.run(until: { while !done.value { try? await Task.sleep(for: .milliseconds(20)) } },
                                 onStart: { continuation.yield($0) })
        }
        var iterator = stream.makeAsyncIterator()
        guard let address = await iterator.next() else {
            _ = try await task.value
            throw HTTPTestError("the dashboard stopped before it listened")
        }
        return Running(port: address.port, task: task, feed: feed, done: done)
    }

    @Test func theAPIAnswersOnlyNewsAndEscapesWhatItShows() async throws {
        let s = try await Self.start()
        do {
            let first = try await s.get("/api/dashboard")
            #expect(first.status == 200)
            let object = try first.object()
            let version = try #require(object["version"] as? Int)
            #expect(object["phase"] as? String == "starting")
            let html = try #require(object["html"] as? [String: String])
            #expect(Set(html.keys) == ["status", "warnings", "cameras", "trigger", "counts", "pairs", "notices"])
            #expect(html["status"]!.contains("desk &amp; garden") && html["status"]!.contains("/data/&lt;set&gt;"), "\(html["status"]!)")
            #expect(try await s.get("/api/dashboard?since=\(version)").status == 204)

            s.feed.apply(.captured(number: 1, captureID: nil, pair: DashboardStateTests.pair(1, skew: 0.004), scene: nil))
            let news = try await s.get("/api/dashboard?since=\(version)")
            #expect(news.status == 200)
            let warnings = try #require(try news.object()["warnings"] as? [[String: Any]])
            #expect(warnings.map { $0["kind"] as? String } == ["skewOverLimit"])
            let page = try await s.get("/")
            #expect(page.status == 200 && page.text.contains("data-kind=\"skewOverLimit\""))
            #expect(page.header("Content-Security-Policy")?.contains("script-src 'self'") == true)
            // Not made yet (no file behind this pair), and never for a role or pair that does not exist.
            #expect(try await s.get("/thumbnails/1/deep.jpg").status == 404)
            #expect(try await s.get("/thumbnails/1/middle.jpg").status == 404)
            #expect(try await s.get("/thumbnails/x/deep.jpg").status == 404)
            let post = try await HTTPClient.send(method: "POST", port: s.port, path: "/api/dashboard",
                                                 host: "127.0.0.1:\(s.port)", headers: [:], body: Data())
            #expect(post.status == 405)
            // Another site's name for this port (DNS rebinding) is refused.
            #expect(try await s.get("/api/dashboard", host: "attacker.example:\(s.port)").status != 200)
        } catch {
            await s.stop()
            throw error
        }
        await s.stop()
    }

    @Test func thumbnailsAreMadeOffTheCaptureThreadAndServed() async throws {
        let s = try await Self.start()
        do {
            let dir = try makeTemporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            let png = fixture("metrics/pair1_output.png")
            s.feed.apply(.captured(number: 1, captureID: nil, pair: DashboardStateTests.pair(1), scene: nil))
            s.feed.makeThumbnails(pair: 1) { role in
                if role == .deep { throw HTTPTestError("the deep file is unreadable") }
                return (try Data(contentsOf: png), png.path)
            }
            let deadline = Date().addingTimeInterval(TestTime.scaled(30))
            while s.feed.snapshot.pairs[0].thumbnails == .pending && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
            // One camera's file could not be read: the pair says so rather than showing half a pair.
            #expect(s.feed.snapshot.pairs[0].thumbnails == .failed)
            let shallow = try await s.get("/thumbnails/1/shallow.jpg")
            #expect(shallow.status == 200 && shallow.header("Content-Type") == "image/jpeg")
            #expect(shallow.body.prefix(2) == Data([0xFF, 0xD8]))
            #expect(try await s.get("/thumbnails/1/deep.jpg").status == 404)
        } catch {
            await s.stop()
            throw error
        }
        await s.stop()
    }

    @Test func offLoopbackEveryRequestNeedsTheToken() async throws {
        let s = try await Self.start(token: "c0ffee")
        do {
            #expect(try await s.get("/api/dashboard").status == 401)
            #expect(try await s.get("/api/dashboard?token=wrong").status == 403)
            #expect(try await s.get("/api/dashboard", headers: ["Authorization": "Bearer c0ffee"]).status == 200)
        } catch {
            await s.stop()
            throw error
        }
        await s.stop()
    }
}
