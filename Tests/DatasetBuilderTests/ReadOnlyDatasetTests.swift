import TestSupport
import DatasetBuilder
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Datasets in odd states, from the command line: on a read-only mount (or not writable by the user), and with a
/// catalogue file that is not a catalogue.
@Suite(.serialized) struct ReadOnlyDatasetTests {
    /// Runs rigctl, optionally under another command (`setpriv` to drop root), with output collected.
    static func run(_ prefix: [String], _ arguments: [String]) async throws -> (status: Int32, output: String) {
        let binary = try #require(locateProduct("rigctl"), "rigctl is not built next to the tests")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: prefix.first ?? binary.path)
        process.arguments = Array(prefix.dropFirst()) + (prefix.isEmpty ? [] : [binary.path]) + arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "RIGCTL_DATASET")
        process.environment = env
        process.standardInput = FileHandle.nullDevice
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let data = try await runToEnd(process, reading: pipe)
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func tool(_ path: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// A view of `folder` that this test's rigctl cannot write: a read-only bind mount when we may mount (root in a
    /// container), else the folder made unwritable (chmod, which binds a user who is not root), else - root without
    /// mount rights - the folder as it is, run as `nobody`, who may read but not write it.
    static func readOnlyView(of folder: URL, in dir: URL) throws -> (root: URL, prefix: [String], undo: () -> Void) {
        if geteuid() != 0 {
            #expect(tool("/bin/chmod", ["-R", "a-w", folder.path]) == 0)
            return (folder, [], { _ = tool("/bin/chmod", ["-R", "u+w", folder.path]) })
        }
        let mountPoint = dir.appendingPathComponent("read-only")
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        if tool("/bin/mount", ["--bind", "-o", "ro", folder.path, mountPoint.path]) == 0 {
            if access(mountPoint.path, W_OK) != 0 && errno == EROFS {
                return (mountPoint, [], { _ = tool("/bin/umount", [mountPoint.path]) })
            }
            _ = tool("/bin/umount", [mountPoint.path])
        }
        return (folder, ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"], {})
    }

    @Test func readingCommandsWorkOnADatasetThatCannotBeWritten() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        chmod(dir.path, 0o755)
        let set = dir.appendingPathComponent("RealDOF")
        for (i, name) in ["a.png", "b.png"].enumerated() {
            try writePNG(set.appendingPathComponent("source/\(name)"), seed: UInt64(i))
            try writePNG(set.appendingPathComponent("target/\(name)"), seed: UInt64(10 + i))
        }
        let ds = dir.appendingPathComponent("ds")
        do {
            let dataset = try Dataset.create(at: ds)
            _ = try Importer(layout: .realdof).run(from: set, into: dataset)
        }
        let outputs = dir.appendingPathComponent("outputs")
        try FileManager.default.createDirectory(at: outputs, withIntermediateDirectories: true)
        chmod(outputs.path, 0o777)
        let view = try Self.readOnlyView(of: ds, in: dir)
        defer { view.undo() }
        let root = view.root.path
        for arguments in [["dataset", "status", "--json"], ["dataset", "list"], ["dataset", "show", "1"], ["dataset", "verify"],
                          ["export", "--out", outputs.appendingPathComponent("set").path]] {
            let result = try await Self.run(view.prefix, arguments + ["--dataset", root])
            #expect(result.status == 0, "\(arguments.joined(separator: " ")): \(result.output)")
        }
        #expect(try await Self.run(view.prefix, ["dataset", "verify", "--dataset", root]).output.contains("consistent"))
        #expect(FileManager.default.fileExists(atPath: outputs.appendingPathComponent("set/source/0001_a.png").path))
        // A writing command says it cannot write, rather than failing somewhere inside SQLite.
        let review = try await Self.run(view.prefix, ["dataset", "review", "1", "--state", "approved", "--dataset", root])
        #expect(review.status != 0)
    }

    @Test func anEmptyCatalogueIsAnErrorForEveryCommand() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let set = dir.appendingPathComponent("RealDOF")
        try writePNG(set.appendingPathComponent("source/a.png"), seed: 1)
        try writePNG(set.appendingPathComponent("target/a.png"), seed: 2)
        let ds = dir.appendingPathComponent("ds")
        do {
            let dataset = try Dataset.create(at: ds)
            _ = try Importer(layout: .realdof).run(from: set, into: dataset)
        }
        let catalog = ds.appendingPathComponent(Dataset.catalogName)
        try Data().write(to: catalog)
        for arguments in [["import", set.path, "--layout", "realdof"], ["dataset", "split"], ["dataset", "verify"],
                          ["dataset", "status"], ["dataset", "list"], ["dataset", "review", "1", "--state", "approved"],
                          ["export", "--out", dir.appendingPathComponent("out").path]] {
            let result = try await Self.run([], arguments + ["--dataset", ds.path])
            #expect(result.status == 2, "\(arguments.joined(separator: " ")): \(result.output)")
            #expect(result.output.contains("not a valid catalogue"), "\(arguments[0]): \(result.output)")
        }
        #expect(try Data(contentsOf: catalog).isEmpty)
    }
}
