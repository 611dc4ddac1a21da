import Foundation
#if canImport(Glibc)
import Glibc
#endif
import CPseudoTerminal
import ThreadSupport

/// A TriggerBox on a pseudo-terminal, for tests and `virtual-rig`: it reads ESPER's instructions from the
/// terminal's other end, answers as the box does (`tenFour`, its value lines, nothing for `S`), keeps the enable
/// arrays and bulb time, and on `S` reports the enabled shutter outputs to `onFire`. `fault` makes it misbehave as
/// a real box or cable can.
public final class VirtualTriggerBox: Sendable {
    public enum Fault: Sendable, Equatable {
        case none
        /// Reads instructions and answers none (wrong mode, wrong baud rate).
        case silent
        /// Answers every instruction with line noise.
        case garbled
    }

    struct State: Sendable {
        var focus = [Bool](repeating: true, count: 6)
        var shutter = [Bool](repeating: true, count: 6)
        var bulb = 100
        var focusAsserted = false
        var fault = Fault.none
        var instructions: [String] = []
    }

    /// The terminal a client opens, e.g. /dev/pts/7.
    public let device: String
    public let name: String
    private let responder: Responder
    private let thread: JoinableThread

    /// Opens the pseudo-terminal and starts answering; `onFire` gets the shutter outputs (0-based) each `S` fires.
    public init(name: String = "rigctl virtual TriggerBox", onFire: @escaping @Sendable ([Int]) -> Void) throws {
        var path = [CChar](repeating: 0, count: 128)
        let fd = rig_open_pseudo_terminal(&path, path.count)
        guard fd >= 0 else {
            throw VirtualTriggerBoxError(reason: "cannot open a pseudo-terminal: \(String(cString: strerror(errno)))")
        }
        device = String(cString: path)
        self.name = name
        let responder = Responder(master: fd, name: name, onFire: onFire)
        self.responder = responder
        do {
            thread = try JoinableThread(name: "virtual trigger box") { responder.serve() }
        } catch {
            close(fd)
            throw error
        }
    }

    public var fault: Fault {
        get { responder.state.value.fault }
        set { responder.state.withLock { $0.fault = newValue } }
    }

    /// Every instruction received so far, without newlines.
    public var instructions: [String] { responder.state.value.instructions }

    /// The box pulled out: the terminal's other end sees a hang-up.
    public func unplug() { stop() }

    /// Stops answering and closes the terminal (also when the box is released: its thread holds the responder,
    /// not the box).
    public func stop() {
        responder.stopping.withLock { $0 = true }
        thread.join()
        responder.closeOnce()
    }

    deinit { stop() }
}

/// The box's side of the terminal, run by its thread.
final class Responder: Sendable {
    let master: Int32
    let name: String
    let onFire: @Sendable ([Int]) -> Void
    let state = LockedValue(VirtualTriggerBox.State())
    let stopping = LockedValue(false)
    private let closed = LockedValue(false)

    init(master: Int32, name: String, onFire: @escaping @Sendable ([Int]) -> Void) {
        self.master = master
        self.name = name
        self.onFire = onFire
    }

    func closeOnce() {
        closed.withLock { done in
            if !done { close(master); done = true }
        }
    }

    func serve() {
        var pending = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 256)
        while !stopping.value {
            var entry = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 20) > 0 else { continue }
            let n = buffer.withUnsafeMutableBytes { read(master, $0.baseAddress, $0.count) }
            // No reader on the other end yet (EIO) or nothing after all: wait for the next poll.
            guard n > 0 else { usleep(5_000); continue }
            pending += buffer[..<n]
            while let end = pending.firstIndex(of: UInt8(ascii: "\n")) {
                var line = String(decoding: pending[..<end], as: UTF8.self)
                pending.removeSubrange(...end)
                if line.hasSuffix("\r") { line.removeLast() }
                if let reply = answer(line) { send(reply + "\r\n") }
            }
            if pending.count > 1024 { pending.removeAll() }
        }
    }

    private func send(_ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count && !stopping.value {
            let n = bytes[offset...].withUnsafeBytes { write(master, $0.baseAddress, $0.count) }
            if n > 0 { offset += n } else { usleep(1_000) }
        }
    }

    /// The box's answer to one instruction (nil: none), after recording it and acting on it.
    func answer(_ line: String) -> String? {
        let (reply, fired, fault) = state.withLock { s -> (String?, [Int]?, VirtualTriggerBox.Fault) in
            s.instructions.append(line)
            func flags(_ text: Substring) -> [Bool]? {
                guard (1...6).contains(text.count), text.allSatisfy({ $0 == "0" || $0 == "1" }) else { return nil }
                let given = text.map { $0 == "1" }
                return given + [Bool](repeating: false, count: 6 - given.count)
            }
            func words(_ values: [Bool]) -> String { values.map { $0 ? "EN " : "DIS " }.joined() }
            let rest = line.dropFirst()
            switch line.first {
            case "S" where rest.isEmpty:
                return (nil, s.shutter.indices.filter { s.shutter[$0] }, s.fault)
            case "F" where rest == "1" || rest == "0":
                s.focusAsserted = rest == "1"
                return ("tenFour", nil, s.fault)
            case "f": if let v = flags(rest) { s.focus = v; return ("tenFour", nil, s.fault) }
            case "s": if let v = flags(rest) { s.shutter = v; return ("tenFour", nil, s.fault) }
            case "b": if let ms = Int(rest), (0...30_000).contains(ms) { s.bulb = ms; return ("tenFour", nil, s.fault) }
            case "B" where rest.isEmpty: return ("BulbTime:[\(s.bulb)]", nil, s.fault)
            case "V" where rest.isEmpty: return ("FocusArray:[\(words(s.focus))]", nil, s.fault)
            case "G" where rest.isEmpty: return ("ShutterArray:[\(words(s.shutter))]", nil, s.fault)
            case "N" where rest.isEmpty: return ("BoxName:[\(name)]", nil, s.fault)
            case "M" where rest.isEmpty: return ("Mode:[ 0 ]", nil, s.fault)
            default: break
            }
            // The firmware ignores what it does not know.
            return (nil, nil, s.fault)
        }
        if let fired { onFire(fired) }
        switch fault {
        case .none: return reply
        case .silent: return nil
        case .garbled: return reply == nil ? nil : "\u{1B}\u{FF}~~tenF\u{07}"
        }
    }
}

public struct VirtualTriggerBoxError: Error, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}
