import Foundation
import ThreadSupport

/// A running `rigctl review` (or any rigctl server that prints "... at http://ADDRESS" then "Ctrl-C stops"): the
/// process, the first line it printed and its address. The tests and the review benchmarks start the server the
/// same way, so they share this.
public struct ReviewServerProcess: Sendable {
    public let process: Process
    public let banner: String
    public let base: URL
    public var port: Int { base.port ?? 0 }

    public struct StartError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Starts `rigctl review --port 0` plus `arguments` and reads its output until it says how to stop it. A server
    /// that prints nothing within `watchdog` seconds is killed, which ends the read (only until it has printed: a
    /// loaded machine can take longer than that over a whole test).
    public static func start(rigctl: URL, _ arguments: [String], environment: [String: String] = [:],
                             watchdog: Double = 120) throws -> ReviewServerProcess {
        let process = Process()
        process.executableURL = rigctl
        process.arguments = ["review", "--port", "0"] + arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe()
        process.standardOutput = out
        process.standardInput = FileHandle.nullDevice
        process.standardError = FileHandle.standardError
        try process.run()
        let guardItem = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + watchdog, execute: guardItem)
        defer { guardItem.cancel() }
        var text = ""
        while !text.contains("Ctrl-C stops") {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        let first = text.split(separator: "\n").first.map(String.init) ?? ""
        guard let at = first.range(of: " at http://"),
              let url = URL(string: "http://" + first[at.upperBound...].trimmingCharacters(in: .whitespaces)) else {
            if process.isRunning { process.terminate() }
            throw StartError(description: "rigctl review printed no address: \(text)")
        }
        return ReviewServerProcess(process: process, banner: first, base: url)
    }

    /// Interrupts the server (as Ctrl-C does) and waits for it to end.
    public func stop() {
        if process.isRunning { process.interrupt() }
        process.waitUntilExit()
    }
}

/// The same from async tests, the blocking part on a thread of its own: an async test runs on Swift's cooperative
/// threads (as many as cores, two on CI), and one that held them while it waited for a process starved the
/// in-process servers of the tests beside it (review-server tests stalled about 150 s under AddressSanitizer).
/// In an async context these overloads are the ones chosen, so a call cannot block by accident.
extension ReviewServerProcess {
    public static func start(rigctl: URL, _ arguments: [String], environment: [String: String] = [:],
                             watchdog: Double = 120) async throws -> ReviewServerProcess {
        try await JoinableThread.awaiting(name: "review-server-start") {
            try Self.start(rigctl: rigctl, arguments, environment: environment, watchdog: watchdog)
        }
    }

    /// Interrupts the server and waits for it to end (should no thread start for the wait, it is interrupted all
    /// the same).
    public func stop() async {
        if process.isRunning { process.interrupt() }
        _ = try? await JoinableThread.awaiting(name: "review-server-stop") { [process] in process.waitUntilExit() }
    }
}
