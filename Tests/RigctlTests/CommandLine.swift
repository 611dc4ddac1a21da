import Foundation
import TestSupport
import ThreadSupport

/// Runs the built `rigctl` binary, which sits beside the test bundle in the build products folder.
struct CommandLine {
    struct Result: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The built `rigctl`, beside the test bundle.
    static var executable: URL {
        locateProduct("rigctl") ?? URL(fileURLWithPath: "rigctl-not-built")
    }

    /// `rigctl` started with `arguments`, this process's environment plus `environment`, and both outputs piped.
    private static func start(_ arguments: [String], environment: [String: String], in directory: URL? = nil) throws
        -> (process: Process, out: Pipe, err: Pipe)
    {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        return (process, out, err)
    }

    static func run(_ arguments: [String], environment: [String: String] = [:], in directory: URL? = nil) throws -> Result {
        let (process, out, err) = try start(arguments, environment: environment, in: directory)
        // Read before waiting so a chatty command cannot fill the pipe and block.
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }

    /// `run` from async tests: the wait on a thread of its own, off Swift's cooperative threads, which the servers of
    /// the tests beside it need (see `ReviewServerProcess.start`), in one of the `ProcessSlots`. In an async context
    /// this is the overload chosen.
    static func run(_ arguments: [String], environment: [String: String] = [:], in directory: URL? = nil) async throws -> Result {
        try await ProcessSlots.shared.withSlot {
            try await JoinableThread.awaiting(name: "rigctl-run") { try run(arguments, environment: environment, in: directory) }
        }
    }

    /// Runs `rigctl` and sends it SIGINT (Ctrl-C) once `marker` has appeared on its standard error: no clock, however
    /// loaded the machine. A command that ends before the marker is not signalled (the caller's expectations fail).
    static func interrupted(_ arguments: [String], environment: [String: String] = [:], once marker: String) throws -> Result {
        let (process, out, err) = try start(arguments, environment: environment)
        var stderr = Data()
        var ended = false
        while !String(decoding: stderr, as: UTF8.self).contains(marker) {
            let chunk = err.fileHandleForReading.availableData
            if chunk.isEmpty {
                ended = true
                break
            }
            stderr.append(chunk)
        }
        if !ended { kill(process.processIdentifier, SIGINT) }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        stderr.append(err.fileHandleForReading.readDataToEndOfFile())
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// `interrupted` from async tests: the wait for the marker and for the command's end on a thread of its own, in
    /// one of the `ProcessSlots` (see `run`). In an async context this is the overload chosen.
    static func interrupted(_ arguments: [String], environment: [String: String] = [:], once marker: String) async throws -> Result {
        try await ProcessSlots.shared.withSlot {
            try await JoinableThread.awaiting(name: "rigctl-interrupted") { try interrupted(arguments, environment: environment, once: marker) }
        }
    }
}

