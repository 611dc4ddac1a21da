import Foundation
#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Imaging
import TestSupport
import Testing

/// `rigctl review` as a person starts it: read-only unless `--decisions`.
@Suite struct ReviewCommandTests {
    /// A running `rigctl review`, its printed first line and address; `stop()` interrupts it and waits (both off
    /// Swift's cooperative threads).
    struct Server {
        let server: ReviewServerProcess
        var banner: String { server.banner }
        var base: URL { server.base }

        static func start(_ arguments: [String], environment: [String: String]) async throws -> Server {
            Server(server: try await ReviewServerProcess.start(rigctl: CommandLine.executable, arguments, environment: environment))
        }

        func stop() async { await server.stop() }

        func send(_ method: String, _ path: String, json: String? = nil) async throws -> (status: Int, body: String) {
            var request = URLRequest(url: URL(string: path, relativeTo: base)!)
            request.httpMethod = method
            if let json {
                request.httpBody = Data(json.utf8)
                request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            }
            let (data, response) = try await URLSession.shared.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
        }
    }

    @Test func readOnlyUnlessDecisionsAreEnabled() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let env = ["RIGCTL_HOME": dir.appendingPathComponent("home").path]
        let ds = dir.appendingPathComponent("ds").path
        let set = dir.appendingPathComponent("set/p1")
        try FileManager.default.createDirectory(at: set, withIntermediateDirectories: true)
        try PNGFile.write(texturedImage(seed: 1, width: 48, height: 32), to: set.appendingPathComponent("source.png"))
        try PNGFile.write(texturedImage(seed: 2, width: 48, height: 32), to: set.appendingPathComponent("target.png"))
        let imported = try await CommandLine.run(["import", dir.appendingPathComponent("set").path, "--layout", "pairs",
                                                  "--dataset", ds, "--init"], environment: env)
        try #require(imported.status == 0, "\(imported.stderr)")
        let decision = #"{"state": "rejected", "note": "ghosting"}"#

        // The default: read-only. Listing works, a decision is a 403 that names the flag, the page has no
        // decision controls, and the writer's lock is free (`dataset review` runs beside it).
        let viewer = try await Server.start(["--dataset", ds], environment: env)
        do {
            #expect(viewer.banner.contains("read-only"), "\(viewer.banner)")
            let list = try await viewer.send("GET", "/api/pairs")
            #expect(list.status == 200 && list.body.contains("\"total\":1"), "\(list)")
            let refused = try await viewer.send("POST", "/api/pairs/1/review", json: decision)
            #expect(refused.status == 403, "\(refused)")
            let error = try JSONSerialization.jsonObject(with: Data(refused.body.utf8)) as? [String: Any]
            #expect((error?["error"] as? String)?.contains("--decisions") == true, "\(refused.body)")
            let batch = try await viewer.send("POST", "/api/review", json: #"{"ids": [1], "state": "approved"}"#)
            #expect(batch.status == 403, "\(batch)")
            let queue = try await viewer.send("GET", "/")
            #expect(queue.status == 200 && !queue.body.contains("id=\"batch\""), "the read-only queue offers batch decisions")
            let pairPage = try await viewer.send("GET", "/pairs/1")
            #expect(!pairPage.body.contains("data-state=") && pairPage.body.contains("--decisions"))
            let beside = try await CommandLine.run(["dataset", "review", "1", "--state", "flagged", "--dataset", ds], environment: env)
            #expect(beside.status == 0, "dataset review beside a read-only server: \(beside.stderr)")
        } catch {
            await viewer.stop()
            throw error
        }
        await viewer.stop()
        let shown = try await CommandLine.run(["dataset", "show", "1", "--dataset", ds], environment: env)
        #expect(shown.stdout.contains("review: flagged"), "\(shown.stdout)")

        // --decisions: the same POST is written and seen by `dataset show`.
        let decider = try await Server.start(["--dataset", ds, "--decisions"], environment: env)
        do {
            #expect(!decider.banner.contains("read-only"), "\(decider.banner)")
            let accepted = try await decider.send("POST", "/api/pairs/1/review", json: decision)
            #expect(accepted.status == 200, "\(accepted)")
            let queue = try await decider.send("GET", "/")
            #expect(queue.body.contains("id=\"batch\""))
        } catch {
            await decider.stop()
            throw error
        }
        await decider.stop()
        let after = try await CommandLine.run(["dataset", "show", "1", "--dataset", ds], environment: env)
        #expect(after.stdout.contains("review: rejected - ghosting"), "\(after.stdout)")
    }

    /// A port another program holds: one sentence naming the port and the option, not SwiftNIO's bind() text.
    @Test func aBusyPortIsNamedWithTheOptionThatChangesIt() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ds = dir.appendingPathComponent("ds").path
        #expect(try await CommandLine.run(["dataset", "init", ds]).status == 0)
        let holder = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(holder) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(holder, $0, length) == 0 && listen(holder, 1) == 0
                && getsockname(holder, $0, &length) == 0 }
        }
        try #require(bound)
        let port = Int(UInt16(bigEndian: address.sin_port))
        let run = try await CommandLine.run(["review", "--dataset", ds, "--port", "\(port)"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("port \(port) on 127.0.0.1 is already in use") && run.stderr.contains("--port 0"), "\(run.stderr)")
        #expect(!run.stderr.contains("errno") && !run.stderr.contains("bind("), "\(run.stderr)")
    }
}
