import TestSupport
import DatasetBuilder
import Foundation
import PairVocabulary
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Kills a child process with SIGKILL at random (seeded) moments while it ingests or exports, then checks that the
/// dataset is consistent and that an export folder is either absent or complete.
@Suite(.serialized) struct CrashTests {
    /// The crash helper is built next to the test bundle (`swift build --build-tests` builds every product).
    static func locateHelper() -> URL? { locateProduct("DatasetCrashHelper") }

    /// Starts the helper, lets it run for `milliseconds`, kills it, and says whether it was still running (a helper
    /// that stopped on its own hit an error, which is a failure).
    static func runAndKill(_ helper: URL, _ arguments: [String], after milliseconds: UInt32) async throws -> Bool {
        let process = Process()
        process.executableURL = helper
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        try await ProcessSlots.shared.withSlot {
            try process.run()
            try await Task.sleep(for: .microseconds(UInt32(TestTime.scaled(Double(milliseconds))) * 1000))
            kill(process.processIdentifier, SIGKILL)
            try await awaitExit(of: process)
        }
        if process.terminationReason != .uncaughtSignal {
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            Issue.record("the helper exited with status \(process.terminationStatus) before it was killed: \(message)")
            return false
        }
        return true
    }

    @Test func killedIngestAndExportLeaveAConsistentDataset() async throws {
        let helper = try #require(Self.locateHelper(), "DatasetCrashHelper is not built next to the tests")
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = dir.appendingPathComponent("ds")
        do { _ = try Dataset.create(at: root) }
        var rng = SplitMix64(seed: 20_260_101)
        var recovered = 0

        for round in 0..<12 {
            let delay = UInt32(60 + rng.next() % 400)
            #expect(try await Self.runAndKill(helper, ["ingest", root.path, dir.appendingPathComponent("scratch").path,
                                                       "\(round + 1)"], after: delay))
            let dataset = try Dataset.open(at: root)
            recovered += dataset.recoveredFiles.count
            let report = try dataset.verify()
            #expect(report.isConsistent, "after kill \(round) at \(delay) ms: \(report)")
            let status = try dataset.status()
            #expect(status.pairs <= status.captures)
        }
        let status = try Dataset.open(at: root, readOnly: true).status()
        #expect(status.captures >= 4, "the helper made too little progress to test anything")
        #expect(status.evaluations > 0)

        // An earlier export exists, so every killed export must leave either it or a complete new one in place.
        let out = dir.appendingPathComponent("exports/test-set")
        do {
            let dataset = try Dataset.open(at: root, readOnly: true)
            _ = try Exporter(options: ExportOptions(split: .all)).run(from: dataset, to: out)
        }
        var completeSeen = 0
        for round in 0..<8 {
            let delay = UInt32(30 + rng.next() % 300)
            #expect(try await Self.runAndKill(helper, ["export", root.path, out.path], after: delay))
            if FileManager.default.fileExists(atPath: out.path) {
                completeSeen += 1
                let files = try contents(of: out)
                let sums = String(decoding: try #require(files["SHA256SUMS"], "round \(round): no SHA256SUMS"),
                                  as: UTF8.self)
                var listed = Set<String>()
                for line in sums.split(separator: "\n") {
                    let hash = String(line.prefix(64)), path = String(line.dropFirst(66))
                    listed.insert(path)
                    #expect(files[path].map(SHA256Hex.of) == hash, "round \(round): \(path) is incomplete")
                }
                #expect(listed.union(["SHA256SUMS", ".rigctl-export"]) == Set(files.keys), "round \(round): stray or missing files")
                // The marker (not in SHA256SUMS: it is rigctl's) is whole too: it lists every other file.
                let marker = String(decoding: try #require(files[".rigctl-export"], "round \(round): no marker"), as: UTF8.self)
                let markerFiles = marker.components(separatedBy: "files:\n").last?.split(separator: "\n").map(String.init) ?? []
                #expect(Set(markerFiles) == listed.union(["SHA256SUMS"]), "round \(round): the marker is incomplete")
            }
            #expect(try Dataset.open(at: root).verify().isConsistent)
        }
        #expect(completeSeen >= 6, "killed exports left no export in place \(8 - completeSeen) times")
        // A clean export afterwards removes whatever the killed ones left beside the folder.
        let dataset = try Dataset.open(at: root, readOnly: true)
        let report = try Exporter(options: ExportOptions(split: .all)).run(from: dataset, to: out)
        #expect(report.pairs > 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.deletingLastPathComponent().path) == ["test-set"])
        print("crash test: \(status.captures) captures, \(recovered) interrupted files removed, "
              + "\(completeSeen) of 8 killed exports left a complete export in place")
    }
}
