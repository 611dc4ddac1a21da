import Foundation
import Rig
import Testing
import ThreadSupport
import VirtualCamera

/// `TriggerBoxPort` against the virtual TriggerBox on a pseudo-terminal: set-up, read-back, firing, and every
/// fault a clear error that names the device.
@Suite struct TriggerBoxPortTests {
    @Test func setUpReadBackAndFire() throws {
        let fired = LockedValue<[[Int]]>([])
        let box = try VirtualTriggerBox(name: "test box") { outputs in fired.withLock { $0.append(outputs) } }
        defer { box.stop() }
        let port = try TriggerBoxPort(device: box.device)
        #expect(try port.send(.shutterEnable([true, true, false, false, false, false])) == .acknowledgement)
        #expect(try port.send(.focusEnable([true, true])) == .acknowledgement)
        #expect(try port.send(.bulb(milliseconds: 250)) == .acknowledgement)
        #expect(try port.send(.readBulb) == .bulbTime(milliseconds: 250))
        #expect(try port.send(.readShutterArray) == .shutterArray([true, true, false, false, false, false]))
        #expect(try port.send(.readFocusArray) == .focusArray([true, true, false, false, false, false]))
        #expect(try port.send(.readName) == .name("test box"))
        #expect(try port.send(.readMode) == .mode(0))
        #expect(try port.send(.focus(true)) == .acknowledgement)
        #expect(try port.send(.fire) == nil)
        #expect(try port.send(.focus(false)) == .acknowledgement)
        let deadline = Date().addingTimeInterval(5)
        while fired.value.isEmpty && Date() < deadline { usleep(2_000) }
        #expect(fired.value == [[0, 1]])
        #expect(box.instructions == ["s110000", "f11", "b250", "B", "G", "V", "N", "M", "F1", "S", "F0"])
    }

    @Test func aSilentBoxIsNoReplyNamingTheDevice() throws {
        let box = try VirtualTriggerBox { _ in }
        defer { box.stop() }
        box.fault = .silent
        let port = try TriggerBoxPort(device: box.device, timeout: 0.3)
        let error = try #require(throws: TriggerBoxError.self) { try port.send(.readName) }
        #expect(error == .noReply(device: box.device, command: "N", seconds: 0.3))
        #expect("\(error)".contains(box.device) && "\(error)".contains("did not answer N"), "\(error)")
    }

    @Test func aGarbledLineIsAnErrorQuotingItPrintably() throws {
        let box = try VirtualTriggerBox { _ in }
        defer { box.stop() }
        box.fault = .garbled
        let port = try TriggerBoxPort(device: box.device)
        let error = try #require(throws: TriggerBoxError.self) { try port.send(.bulb(milliseconds: 10)) }
        guard case .garbled(let device, _) = error else { Issue.record("\(error)"); return }
        #expect(device == box.device)
        #expect("\(error)".contains("\\u{1B}") && !"\(error)".unicodeScalars.contains { $0.value == 0x1B }, "\(error)")
    }

    @Test func anUnpluggedBoxIsNamed() throws {
        let box = try VirtualTriggerBox { _ in }
        let port = try TriggerBoxPort(device: box.device, timeout: 2)
        #expect(try port.send(.readMode) == .mode(0))
        box.unplug()
        let error = try #require(throws: TriggerBoxError.self) {
            try port.send(.readMode)
            try port.send(.readMode)
        }
        #expect(error == .unplugged(device: box.device) || error == .noReply(device: box.device, command: "M", seconds: 2),
                "\(error)")
    }

    @Test func aFileThatIsNotATerminalIsRefused() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("rigctl-not-a-tty-" + UUID().uuidString)
        try Data().write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        #expect(throws: TriggerBoxError.notATerminal(device: file.path)) { try TriggerBoxPort(device: file.path) }
        let missing = file.path + "-missing"
        let error = try #require(throws: TriggerBoxError.self) { try TriggerBoxPort(device: missing) }
        #expect("\(error)".contains(missing) && "\(error)".contains("No such file"), "\(error)")
    }
}
