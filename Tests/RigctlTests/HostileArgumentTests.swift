import Foundation
import Imaging
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Bad arguments are refused before anything happens; a vanished reader is an error, never a silent death.
@Suite struct HostileArgumentTests {
    /// A rig file whose cameras are on loopback ports where nothing listens: connecting to them fails, so a
    /// command that gets as far as a camera says so.
    func deadRigFile(in dir: URL) throws -> URL {
        let template = try String(contentsOf: packageRoot().appendingPathComponent("calibration/virtual.rig.json"), encoding: .utf8)
        // Port 1 (tcpmux) on loopback: nothing listens there in a test machine, and binding it needs root anyway.
        let text = template.replacingOccurrences(of: "15740:15741", with: "1:2").replacingOccurrences(of: "15742:15743", with: "3:4")
        let url = dir.appendingPathComponent("dead.rig.json")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    @Test func captureValidatesItsArgumentsBeforeTouchingACamera() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let rig = try deadRigFile(in: dir)
        let ds = dir.appendingPathComponent("ds")
        // An empty scene name.
        let empty = try await CommandLine.run(["capture", "--rig", rig.path, "--scene", "", "--dataset", ds.path, "--no-model"])
        #expect(empty.status != 0)
        #expect(empty.stderr.contains("--scene"), "\(empty.stderr)")
        #expect(!empty.stderr.contains("camera"), "a camera was contacted: \(empty.stderr)")
        #expect(!FileManager.default.fileExists(atPath: ds.path))
        // A model that does not exist is found before the cameras are.
        let model = try await CommandLine.run(["capture", "--rig", rig.path, "--scene", "desk", "--dataset", ds.path,
                                               "--model", dir.appendingPathComponent("missing.safetensors").path])
        #expect(model.status == 2, "\(model.stderr)")
        #expect(model.stderr.contains("missing.safetensors"), "\(model.stderr)")
        #expect(!model.stderr.contains("camera"), "a camera was contacted: \(model.stderr)")
    }

    @Test func aClosedOutputPipeIsNotADeathBySIGPIPE() async throws {
        // env --default-signal=PIPE: the test runner may ignore SIGPIPE, and an ignored signal is inherited, which
        // would hide the default disposition rigctl must not rely on.
        let env = try #require(findExecutable("env"))
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        close(fds[0])  // no reader: every write to the pipe fails with EPIPE (or raises SIGPIPE)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: env)
        process.arguments = ["--default-signal=PIPE", CommandLine.executable.path, "--help"]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle(fileDescriptor: fds[1], closeOnDealloc: true)
        process.standardError = FileHandle.nullDevice
        try await runToEnd(process)
        #expect(process.terminationReason == .exit, "rigctl was killed by signal \(process.terminationStatus)")
    }

    @Test func argumentsThatAreNotUTF8AreRefusedClearly() async throws {
        // Foundation cannot pass such bytes through Process, so the shell's printf makes them.
        let sh = try #require(findExecutable("sh"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: sh)
        process.arguments = ["-c", "exec \"$0\" metrics \"$(printf 'caf\\351.png')\" b.png", CommandLine.executable.path]
        let err = Pipe()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        let message = String(decoding: try await runToEnd(process, reading: err), as: UTF8.self)
        #expect(process.terminationStatus == 2)
        #expect(message.contains("not valid UTF-8") && message.contains("caf\\xE9.png"), "\(message)")
    }
}

/// The pixel limit can be set for a run, and a file over it is refused with exit status 2, naming it.
@Test func thePixelLimitIsAnOptionAndABombIsBadInput() async throws {
    let dir = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let image = dir.appendingPathComponent("big.png")
    try PNGFile.write(Raster8(width: 200, height: 100, channels: 3, samples: [UInt8](repeating: 9, count: 60_000)), to: image)
    let refused = try await CommandLine.run(["metrics", image.path, image.path], environment: ["RIGCTL_MAX_MEGAPIXELS": "0.01"])
    #expect(refused.status == 2, "\(refused.stderr)")
    #expect(refused.stderr.contains("big.png") && refused.stderr.contains("RIGCTL_MAX_MEGAPIXELS"), "\(refused.stderr)")
    let allowed = try await CommandLine.run(["metrics", image.path, image.path], environment: ["RIGCTL_MAX_MEGAPIXELS": "0.03"])
    #expect(allowed.status == 0, "\(allowed.stderr)")
}
