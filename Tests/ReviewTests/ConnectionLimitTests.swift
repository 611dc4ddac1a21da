import DatasetBuilder
import Foundation
import PairVocabulary
import Review
import TestSupport
import Testing
import WebServing
#if canImport(Glibc)
import Glibc
#endif

/// A raw loopback connection for requests the HTTP client will not send (HTTP/1.0, nothing at all, half a header).
final class RawConnection {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HTTPTestError("socket: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { close(fd); throw HTTPTestError("connect: \(errno)") }
    }

    deinit { close(fd) }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Everything received within `seconds`, and whether the server closed the connection in that time.
    func receive(for seconds: Double) -> (data: Data, closed: Bool) {
        let deadline = Date().addingTimeInterval(seconds)
        var received = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while Date() < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let wait = Int32(max(1, deadline.timeIntervalSinceNow * 1000))
            guard poll(&poller, 1, wait) > 0 else { continue }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { return (received, true) }
            received.append(contentsOf: buffer[0..<n])
        }
        return (received, false)
    }
}

@Suite struct ConnectionLimitTests {
    func withServer(_ configure: @escaping (inout ReviewOptions) -> Void = { _ in },
                    _ body: (RunningServer, [PairID]) async throws -> Void) async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (dataset, ids) = try makeReviewDataset(in: dir, count: 2)
        let server = try await RunningServer.start(dataset, configure: configure)
        do {
            try await body(server, ids)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    /// Blocking socket work off Swift's cooperative threads, which the server needs.
    func offThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
        }
    }

    @Test func http10ResponseClosesTheConnection() async throws {
        try await withServer { server, _ in
            let port = server.port
            let (text, closed) = try await offThread { () throws -> (String, Bool) in
                let connection = try RawConnection(port: port)
                connection.send("GET /api/pairs HTTP/1.0\r\nHost: 127.0.0.1:\(port)\r\n\r\n")
                let (data, closed) = connection.receive(for: 60)
                return (String(decoding: data, as: UTF8.self), closed)
            }
            #expect(text.hasPrefix("HTTP/1.1 200"), "\(text.prefix(80))")
            #expect(closed, "an HTTP/1.0 answer leaves the connection open")
        }
    }

    @Test func silentAndSlowConnectionsTimeOut() async throws {
        try await withServer({ $0.connections.idleTimeout = .seconds(1) }) { server, _ in
            let port = server.port
            let results = try await offThread { () throws -> [Bool] in
                let silent = try RawConnection(port: port)
                let halfHeader = try RawConnection(port: port)
                halfHeader.send("GET /api/pairs HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nX-Slow: ")
                let halfBody = try RawConnection(port: port)
                halfBody.send("POST /api/review HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
                // Each returns as soon as the server closes it (about 1 s); the bound only keeps a server that never
                // does from hanging the suite. 30 s was too short under AddressSanitizer with the whole suite running:
                // this suite's three tests all ended together about 150 s in, their servers stalled until then (tests
                // that block Swift's two cooperative threads while they wait for processes), so the silent
                // connection's 30 s ran out inside the stall.
                let bound = TestTime.scaled(300)
                return [silent.receive(for: bound).closed, halfHeader.receive(for: bound).closed,
                        halfBody.receive(for: bound).closed]
            }
            #expect(results == [true, true, true], "\(results)")
        }
    }

    @Test func connectionsAreCapped() async throws {
        try await withServer({ $0.connections.maxConnections = 1 }) { server, _ in
            let port = server.port
            let (whileHeld, afterRelease) = try await offThread { () throws -> (Bool, String) in
                var holder: RawConnection? = try RawConnection(port: port)
                holder?.send("GET /api/pairs HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n\r\n")
                _ = holder?.receive(for: 1)
                let waiting = try RawConnection(port: port)
                waiting.send("GET /api/facets HTTP/1.0\r\nHost: 127.0.0.1:\(port)\r\n\r\n")
                let early = waiting.receive(for: 1.5)
                holder = nil
                let late = waiting.receive(for: 60)
                return (early.data.isEmpty, String(decoding: late.data, as: UTF8.self))
            }
            #expect(whileHeld, "a second connection was served while the only slot was taken")
            #expect(afterRelease.hasPrefix("HTTP/1.1 200"), "\(afterRelease.prefix(80))")
        }
    }
}
