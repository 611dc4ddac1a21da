import Foundation
import ThreadSupport
#if canImport(Glibc)
import Glibc
#endif

/// Why the trigger box could not be driven; every case names the device.
public enum TriggerBoxError: Error, Sendable, Equatable, CustomStringConvertible {
    case cannotOpen(device: String, reason: String)
    case notATerminal(device: String)
    /// The device went away (unplugged, or the box reset its USB serial port).
    case unplugged(device: String)
    case noReply(device: String, command: String, seconds: Double)
    case garbled(device: String, TriggerBoxProtocolError)
    case unexpectedReply(device: String, command: String, reply: String)

    public var description: String {
        switch self {
        case .cannotOpen(let device, let reason): "cannot open the trigger box \(device): \(reason)"
        case .notATerminal(let device): "\(device) is not a serial port (a trigger box appears as a tty, e.g. /dev/ttyUSB0)"
        case .unplugged(let device): "the trigger box \(device) is gone (unplugged?)"
        case .noReply(let device, let command, let seconds):
            "the trigger box \(device) did not answer \(command) within \(String(format: "%.1f", seconds)) s "
                + "(is it in blue, serial mode, and at 115200 baud?)"
        case .garbled(let device, let error): "\(device): \(error)"
        case .unexpectedReply(let device, let command, let reply):
            "the trigger box \(device) answered \(command) with \(reply)"
        }
    }
}

/// A trigger box's serial port: raw, 115200 baud, 8N1, one instruction at a time, each waited for as ESPER
/// advises (its `tenFour` or value line) except `S`, which the box does not acknowledge.
public final class TriggerBoxPort: Sendable {
    public let device: String
    /// How long a reply may take.
    public let timeout: Double
    /// The open descriptor and the bytes read past the last line; one exchange at a time holds the lock.
    private let connection: LockedValue<Connection>

    struct Connection: Sendable {
        var fd: Int32
        var pending: [UInt8] = []
    }

    public init(device: String, timeout: Double = 2) throws(TriggerBoxError) {
        self.device = device
        self.timeout = timeout
        let opened = open(device, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK)
        guard opened >= 0 else { throw .cannotOpen(device: device, reason: String(cString: strerror(errno))) }
        guard isatty(opened) == 1 else {
            close(opened)
            throw .notATerminal(device: device)
        }
        var settings = termios()
        if tcgetattr(opened, &settings) == 0 {
            cfmakeraw(&settings)
            cfsetispeed(&settings, speed_t(B115200))
            cfsetospeed(&settings, speed_t(B115200))
            settings.c_cflag |= tcflag_t(CLOCAL | CREAD)
            _ = tcsetattr(opened, TCSANOW, &settings)
        }
        connection = LockedValue(Connection(fd: opened))
    }

    deinit {
        let fd = connection.value.fd
        if fd >= 0 { close(fd) }
    }

    /// Sends one instruction and reads its reply (nil for `S`). A reply of another kind than the instruction's
    /// is an error, as is none within `timeout`.
    @discardableResult
    public func send(_ command: TriggerBoxCommand) throws -> TriggerBoxReply? {
        let line: String
        do { line = try command.encoded() } catch let error as TriggerBoxProtocolError { throw TriggerBoxError.garbled(device: device, error) }
        let name = line.trimmingCharacters(in: .newlines)
        let text: String? = try connection.withLock { c in
            try write(Array(line.utf8), on: c.fd)
            guard command.reply != .none else { return nil }
            return try readLine(command: name, from: &c)
        }
        guard let text else { return nil }
        let reply: TriggerBoxReply
        do { reply = try TriggerBoxReply(line: text) } catch let error as TriggerBoxProtocolError {
            throw TriggerBoxError.garbled(device: device, error)
        }
        guard reply.kind == command.reply else {
            throw TriggerBoxError.unexpectedReply(device: device, command: name, reply: TriggerBoxReply.printable(text))
        }
        return reply
    }

    private func write(_ bytes: [UInt8], on fd: Int32) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n > 0 { offset += n; continue }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && errno == EAGAIN { try wait(for: Int16(POLLOUT), on: fd, command: "writing", deadline: deadline()); continue }
            throw TriggerBoxError.unplugged(device: device)
        }
    }

    private func deadline() -> UInt64 { DispatchTime.now().uptimeNanoseconds + UInt64(timeout * 1e9) }

    /// Waits for the port to be ready until `deadline`; a hang-up or error is an unplugged box.
    private func wait(for events: Int16, on fd: Int32, command: String, deadline: UInt64) throws {
        while true {
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < deadline else { throw TriggerBoxError.noReply(device: device, command: command, seconds: timeout) }
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&entry, 1, Int32(max(1, (deadline - now) / 1_000_000)))
            if ready < 0 && errno == EINTR { continue }
            if ready < 0 { throw TriggerBoxError.unplugged(device: device) }
            if ready == 0 { continue }
            if entry.revents & Int16(POLLNVAL | POLLERR) != 0 { throw TriggerBoxError.unplugged(device: device) }
            if entry.revents & events != 0 { return }
            if entry.revents & Int16(POLLHUP) != 0 { throw TriggerBoxError.unplugged(device: device) }
        }
    }

    /// One line, newline-terminated, within the timeout; longer than a reply can be, it is garbage.
    private func readLine(command: String, from c: inout Connection) throws -> String {
        let until = deadline()
        while true {
            if let end = c.pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = c.pending[..<end]
                c.pending.removeSubrange(...end)
                return String(decoding: line, as: UTF8.self)
            }
            if c.pending.count > TriggerBoxReply.maximumLineLength {
                let text = String(decoding: c.pending, as: UTF8.self)
                c.pending.removeAll()
                throw TriggerBoxError.garbled(device: device, .garbled(TriggerBoxReply.printable(text)))
            }
            try wait(for: Int16(POLLIN), on: c.fd, command: command, deadline: until)
            var buffer = [UInt8](repeating: 0, count: 256)
            let n = buffer.withUnsafeMutableBytes { read(c.fd, $0.baseAddress, $0.count) }
            if n > 0 { c.pending += buffer[..<n]; continue }
            if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            throw TriggerBoxError.unplugged(device: device)
        }
    }
}
