import Foundation

/// The serial instruction set of an ESPER TriggerBox (firmware 1.2: 115200 baud, ASCII lines ending in a newline),
/// as ESPER publishes it ("Serial Instruction Set", "Complete commands list"): the subset rigctl drives, which the
/// Arduino firmware in firmware/ speaks too. Values only: opening the port and timing belong to the caller.
public enum TriggerBoxCommand: Sendable, Equatable {
    /// `S`: fire the enabled shutter outputs (the one command with no acknowledgement).
    case fire
    /// `F1` / `F0`: assert or release the enabled focus outputs.
    case focus(Bool)
    /// `f101000`: which outputs' focus lines `F1` asserts (one flag per output, 1 to 6 outputs).
    case focusEnable([Bool])
    /// `s101000`: which outputs' shutter lines `S` fires.
    case shutterEnable([Bool])
    /// `b200`: how long a shutter line is held, in milliseconds (0 to 30,000).
    case bulb(milliseconds: Int)
    /// `B`, `V`, `G`, `N`, `M`: read back the bulb time, the focus and shutter arrays, the name, the mode.
    case readBulb, readFocusArray, readShutterArray, readName, readMode

    /// The longest timing the box takes, in milliseconds.
    public static let maximumMilliseconds = 30_000
    /// The box's output count.
    public static let outputs = 6

    /// The instruction as the box reads it (with its newline), or why it cannot be sent.
    public func encoded() throws -> String {
        func flags(_ values: [Bool]) throws -> String {
            guard (1...Self.outputs).contains(values.count) else {
                throw TriggerBoxProtocolError.invalidCommand("an enable array has 1 to \(Self.outputs) outputs, not \(values.count)")
            }
            return values.map { $0 ? "1" : "0" }.joined()
        }
        let line: String
        switch self {
        case .fire: line = "S"
        case .focus(let on): line = on ? "F1" : "F0"
        case .focusEnable(let values): line = "f" + (try flags(values))
        case .shutterEnable(let values): line = "s" + (try flags(values))
        case .bulb(let ms):
            guard (0...Self.maximumMilliseconds).contains(ms) else {
                throw TriggerBoxProtocolError.invalidCommand("a bulb time is 0 to \(Self.maximumMilliseconds) ms, not \(ms)")
            }
            line = "b\(ms)"
        case .readBulb: line = "B"
        case .readFocusArray: line = "V"
        case .readShutterArray: line = "G"
        case .readName: line = "N"
        case .readMode: line = "M"
        }
        return line + "\n"
    }

    /// Whether the box answers the command with `tenFour` (setters and focus), a value line (reads), or nothing.
    public var reply: TriggerBoxReply.Kind {
        switch self {
        case .fire: .none
        case .focus, .focusEnable, .shutterEnable, .bulb: .acknowledgement
        case .readBulb: .bulbTime
        case .readFocusArray: .focusArray
        case .readShutterArray: .shutterArray
        case .readName: .name
        case .readMode: .mode
        }
    }
}

/// A line the box printed.
public enum TriggerBoxReply: Sendable, Equatable {
    case acknowledgement
    case bulbTime(milliseconds: Int)
    case focusArray([Bool])
    case shutterArray([Bool])
    case name(String)
    /// 0: simple mode (the one rigctl uses), 2: sequencer mode.
    case mode(Int)

    public enum Kind: Sendable, Equatable {
        case none, acknowledgement, bulbTime, focusArray, shutterArray, name, mode
    }

    public var kind: Kind {
        switch self {
        case .acknowledgement: .acknowledgement
        case .bulbTime: .bulbTime
        case .focusArray: .focusArray
        case .shutterArray: .shutterArray
        case .name: .name
        case .mode: .mode
        }
    }

    /// The longest line accepted; a longer one is garbage from a wrong baud rate or another device.
    public static let maximumLineLength = 120

    /// Reads one line (without its line ending; a trailing carriage return is dropped). Anything else than the
    /// documented replies is an error that quotes the line, printable.
    public init(line raw: String) throws {
        var line = Substring(raw)
        if line.hasSuffix("\r") { line = line.dropLast() }
        guard line.utf8.count <= Self.maximumLineLength, line.unicodeScalars.allSatisfy({ $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F }) else {
            throw TriggerBoxProtocolError.garbled(Self.printable(raw))
        }
        if line == "tenFour" { self = .acknowledgement; return }
        guard let open = line.firstIndex(of: ":"), line.hasSuffix("]"),
              line[line.index(after: open)...].hasPrefix("[") else {
            throw TriggerBoxProtocolError.garbled(Self.printable(raw))
        }
        let key = line[..<open]
        let value = line[line.index(open, offsetBy: 2)..<line.index(before: line.endIndex)]
        func number() throws -> Int {
            guard let n = Int(value.trimmingCharacters(in: .whitespaces)), n >= 0 else {
                throw TriggerBoxProtocolError.garbled(Self.printable(raw))
            }
            return n
        }
        func flags() throws -> [Bool] {
            let words = value.split(separator: " ")
            guard (1...TriggerBoxCommand.outputs).contains(words.count) else { throw TriggerBoxProtocolError.garbled(Self.printable(raw)) }
            return try words.map { word in
                switch word {
                case "EN": true
                case "DIS": false
                default: throw TriggerBoxProtocolError.garbled(Self.printable(raw))
                }
            }
        }
        switch key {
        case "BulbTime":
            let ms = try number()
            guard ms <= TriggerBoxCommand.maximumMilliseconds else { throw TriggerBoxProtocolError.garbled(Self.printable(raw)) }
            self = .bulbTime(milliseconds: ms)
        case "FocusArray": self = .focusArray(try flags())
        case "ShutterArray": self = .shutterArray(try flags())
        case "BoxName": self = .name(String(value))
        case "Mode": self = .mode(try number())
        default: throw TriggerBoxProtocolError.garbled(Self.printable(raw))
        }
    }

    /// A line as an error message can quote it: control and non-ASCII characters escaped, at most 60 characters.
    static func printable(_ line: String) -> String {
        var out = ""
        for scalar in line.unicodeScalars.prefix(60) {
            out += scalar.isASCII && scalar.value >= 0x20 && scalar.value < 0x7F
                ? String(scalar) : String(format: "\\u{%X}", scalar.value)
        }
        return line.unicodeScalars.count > 60 ? out + "..." : out
    }
}

public enum TriggerBoxProtocolError: Error, Equatable, CustomStringConvertible {
    case invalidCommand(String)
    /// A line that is none of the documented replies (quoted, printable).
    case garbled(String)

    public var description: String {
        switch self {
        case .invalidCommand(let why): "cannot send that to a trigger box: \(why)"
        case .garbled(let line): "the trigger box sent a line that is not one of its replies: \"\(line)\""
        }
    }
}
