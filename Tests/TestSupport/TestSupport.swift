import Foundation
import ThreadSupport

// Helpers shared by every test target: temporary folders, reproducible random numbers, the reference fixtures,
// and running built products or installed tools.

/// A fresh temporary directory per test, removed by the caller's `defer`.
public func makeTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("rigctl-tests-" + UUID().uuidString)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The package root (the folder holding Package.swift), found from this file's path, so fixtures resolve the
/// same way locally and in CI.
public func packageRoot() -> URL {
    var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    while url.path != "/" {
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        url = url.deletingLastPathComponent()
    }
    return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
}

/// A reference fixture, `../shared/fixtures/<relative>` from the package root. Tests that use one fail, not skip,
/// when it is missing: reading it throws.
public func fixture(_ relative: String) -> URL {
    packageRoot().deletingLastPathComponent().appendingPathComponent("shared/fixtures").appendingPathComponent(relative)
}

/// An executable product of this package, built next to the test bundle (`swift build --build-tests` builds every
/// product), or under the package's `.build` folder.
public func locateProduct(_ name: String) -> URL? {
    var candidates: [URL] = []
    var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    for _ in 0..<4 {
        url = url.deletingLastPathComponent()
        candidates.append(url)
    }
    candidates.append(Bundle.main.bundleURL.deletingLastPathComponent())
    let root = packageRoot()
    candidates += [".build/release", ".build/debug"].map { root.appendingPathComponent($0) }
    return candidates.map { $0.appendingPathComponent(name) }
        .first { FileManager.default.isExecutableFile(atPath: $0.path) }
}

public struct ToolResult: Sendable {
    public var status: Int32
    public var output: String
}

/// Finds an executable on PATH; nil when it is not installed.
public func findExecutable(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for dir in path.split(separator: ":") {
        let candidate = "\(dir)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}

/// Runs a tool with its own HOME and returns its exit status and combined output.
public func runTool(_ executable: String, _ arguments: [String], home: URL, currentDirectory: URL? = nil) throws -> ToolResult {
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

/// `runTool` from async tests: it waits for the tool, on a thread of its own (see `ReviewServerProcess.start`), and
/// runs it in one of the `ProcessSlots`.
public func runTool(_ executable: String, _ arguments: [String], home: URL, currentDirectory: URL? = nil) async throws -> ToolResult {
    try await ProcessSlots.shared.withSlot {
        try await JoinableThread.awaiting(name: "run-tool") {
            try runTool(executable, arguments, home: home, currentDirectory: currentDirectory)
        }
    }
}

/// Waits for a started `process` to end, reading `pipe` (when given) to its end first so that a chatty process cannot
/// fill it and block; returns what was read. The wait is on a thread of its own, off Swift's cooperative threads
/// (see `ReviewServerProcess.start`): for async tests that start a `Process` themselves.
@discardableResult
public func awaitExit(of process: Process, reading pipe: Pipe? = nil) async throws -> Data {
    try await JoinableThread.awaiting(name: "process-exit") {
        let data = pipe?.fileHandleForReading.readDataToEndOfFile() ?? Data()
        process.waitUntilExit()
        return data
    }
}

/// Starts `process` in one of the `ProcessSlots` and waits for it to end (see `awaitExit`), reading `pipe` when given;
/// returns what was read.
@discardableResult
public func runToEnd(_ process: Process, reading pipe: Pipe? = nil) async throws -> Data {
    try await ProcessSlots.shared.withSlot {
        try process.run()
        return try await awaitExit(of: process, reading: pipe)
    }
}

/// A safetensors file of one float with `metadata` in its header: enough for code that reads only the header
/// (what a model file is for), without weights.
public func writeHeaderOnlySafetensors(_ url: URL, metadata: [String: String]) throws {
    let meta = try JSONSerialization.data(withJSONObject: metadata, options: [.sortedKeys])
    var header = Data(#"{"__metadata__":"#.utf8) + meta + Data(#","x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#.utf8)
    while header.count % 8 != 0 { header.append(0x20) }
    var length = UInt64(header.count).littleEndian
    try (Data(bytes: &length, count: 8) + header + Data(count: 4)).write(to: url)
}
