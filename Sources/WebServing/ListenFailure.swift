import Foundation
import NIOCore

/// Why a server could not listen, in words a person can act on: SwiftNIO reports a busy port as
/// `bind(descriptor:ptr:bytes:): Address already in use) (errno: 98)`.
public enum ListenFailure: Sendable, Equatable {
    case addressInUse
    case permissionDenied
    case addressNotAvailable

    /// The failure `error` is, when it is one of these; nil for anything else.
    public init?(_ error: any Error) {
        guard let io = error as? IOError else { return nil }
        switch io.errnoCode {
        case EADDRINUSE: self = .addressInUse
        case EACCES, EPERM: self = .permissionDenied
        case EADDRNOTAVAIL: self = .addressNotAvailable
        default: return nil
        }
    }

    /// One sentence naming the address and the option that changes it.
    public func explanation(host: String, port: Int) -> String {
        switch self {
        case .addressInUse:
            "port \(port) on \(host) is already in use (another rigctl server, or another program): choose another "
                + "with --port N, or --port 0 for a free one"
        case .permissionDenied:
            "this user may not listen on port \(port) of \(host) (ports below 1024 need privileges): choose another "
                + "with --port N, or --port 0 for a free one"
        case .addressNotAvailable:
            "\(host) is not an address of this machine: choose one with --host (127.0.0.1 serves this machine only)"
        }
    }
}
