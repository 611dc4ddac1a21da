import Foundation
import PairVocabulary
import ThreadSupport

/// The rig file's `triggerBox` section: the serial device of a box that speaks the ESPER TriggerBox instruction set
/// (an ESPER box, or the Arduino firmware in firmware/), which of its outputs is wired to which camera, and how it
/// fires. See docs/rig.md.
public struct TriggerBoxSettings: Sendable, Equatable, Codable {
    /// The box's serial port, e.g. /dev/ttyACM0.
    public var device: String
    /// The output (1-6, as numbered on the box) wired to the shallow camera's focus and shutter lines.
    public var shallowOutput: Int
    /// The output wired to the deep camera (the same as the shallow one's when one output feeds both).
    public var deepOutput: Int
    /// Seconds the focus lines are closed before the shutter fires (a half-press that wakes the cameras); 0 leaves
    /// focus lines open.
    public var focusLead: Double
    /// The box's bulb time in milliseconds (0-30,000): how long it holds the shutter lines closed. 0 lets the
    /// cameras' own shutter times rule (the box's default short pulse).
    public var bulbMilliseconds: Int

    public init(device: String, shallowOutput: Int = 1, deepOutput: Int = 2, focusLead: Double = 0,
                bulbMilliseconds: Int = 0) {
        self.device = device
        self.shallowOutput = shallowOutput
        self.deepOutput = deepOutput
        self.focusLead = focusLead
        self.bulbMilliseconds = bulbMilliseconds
    }

    public static let outputRange = 1...TriggerBoxCommand.outputs
    public static let focusLeadRange = 0.0...10.0

    /// The enable array (0-based outputs) with the rig's two outputs on.
    public var enabledOutputs: [Bool] {
        (0..<TriggerBoxCommand.outputs).map { $0 + 1 == shallowOutput || $0 + 1 == deepOutput }
    }
}

/// What a trigger box holds, as read back from it.
public struct TriggerBoxState: Sendable, Equatable, Codable {
    public var device: String
    public var name: String
    public var mode: Int
    /// Outputs (1-based) whose focus and shutter lines fire.
    public var focusOutputs: [Int]
    public var shutterOutputs: [Int]
    public var bulbMilliseconds: Int
}

/// A trigger box the rig drives: set up from the rig file and fired once a pair. Each instruction's reply is
/// checked, and a sequence of instructions (set-up, read-back, focus-fire-release) runs whole before another
/// starts; every error names the device.
public final class TriggerBox: Sendable {
    public let settings: TriggerBoxSettings
    private let port: TriggerBoxPort
    private let sequence = LockedValue(())

    public init(settings: TriggerBoxSettings, timeout: Double = 2) throws(TriggerBoxError) {
        self.settings = settings
        port = try TriggerBoxPort(device: settings.device, timeout: timeout)
    }

    public var device: String { settings.device }

    /// Writes the enable arrays (focus and shutter: the rig's two outputs) and the bulb time, then reads the box's
    /// state back; a read-back that differs from what was written is an error. The first instruction is repeated
    /// for up to `startup` seconds while the box does not answer: an Arduino resets when its port is opened and
    /// listens only after its bootloader, about 2 s later.
    @discardableResult
    public func configure(startup: Double = 3) throws -> TriggerBoxState {
        let enabled = settings.enabledOutputs
        let deadline = Date().addingTimeInterval(startup)
        try sequence.withLock { _ in
            while true {
                do {
                    _ = try port.send(.readName)
                    break
                } catch TriggerBoxError.noReply where Date() < deadline {
                    continue
                }
            }
            try port.send(.focusEnable(enabled))
            try port.send(.shutterEnable(enabled))
            try port.send(.bulb(milliseconds: settings.bulbMilliseconds))
        }
        let state = try read()
        let wanted = enabled.indices.filter { enabled[$0] }.map { $0 + 1 }
        guard state.focusOutputs == wanted, state.shutterOutputs == wanted, state.bulbMilliseconds == settings.bulbMilliseconds
        else {
            throw TriggerBoxError.unexpectedReply(
                device: device, command: "read-back",
                reply: "focus outputs \(state.focusOutputs), shutter outputs \(state.shutterOutputs), bulb \(state.bulbMilliseconds) ms; "
                    + "written: outputs \(wanted), bulb \(settings.bulbMilliseconds) ms")
        }
        return state
    }

    /// The box's name, mode, enable arrays and bulb time.
    public func read() throws -> TriggerBoxState {
        try sequence.withLock { _ in
            guard case .name(let name)? = try port.send(.readName),
                  case .mode(let mode)? = try port.send(.readMode),
                  case .focusArray(let focus)? = try port.send(.readFocusArray),
                  case .shutterArray(let shutter)? = try port.send(.readShutterArray),
                  case .bulbTime(let bulb)? = try port.send(.readBulb)
            else { throw TriggerBoxError.noReply(device: settings.device, command: "read-back", seconds: port.timeout) }
            func on(_ flags: [Bool]) -> [Int] { flags.indices.filter { flags[$0] }.map { $0 + 1 } }
            return TriggerBoxState(device: settings.device, name: name, mode: mode, focusOutputs: on(focus),
                                   shutterOutputs: on(shutter), bulbMilliseconds: bulb)
        }
    }

    /// Fires the enabled outputs: focus closed `focusLead` seconds first (when set), then the shutter, then focus
    /// released. Returns the host time just before the shutter instruction was sent.
    @discardableResult
    public func fire() throws -> Date {
        try sequence.withLock { _ in
            if settings.focusLead > 0 {
                try port.send(.focus(true))
                Thread.sleep(forTimeInterval: settings.focusLead)
            }
            let sent = Date()
            try port.send(.fire)
            if settings.focusLead > 0 { try port.send(.focus(false)) }
            return sent
        }
    }
}
