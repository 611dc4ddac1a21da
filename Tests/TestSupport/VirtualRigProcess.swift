import Foundation
import ThreadSupport
#if canImport(Glibc)
import Glibc
#endif

/// A running `rigctl virtual-rig` on free ports, with its own HOME and rig file inside a test folder: the command-line
/// tests of several targets drive `rigctl capture` against it.
public struct VirtualRigProcess: Sendable {
    public let server: Process
    public let port: UInt16
    public let home: URL
    public let rigFile: URL
    public let log: URL

    /// What the virtual rig wrote so far (for failure messages).
    public var logText: String { String(decoding: (try? Data(contentsOf: log)) ?? Data(), as: UTF8.self) }

    /// Interrupts the virtual rig (as Ctrl-C does) and waits for it to end, the wait on a thread of its own (see
    /// `ReviewServerProcess.start`); should none start, it is interrupted all the same.
    public func stop() async {
        if server.isRunning { server.interrupt() }
        _ = try? await JoinableThread.awaiting(name: "virtual-rig-stop") { [server] in server.waitUntilExit() }
    }
}

public struct VirtualRigError: Error, CustomStringConvertible {
    public var description: String
}

/// A base port with four free ports after it on 127.0.0.1.
public func freePortBlock() throws -> UInt16 {
    for _ in 0..<50 {
        let base = UInt16.random(in: 20000...60000)
        var sockets: [Int32] = []
        var ok = true
        for p in base..<(base + 4) {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = p.bigEndian
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            let r = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            sockets.append(fd)
            if r != 0 { ok = false; break }
        }
        for fd in sockets { close(fd) }
        if ok { return base }
    }
    throw VirtualRigError(description: "no four free consecutive ports found")
}

/// Starts `rigctl virtual-rig` in `dir` (HOME in dir/home, rig file dir/rig.json, output in dir/server.log) and
/// waits for its rig file.
/// `port`: the same ports as an earlier virtual rig (a restarted session), else a free block.
public func startVirtualRig(_ rigctl: String, in dir: URL, arguments: [String], port given: UInt16? = nil) throws -> VirtualRigProcess {
    let home = dir.appendingPathComponent("home")
    try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
    let rigFile = dir.appendingPathComponent("rig.json"), log = dir.appendingPathComponent("server.log")
    let port = try given ?? freePortBlock()
    let server = Process()
    server.executableURL = URL(fileURLWithPath: rigctl)
    server.arguments = ["virtual-rig", "--port", String(port), "--rig-file", rigFile.path] + arguments
    var environment = ProcessInfo.processInfo.environment
    environment["HOME"] = home.path
    server.environment = environment
    _ = FileManager.default.createFile(atPath: log.path, contents: nil)
    let logHandle = try FileHandle(forWritingTo: log)
    server.standardOutput = logHandle
    server.standardError = logHandle
    try server.run()
    let deadline = Date().addingTimeInterval(20)
    while !FileManager.default.fileExists(atPath: rigFile.path) && Date() < deadline && server.isRunning {
        Thread.sleep(forTimeInterval: 0.05)
    }
    return VirtualRigProcess(server: server, port: port, home: home, rigFile: rigFile, log: log)
}

/// `startVirtualRig` from async tests: it waits for the rig file, on a thread of its own (see
/// `ReviewServerProcess.start`), starting the rig in one of the `ProcessSlots` (held until the rig file is there,
/// not for the rig's life).
public func startVirtualRig(_ rigctl: String, in dir: URL, arguments: [String], port given: UInt16? = nil) async throws -> VirtualRigProcess {
    try await ProcessSlots.shared.withSlot {
        try await JoinableThread.awaiting(name: "virtual-rig-start") {
            try startVirtualRig(rigctl, in: dir, arguments: arguments, port: given)
        }
    }
}
