import Foundation
import Imaging
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Outputs the user names, resource limits and crafted names: a clear error with the documented exit status, never
/// a replaced device, a death by signal or a half-written file.
@Suite struct HostileOutputTests {
    func isFIFO(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFIFO
    }

    /// `-o`/output arguments replace regular files only: a pipe (standing in for a device such as /dev/full, which
    /// only root could be shown to lose) or a folder is refused with exit status 2 and left as it was.
    @Test func outputArgumentsNeverReplaceNonRegularFiles() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fifo = dir.appendingPathComponent("node").path
        try #require(mkfifo(fifo, 0o644) == 0)
        let chart = try await CommandLine.run(["test-chart", fifo, "--size", "64x48"])
        #expect(chart.status == 2, "\(chart.stderr)")
        #expect(chart.stderr.contains(fifo) && chart.stderr.contains("not a regular file"), "\(chart.stderr)")
        #expect(isFIFO(fifo), "test-chart replaced the pipe")

        let dng = dir.appendingPathComponent("chart.dng").path
        #expect(try await CommandLine.run(["test-chart", dng, "--size", "64x48"]).status == 0)
        let convert = try await CommandLine.run(["convert", dng, fifo])
        #expect(convert.status == 2 && convert.stderr.contains("not a regular file"), "\(convert.stderr)")
        #expect(isFIFO(fifo), "convert replaced the pipe")
        let folder = try await CommandLine.run(["convert", dng, dir.path])
        #expect(folder.status == 2 && folder.stderr.contains("a folder"), "\(folder.stderr)")
        // A link to the pipe is followed for the check: the pipe is what would be lost.
        let link = dir.appendingPathComponent("link.png").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: fifo)
        #expect(try await CommandLine.run(["convert", dng, link]).status == 2)
        #expect(isFIFO(fifo))
    }

    /// Under `ulimit -f` a write fails with a message naming the limit, exit status 1, and no temporary is left -
    /// not a silent death by SIGXFSZ (status 153 from a shell).
    @Test func aFileSizeLimitIsAClearErrorWithNothingHalfWritten() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sh = try #require(findExecutable("sh"))
        let env = try #require(findExecutable("env"))
        let out = dir.appendingPathComponent("chart.dng").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: sh)
        // 16 blocks of 512 or 1024 bytes; the chart is about 600 KB. SIGXFSZ at its default action, as in a shell.
        process.arguments = ["-c", "ulimit -f 16; exec \"$0\" --default-signal=XFSZ \"$1\" test-chart \"$2\" --size 640x480",
                             env, CommandLine.executable.path, out]
        let err = Pipe()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        let message = String(decoding: try await runToEnd(process, reading: err), as: UTF8.self)
        #expect(process.terminationReason == .exit, "rigctl was killed by signal \(process.terminationStatus)")
        #expect(process.terminationStatus == 1, "\(message)")
        #expect(message.contains("ulimit -f") && message.contains(out), "\(message)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty, "something was left behind")
    }

    /// Runs rigctl under a shell's `ulimit` and waits at most `seconds` (a process that never ends is killed and
    /// reported as such): status, whether it exited (not a signal), standard error, and whether it ended in time.
    func underLimit(_ limit: String, _ arguments: [String], seconds: Double = 60) async throws
        -> (status: Int32, exited: Bool, stderr: String, ended: Bool)
    {
        let sh = try #require(findExecutable("sh"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: sh)
        process.arguments = ["-c", "ulimit \(limit); exec \"$0\" \"$@\"", CommandLine.executable.path] + arguments
        let err = Pipe()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        return try await ProcessSlots.shared.withSlot {
            try process.run()
            let deadline = Date().addingTimeInterval(seconds)
            while process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
            let ended = !process.isRunning
            if !ended { kill(process.processIdentifier, SIGKILL) }
            let message = String(decoding: try await awaitExit(of: process, reading: err), as: UTF8.self)
            return (process.terminationStatus, process.terminationReason == .exit, message, ended)
        }
    }

    /// Too few descriptors (`ulimit -n 9` to 11 crashed export with SIGILL inside libdispatch) is refused up front
    /// with the limit named; `import` under `ulimit -v 200000` ends (it loaded OpenBLAS, whose thread could not
    /// allocate, and its exit waited for that thread forever).
    @Test func descriptorAndMemoryLimitsEndCleanly() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ds = dir.appendingPathComponent("ds").path
        #expect(try await CommandLine.run(["dataset", "init", ds]).status == 0)
        for n in [9, 10, 11] {
            let run = try await underLimit("-n \(n)", ["dataset", "status", "--dataset", ds])
            #expect(run.exited && run.status == 1, "ulimit -n \(n): \(run.status) \(run.stderr)")
            #expect(run.stderr.contains("ulimit -n") && run.stderr.contains("open-file limit is \(n)"), "\(run.stderr)")
        }
        let set = dir.appendingPathComponent("set")
        for side in ["source", "target"] {
            try FileManager.default.createDirectory(at: set.appendingPathComponent(side), withIntermediateDirectories: true)
            try PNGFile.write(texturedImage(seed: side == "source" ? 1 : 2, width: 48, height: 32),
                              to: set.appendingPathComponent("\(side)/a.png"))
        }
        // Under AddressSanitizer a process cannot start under `ulimit -v` (its shadow memory is refused), so this
        // part runs in the plain suite only.
        if TestSanitizer.allowsVirtualMemoryLimits {
            let imported = try await underLimit("-v 200000", ["import", set.path, "--layout", "realdof", "--dataset", ds])
            #expect(imported.ended, "import under ulimit -v 200000 did not end: \(imported.stderr)")
            #expect(imported.exited && imported.status == 0, "\(imported.status) \(imported.stderr)")
        }

        // Under a file size limit the catalogue cannot grow: import says so, naming the limit, and leaves the
        // dataset consistent.
        let other = dir.appendingPathComponent("ds2").path
        #expect(try await CommandLine.run(["dataset", "init", other]).status == 0)
        let limited = try await underLimit("-f 16", ["import", set.path, "--layout", "realdof", "--dataset", other])
        #expect(limited.exited && limited.status == 1, "\(limited.status) \(limited.stderr)")
        #expect(limited.stderr.contains("ulimit -f"), "\(limited.stderr)")
        #expect(try await CommandLine.run(["dataset", "verify", "--dataset", other]).status == 0)
    }

    /// A catalogue a newer rigctl wrote (a migration this one does not know) is read by the reading commands, which
    /// say so, and refused by those that write, naming both versions (exit status 2).
    @Test(.enabled(if: findExecutable("sqlite3") != nil)) func aNewerCatalogueIsReadOnly() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let set = dir.appendingPathComponent("set")
        for side in ["source", "target"] {
            try FileManager.default.createDirectory(at: set.appendingPathComponent(side), withIntermediateDirectories: true)
            try PNGFile.write(texturedImage(seed: side == "source" ? 1 : 2, width: 48, height: 32),
                              to: set.appendingPathComponent("\(side)/a.png"))
        }
        let ds = dir.appendingPathComponent("ds").path
        #expect(try await CommandLine.run(["dataset", "init", ds]).status == 0)
        #expect(try await CommandLine.run(["import", set.path, "--layout", "realdof", "--dataset", ds]).status == 0)
        let sqlite = Process()
        sqlite.executableURL = URL(fileURLWithPath: try #require(findExecutable("sqlite3")))
        sqlite.arguments = [ds + "/catalog.sqlite", "INSERT INTO grdb_migrations (identifier) VALUES ('v99-future')"]
        try await runToEnd(sqlite)
        try #require(sqlite.terminationStatus == 0)

        for arguments in [["dataset", "status"], ["dataset", "verify"], ["dataset", "list"],
                          ["export", "--out", dir.appendingPathComponent("out").path, "--split", "all"]] {
            let read = try await CommandLine.run(arguments + ["--dataset", ds])
            #expect(read.status == 0, "\(arguments): \(read.stderr)")
            #expect(read.stderr.contains("newer rigctl") && read.stderr.contains("v99-future"), "\(arguments): \(read.stderr)")
        }
        let write = try await CommandLine.run(["dataset", "review", "1", "--state", "approved", "--dataset", ds])
        #expect(write.status == 2, "\(write.stderr)")
        #expect(write.stderr.contains("v99-future") && write.stderr.contains("v14-downsampled-ssim"), "\(write.stderr)")
    }

    /// Names with tabs and newlines are escaped in `dataset list` (one line per pair); a model name with a newline
    /// is refused; a truncated catalogue is bad input (exit status 2); hidden image files are reported by import.
    @Test func craftedNamesTruncatedCataloguesAndHiddenFiles() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let env = ["RIGCTL_HOME": dir.appendingPathComponent("home").path]
        let set = dir.appendingPathComponent("set")
        for side in ["source", "target"] {
            try FileManager.default.createDirectory(at: set.appendingPathComponent(side), withIntermediateDirectories: true)
            for (n, name) in ["a", ".b"].enumerated() {
                try PNGFile.write(texturedImage(seed: UInt64(n * 2 + (side == "source" ? 1 : 2)), width: 48, height: 32),
                                  to: set.appendingPathComponent("\(side)/\(name).png"))
            }
        }
        let ds = dir.appendingPathComponent("ds").path
        #expect(try await CommandLine.run(["dataset", "init", ds], environment: env).status == 0)
        let imported = try await CommandLine.run(["import", set.path, "--layout", "realdof", "--dataset", ds, "--scene", "desk\tnorth\nx"],
                                                 environment: env)
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stderr.contains("source/.b.png") && imported.stderr.contains("target/.b.png"), "\(imported.stderr)")
        #expect(imported.stdout.contains("2 hidden files skipped"), "\(imported.stdout)")

        let list = try await CommandLine.run(["dataset", "list", "--dataset", ds], environment: env)
        #expect(list.status == 0, "\(list.stderr)")
        let lines = list.stdout.split(separator: "\n")
        #expect(lines.count == 2, "\(list.stdout)")
        #expect(lines.last?.split(separator: "\t", omittingEmptySubsequences: false).count == 7, "\(list.stdout)")
        #expect(list.stdout.contains("desk\\tnorth\\nx"), "\(list.stdout)")

        let model = try await CommandLine.run(["model", "import", dir.appendingPathComponent("IFAN.pytorch").path, "--name", "ifan\nx"],
                                              environment: env)
        #expect(model.status == 2 && model.stderr.contains("control character"), "\(model.stderr)")

        // A catalogue cut short: every command says it is damaged, with exit status 2.
        let catalog = URL(fileURLWithPath: ds).appendingPathComponent("catalog.sqlite")
        let data = try Data(contentsOf: catalog)
        try #require(data.count > 4096)
        try data.prefix(4096).write(to: catalog)
        for arguments in [["dataset", "list", "--dataset", ds], ["dataset", "status", "--dataset", ds],
                          ["dataset", "verify", "--dataset", ds]] {
            let damaged = try await CommandLine.run(arguments, environment: env)
            #expect(damaged.status == 2, "\(arguments): \(damaged.status) \(damaged.stderr)")
        }
    }
}
