import Foundation
#if canImport(Glibc)
import Glibc
import ThreadSupport
#endif

/// A socket failure in the virtual camera, with the call that failed.
public struct SocketError: Error, CustomStringConvertible {
    public let operation: String
    public let reason: String
    public var description: String { "\(operation): \(reason)" }

    static func errno(_ operation: String) -> SocketError {
        SocketError(operation: operation, reason: String(cString: strerror(Glibc.errno)))
    }
}

/// Moves a descriptor to 3 or above. libgphoto2 2.5.30 closes descriptor 0 whenever it disconnects a PTP/IP
/// camera, so a camera emulated in the same process as a libgphoto2 host must never hold 0, 1 or 2.
func movedAboveStandardDescriptors(_ fd: Int32) -> Int32 {
    guard fd >= 0, fd < 3 else { return fd }
    let moved = fcntl(fd, F_DUPFD_CLOEXEC, 3)
    guard moved >= 0 else { return fd }
    _ = Glibc.close(fd)
    return moved
}

/// A listening TCP socket on the loopback interface.
final class TCPListener: Sendable {
    let fd: Int32
    let port: UInt16

    /// Binds 127.0.0.1:`port`; port 0 picks a free one (read `port` afterwards).
    init(port: UInt16) throws {
        let fd = movedAboveStandardDescriptors(socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0))
        guard fd >= 0 else { throw SocketError.errno("socket") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            let error = SocketError.errno("bind 127.0.0.1:\(port)")
            _ = Glibc.close(fd)
            throw error
        }
        guard listen(fd, 4) == 0 else {
            let error = SocketError.errno("listen")
            _ = Glibc.close(fd)
            throw error
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        self.port = UInt16(bigEndian: actual.sin_port)
    }

    /// Waits up to `timeoutMs` for a connection; nil when none came.
    func accept(timeoutMs: Int32) throws -> TCPConnection? {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&pfd, 1, timeoutMs)
        if ready < 0 {
            if Glibc.errno == EINTR { return nil }
            throw SocketError.errno("poll")
        }
        if ready == 0 { return nil }
        let client = movedAboveStandardDescriptors(Glibc.accept(fd, nil, nil))
        guard client >= 0 else {
            if Glibc.errno == EINTR || Glibc.errno == EAGAIN { return nil }
            throw SocketError.errno("accept")
        }
        var one: Int32 = 1
        setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return TCPConnection(fd: client)
    }

    private let isClosed = LockedValue(false)

    /// Closes once: a second close could hit a descriptor number the process has since reused.
    func close() {
        isClosed.withLock { closed in
            guard !closed else { return }
            closed = true
            _ = Glibc.close(fd)
        }
    }
}

/// One accepted connection, owned by the thread that reads it: only that thread closes it. Other threads may
/// write (serialised) or `shutdown()` it, which wakes the reader with end of stream without freeing the
/// descriptor, so a number the process reuses is never read or closed by mistake.
final class TCPConnection: Sendable {
    private struct State { var isClosed = false, isShutDown = false }
    private let state = LockedValue(State())
    private let fd: Int32

    init(fd: Int32) { self.fd = fd }

    /// Reads exactly `count` bytes. Returns nil at end of stream or when `shouldStop` says so. Owner thread only.
    func read(count: Int, shouldStop: () -> Bool) throws -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            if shouldStop() { return nil }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, 100)
            if ready < 0 {
                if Glibc.errno == EINTR { continue }
                throw SocketError.errno("poll")
            }
            if ready == 0 { continue }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + got, count - got, 0) }
            if n == 0 { return nil }
            if n < 0 {
                if Glibc.errno == EINTR || Glibc.errno == EAGAIN { continue }
                if Glibc.errno == ECONNRESET { return nil }
                throw SocketError.errno("recv")
            }
            got += n
        }
        return buffer
    }

    /// Writes all bytes; serialised so that two threads never interleave packets.
    func write(_ bytes: [UInt8]) throws {
        try state.withLock { state in
            guard !state.isClosed, !state.isShutDown else { throw SocketError(operation: "send", reason: "connection closed") }
            var sent = 0
            while sent < bytes.count {
                let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
                if n < 0 {
                    if Glibc.errno == EINTR || Glibc.errno == EAGAIN { continue }
                    throw SocketError.errno("send")
                }
                sent += n
            }
        }
    }

    /// Ends the connection for both sides without releasing the descriptor (any thread).
    func shutdown() {
        state.withLock { state in
            guard !state.isClosed, !state.isShutDown else { return }
            state.isShutDown = true
            _ = Glibc.shutdown(fd, Int32(SHUT_RDWR))
        }
    }

    /// Releases the descriptor (owner thread only, idempotent).
    func close() {
        state.withLock { state in
            guard !state.isClosed else { return }
            state.isClosed = true
            if !state.isShutDown { _ = Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
            _ = Glibc.close(fd)
        }
    }
}
