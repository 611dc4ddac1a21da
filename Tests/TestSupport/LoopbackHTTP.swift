import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A test's HTTP exchange went wrong (no connection, a reply that is not HTTP).
public struct HTTPTestError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// A server's reply, headers in the order they came.
public struct HTTPReply {
    public let status: Int
    public let headers: [(name: String, value: String)]
    public let body: Data

    public func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name.lowercased() }?.value }
    public var text: String { String(decoding: body, as: UTF8.self) }
    public func object() throws -> [String: Any] {
        guard let o = try JSONSerialization.jsonObject(with: body) as? [String: Any] else { throw HTTPTestError("not an object: \(text)") }
        return o
    }
}

/// A plain HTTP/1.1 client on a socket, so tests can send any Host, Origin or Cookie header they like. It runs on
/// its own thread (blocking calls must not hold Swift's cooperative threads, which the server needs); a receive
/// timeout turns a hung server into a failed test instead of a hung suite.
public enum HTTPClient {
    public static func send(method: String, port: Int, path: String, host: String, headers: [String: String],
                     body: Data?) async throws -> HTTPReply {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try sendBlocking(method: method, port: port, path: path, host: host,
                                                                    headers: headers, body: body) })
            }
        }
    }

    public static func sendBlocking(method: String, port: Int, path: String, host: String, headers: [String: String],
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
