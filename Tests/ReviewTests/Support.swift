import DatasetBuilder
import Foundation
import Review
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A dataset of `count` synthetic pairs: scenes `scene-(i % 4)`, pair 4 and 9 rejected, even ones in test, a
/// `p95Shift` of i/10 on every pair but pair 3, and a PSNR for the `input` baseline on every pair.
/// Returns the dataset and the pair ids in insertion order.
func makeReviewDataset(in dir: URL, count: Int = 10) throws -> (Dataset, [Int64]) {
    let dataset = try Dataset.create(at: dir.appendingPathComponent("ds"))
    let scratch = dir.appendingPathComponent("scratch")
    let model = try dataset.registerModel(ModelInput(name: "input", weights: nil))
    var ids: [Int64] = []
    for i in 0..<count {
        let item = try SyntheticCapture.make(index: i, seed: 3, in: scratch, width: 32, height: 24, scenes: 4)
        let capture = try dataset.ingestCapture(item.capture)
        var pair = item.pair(captureID: capture.id, verdict: i % 5 == 4 ? .rejected : .accepted)
        pair.split = i % 2 == 0 ? .test : .train
        pair.quality = i == 3 ? ["ecc": 0.9] : ["ecc": 0.9, "p95Shift": Double(i) / 10]
        let added = try dataset.addPair(pair)
        ids.append(added.id)
        try dataset.recordEvaluation(EvaluationInput(pairID: added.id, modelID: model.id, psnr: 20 + Double((i * 3) % 7),
                                                     ssim: 0.5))
    }
    return (dataset, ids)
}

/// A review server on a free loopback port, stopped by `stop()` (the tests call it in a `defer`-like tail).
struct RunningServer {
    let port: Int
    let task: Task<Void, Error>

    static func start(_ dataset: Dataset, token: String? = nil) async throws -> RunningServer {
        let (stream, continuation) = AsyncStream.makeStream(of: ReviewAddress.self)
        let server = ReviewServer(dataset: dataset, options: ReviewOptions(host: "127.0.0.1", port: 0, token: token))
        let task = Task {
            defer { continuation.finish() }
            try await server.run { address in continuation.yield(address) }
        }
        var iterator = stream.makeAsyncIterator()
        guard let address = await iterator.next() else {
            _ = try await task.value
            throw HTTPTestError("the server stopped before it listened")
        }
        return RunningServer(port: address.port, task: task)
    }

    func stop() async {
        task.cancel()
        _ = try? await task.value
    }

    func request(_ path: String, headers: [String: String] = [:], host: String? = nil) async throws -> HTTPReply {
        try await request("GET", path, headers: headers, host: host)
    }

    func request(_ method: String, _ path: String, headers: [String: String] = [:], host: String? = nil,
                 body: Data? = nil) async throws -> HTTPReply {
        try await HTTPClient.send(method: method, port: port, path: path, host: host ?? "127.0.0.1:\(port)",
                                  headers: headers, body: body)
    }

    func json(_ path: String, headers: [String: String] = [:]) async throws -> [String: Any] {
        let reply = try await request(path, headers: headers)
        guard reply.status == 200 else { throw HTTPTestError("GET \(path): \(reply.status) \(reply.text)") }
        return try reply.object()
    }
}

struct HTTPTestError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

struct HTTPReply {
    let status: Int
    let headers: [(name: String, value: String)]
    let body: Data

    func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name.lowercased() }?.value }
    var text: String { String(decoding: body, as: UTF8.self) }
    func object() throws -> [String: Any] {
        guard let o = try JSONSerialization.jsonObject(with: body) as? [String: Any] else { throw HTTPTestError("not an object: \(text)") }
        return o
    }
}

/// A plain HTTP/1.1 client on a socket, so tests can send any Host, Origin or Cookie header they like. It runs on
/// its own thread (blocking calls must not hold Swift's cooperative threads, which the server needs); a receive
/// timeout turns a hung server into a failed test instead of a hung suite.
enum HTTPClient {
    static func send(method: String, port: Int, path: String, host: String, headers: [String: String],
                     body: Data?) async throws -> HTTPReply {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try sendBlocking(method: method, port: port, path: path, host: host,
                                                                    headers: headers, body: body) })
            }
        }
    }

    static func sendBlocking(method: String, port: Int, path: String, host: String, headers: [String: String],
                             body: Data?) throws -> HTTPReply {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HTTPTestError("socket: \(errno)") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw HTTPTestError("connect to port \(port): errno \(errno)") }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { head += "\(name): \(value)\r\n" }
        if let body { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        var request = Data(head.utf8)
        if let body { request.append(body) }
        try request.withUnsafeBytes { raw in
            var sent = 0
            while sent < raw.count {
                let n = Glibc.send(fd, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
                guard n > 0 else { throw HTTPTestError("send: errno \(errno)") }
                sent += n
            }
        }
        var received = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n == 0 { break }
            guard n > 0 else { throw HTTPTestError("recv: errno \(errno) after \(received.count) bytes") }
            received.append(contentsOf: buffer[0..<n])
            if let reply = try? parse(received, method: method), reply.complete { return reply.reply }
        }
        guard let reply = try parse(received, method: method)?.reply else { throw HTTPTestError("incomplete reply") }
        return reply
    }

    /// The reply once its head and (by Content-Length or chunked encoding) its whole body have arrived.
    static func parse(_ data: Data, method: String) throws -> (reply: HTTPReply, complete: Bool)? {
        let bytes = [UInt8](data)
        guard let end = find([13, 10, 13, 10], in: bytes, from: 0) else { return nil }
        let lines = String(decoding: bytes[0..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw HTTPTestError("bad status line \(lines[0])") }
        var headers: [(String, String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        func value(_ n: String) -> String? { headers.first { $0.0.lowercased() == n }?.1 }
        let rest = Array(bytes[(end + 4)...])
        if status == 304 || status == 204 || method == "HEAD" {
            return (HTTPReply(status: status, headers: headers, body: Data()), true)
        }
        if value("transfer-encoding")?.lowercased() == "chunked" {
            var body: [UInt8] = []
            var i = 0
            while let lineEnd = find([13, 10], in: rest, from: i) {
                let sizeText = String(decoding: rest[i..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
                guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else { throw HTTPTestError("bad chunk") }
                if size == 0 { return (HTTPReply(status: status, headers: headers, body: Data(body)), true) }
                let start = lineEnd + 2
                guard rest.count >= start + size + 2 else { break }
                body += rest[start..<(start + size)]
                i = start + size + 2
            }
            return (HTTPReply(status: status, headers: headers, body: Data(body)), false)
        }
        if let length = value("content-length").flatMap(Int.init) {
            return (HTTPReply(status: status, headers: headers, body: Data(rest.prefix(length))), rest.count >= length)
        }
        return (HTTPReply(status: status, headers: headers, body: Data(rest)), false)
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        for i in start...(haystack.count - needle.count) where haystack[i] == needle[0] {
            if Array(haystack[i..<(i + needle.count)]) == needle { return i }
        }
        return nil
    }
}
