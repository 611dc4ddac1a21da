import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Who may talk to the review or live-view server. A page on another site can make a browser send requests to a loopback
/// port, and a DNS name rebound to 127.0.0.1 makes them look same-origin; so every request must name this
/// server in its Host header, every POST must come from its own origin, and off-loopback every request must
/// carry the token printed at start.
public struct AccessPolicy: Sendable, Equatable {
    /// Host names (lower case, IPv6 without brackets) that the Host header may carry.
    public let hostNames: Set<String>
    /// With a wildcard bind address any IP literal is also accepted, since the lab's address is not known here.
    public let acceptsAnyIPLiteral: Bool
    public let port: Int
    /// Required on every request when set (non-loopback binds).
    public let token: String?

    public static let cookieName = "rigctl-review-token"

    public init(bindHost: String, port: Int, token: String?) {
        let host = bindHost.lowercased()
        var names: Set<String> = [host]
        var anyIP = false
        if Self.isLoopback(host) {
            names.formUnion(["127.0.0.1", "localhost"])
        } else if host == "0.0.0.0" || host == "::" {
            names = ["127.0.0.1", "localhost"]
            let machine = ProcessInfo.processInfo.hostName.lowercased()
            if !machine.isEmpty {
                names.insert(machine)
                if let short = machine.split(separator: ".").first { names.insert(String(short)) }
            }
            anyIP = true
        }
        hostNames = names
        acceptsAnyIPLiteral = anyIP
        self.port = port
        self.token = token
    }

    /// True for addresses only this machine can reach: there the Host and Origin checks suffice and no token is
    /// needed.
    public static func isLoopback(_ host: String) -> Bool {
        let h = host.lowercased()
        return h == "localhost" || h == "::1" || h.hasPrefix("127.")
    }

    /// A fresh token: 32 random bytes from the system's generator (getrandom on Linux), as hex.
    public static func makeToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    /// Whether a Host header (`name:port`, `[v6]:port`) names this server.
    public func acceptsHost(_ authority: String?) -> Bool {
        guard let authority, let (name, port) = Self.split(authority: authority) else { return false }
        guard (port ?? 80) == self.port else { return false }
        if hostNames.contains(name) { return true }
        return acceptsAnyIPLiteral && Self.isIPLiteral(name)
    }

    /// Whether an Origin header is this server's own origin, as reached through `authority` (already accepted).
    public func acceptsOrigin(_ origin: String, authority: String) -> Bool {
        origin.lowercased() == "http://" + authority.lowercased()
    }

    /// Compares without an early exit, so timing reveals nothing about how much of a guess was right.
    public func tokenMatches(_ candidate: String) -> Bool {
        guard let token else { return true }
        let a = Array(token.utf8), b = Array(candidate.utf8)
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }

    static func split(authority: String) -> (name: String, port: Int?)? {
        let text = authority.lowercased()
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let name = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if rest.isEmpty { return (name, nil) }
            guard rest.hasPrefix(":"), let port = Int(rest.dropFirst()) else { return nil }
            return (name, port)
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        switch parts.count {
        case 1: return parts[0].isEmpty ? nil : (String(parts[0]), nil)
        case 2:
            guard !parts[0].isEmpty, let port = Int(parts[1]) else { return nil }
            return (String(parts[0]), port)
        default: return nil
        }
    }

    static func isIPLiteral(_ name: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, name, &v4) == 1 || inet_pton(AF_INET6, name, &v6) == 1
    }
}

/// Where a started server (review, capture dashboard) listens, and the address to open (with the token, when one
/// is needed).
public struct ServerAddress: Sendable {
    public let host: String
    public let port: Int
    public let token: String?

    public init(host: String, port: Int, token: String?) {
        self.host = host
        self.port = port
        self.token = token
    }

    /// The address to open in a browser; for a wildcard bind, through this machine's name.
    public var url: String {
        let name = host == "0.0.0.0" || host == "::" ? ProcessInfo.processInfo.hostName
                 : host.contains(":") ? "[\(host)]" : host
        return "http://\(name):\(port)/" + (token.map { "?token=\($0)" } ?? "")
    }
}
