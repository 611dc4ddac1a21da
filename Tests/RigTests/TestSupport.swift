import Foundation

/// A fresh temporary directory per test, removed by the caller's `defer`.
func makeTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("rigctl-tests-" + UUID().uuidString)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

struct ToolResult {
    var status: Int32
    var output: String
}

/// Finds an executable on PATH; nil when it is not installed.
func findExecutable(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for dir in path.split(separator: ":") {
        let candidate = "\(dir)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}

/// Runs a tool with its own HOME and returns its exit status and combined output.
func runTool(_ executable: String, _ arguments: [String], home: URL, currentDirectory: URL? = nil) throws -> ToolResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    var environment = ProcessInfo.processInfo.environment
    environment["HOME"] = home.path
    environment["LANG"] = "C"
    environment["LC_ALL"] = "C"
    process.environment = environment
    if let currentDirectory { process.currentDirectoryURL = currentDirectory }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ToolResult(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
}

import Rig
import VirtualCamera

/// A virtual rig on free loopback ports with small frames, and the rig file that points at it.
final class VirtualRigFixture {
    let rig: VirtualRig
    var file: RigFile
    let output: URL
    let root: URL

    init(width: Int = 480, height: Int = 320, format: CaptureFormat = .dng, trigger: TriggerMode = .software, fileTimeout: Double = 10,
         busyRetries: Int = 6) throws {
        root = try makeTemporaryDirectory()
        output = root.appendingPathComponent("pairs")
        let scene = Scene.builtIn(.planes, width: width, height: height)
        rig = try VirtualRig(scene: scene, width: width, height: height, format: format)
        rig.start()
        func spec(_ camera: VirtualCamera, _ role: CameraRole) -> RigCameraSpec {
            let s = camera.configuration.settings
            return RigCameraSpec(role: role, port: camera.portPath, serial: camera.configuration.serialNumber,
                                 settings: RoleSettings(aperture: s.fNumber, shutter: s.exposureTime, iso: s.iso, focusDistance: s.focusDistance))
        }
        file = RigFile(name: "test rig", trigger: trigger, cameras: [spec(rig.shallow, .shallow), spec(rig.deep, .deep)],
                       fileTimeout: fileTimeout, busyRetries: busyRetries, alignment: .object(["mirror": .string("horizontal")]))
    }

    /// Files in the output folder (none when it does not exist).
    var outputFiles: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: output.path)) ?? []).sorted()
    }

    func tearDown() {
        rig.stop()
        try? FileManager.default.removeItem(at: root)
    }
}
