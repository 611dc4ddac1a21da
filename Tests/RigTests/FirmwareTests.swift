import Foundation
import Rig
import Testing
import TestSupport
import ThreadSupport
#if canImport(Glibc)
import Glibc
#endif

/// firmware/triggerbox: the Arduino sketch builds for an Uno with Debian's toolchain, and rigctl's TriggerBox drives
/// the sketch's instruction handling (TriggerBoxCore.h, built for the host and served on a pseudo-terminal by
/// firmware/host/host_box.cpp) exactly as it drives an ESPER box. Both need the Debian packages
/// script/install-deps installs (g++, gcc-avr, avr-libc, arduino-core-avr, arduino-mk): without them these fail.
@Suite struct FirmwareTests {
    static let firmware = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("firmware")

    /// `tool` found on PATH, run in `directory` to the end (TestSupport's `runTool`): its status and combined output.
    static func run(_ tool: String, _ arguments: [String], in directory: URL) async throws -> ToolResult {
        try await runTool("/usr/bin/env", [tool] + arguments, home: directory, currentDirectory: directory)
    }

    @Test func theSketchBuildsForAnArduinoUno() async throws {
        for needed in ["/usr/share/arduino/Arduino.mk", "/usr/share/arduino/hardware/arduino/avr/cores/arduino/main.cpp",
                       "/usr/bin/avr-g++"] {
            try #require(FileManager.default.fileExists(atPath: needed),
                         "\(needed) is missing: script/install-deps installs gcc-avr, avr-libc, arduino-core-avr and arduino-mk")
        }
        // A copy, so the build leaves nothing in the source tree.
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sketch = dir.appendingPathComponent("triggerbox")
        try FileManager.default.copyItem(at: Self.firmware.appendingPathComponent("triggerbox"), to: sketch)
        try? FileManager.default.removeItem(at: sketch.appendingPathComponent("build-uno"))
        let build = try await Self.run("make", [], in: sketch)
        #expect(build.status == 0, "\(build.output)")
        let hex = try FileManager.default.contentsOfDirectory(atPath: sketch.appendingPathComponent("build-uno").path)
            .filter { $0.hasSuffix(".hex") && !$0.hasSuffix(".eep") }
        #expect(hex.count == 1, "\(hex)")
        // "Program:    3678 bytes (11.2% Full)": it must fit the Uno's 32,256 bytes of flash beside the bootloader.
        let program = build.output.split(separator: "\n").first { $0.hasPrefix("Program:") }
        let bytes = program.flatMap { $0.split(separator: " ").dropFirst().first.flatMap { Int($0) } }
        #expect(bytes.map { $0 > 1000 && $0 < 32_256 } == true, "\(build.output)")
    }

    @Test func rigctlDrivesTheFirmwaresInstructionHandling() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let harness = dir.appendingPathComponent("host_box")
        let compile = try await Self.run("c++", ["-std=c++11", "-Wall", "-Wextra", "-Werror",
                                                 "-I", Self.firmware.appendingPathComponent("triggerbox").path,
                                                 Self.firmware.appendingPathComponent("host/host_box.cpp").path,
                                                 "-o", harness.path], in: dir)
        try #require(compile.status == 0, "the firmware core does not build for the host: \(compile.output)")

        let process = Process()
        process.executableURL = harness
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        // The first line is the terminal's path (read, like every wait on the harness below, on a thread of its own,
        // off Swift's cooperative threads).
        let first = try await JoinableThread.awaiting(name: "host-box-path") {
            var first = Data()
            while !first.contains(UInt8(ascii: "\n")) {
                let byte = output.fileHandleForReading.readData(ofLength: 1)
                guard !byte.isEmpty else { break }
                first += byte
            }
            return first
        }
        let device = String(decoding: first, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(device.hasPrefix("/dev/pts/"), "\(device)")

        let box = try TriggerBox(settings: TriggerBoxSettings(device: device, shallowOutput: 1, deepOutput: 2,
                                                              focusLead: 0.05, bulbMilliseconds: 200))
        let state = try await JoinableThread.awaiting(name: "host-box-configure") { try box.configure() }
        #expect(state.device == device && state.name == "rigctl Arduino TriggerBox" && state.mode == 0)
        #expect(state.focusOutputs == [1, 2] && state.shutterOutputs == [1, 2] && state.bulbMilliseconds == 200)
        _ = try await JoinableThread.awaiting(name: "host-box-fire") { try box.fire() }
        // Ending its standard input ends the harness; its log of the outputs is then complete.
        try input.fileHandleForWriting.close()
        let log = String(decoding: try await awaitExit(of: process, reading: output), as: UTF8.self)
        var events: [(String, Double)] = []
        for line in log.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard words.count == 4, let time = Double(words[3]) else { continue }
            events.append(("\(words[0]) \(words[1]) \(words[2])", time))
        }
        #expect(events.map(\.0) == ["focus 1 closed", "focus 2 closed", "shutter 1 closed", "shutter 2 closed",
                                    "shutter 1 open", "shutter 2 open", "focus 1 open", "focus 2 open"], "\(log)")
        func at(_ name: String) -> Double { events.first { $0.0 == name }?.1 ?? .nan }
        #expect(at("shutter 1 closed") - at("focus 1 closed") >= 0.045, "the focus lead: \(log)")
        #expect(at("shutter 1 open") - at("shutter 1 closed") >= 0.19, "the 200 ms bulb time: \(log)")
    }
}
