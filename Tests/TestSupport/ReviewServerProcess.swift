import Foundation

/// A running `rigctl review` (or any rigctl server that prints "... at http://ADDRESS" then "Ctrl-C stops"): the
/// process, the first line it printed and its address. The tests and the review benchmarks start the server the
/// same way, so they share this.
public struct ReviewServerProcess {
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
