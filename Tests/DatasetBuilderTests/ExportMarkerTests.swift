import TestSupport
import DatasetBuilder
import Foundation
import Synchronization
import Testing

/// An export marker is read from disk, so it is untrusted: the paths it lists are plain relative paths inside its
/// folder or the marker is none. What a killed export left beside --out is cleaned up by the next one.
@Suite struct ExportMarkerTests {
    /// Runs `body` on a thread and waits at most `seconds`: a hang is a failure, not a stuck test run.
    func finishes(within seconds: Double, _ body: @escaping @Sendable () -> Void) -> Bool {
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            body()
            done.signal()
        }
        return done.wait(timeout: .now() + seconds) == .success
    }

    func marker(listing paths: [String]) -> Data {
        Data(("rigctl export\ndataset: /d\nformat: realdof\nfiles:\n" + paths.map { $0 + "\n" }.joined()).utf8)
    }

    @Test func aMarkerListingPathsOutsideItsFolderIsNoMarker() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = try makeDataset(in: dir, count: 4).root
        let victim = dir.appendingPathComponent("victim.txt")
        try Data("keep".utf8).write(to: victim)
        for listed in [["/x"], [victim.path], ["../victim.txt"], ["a//b"], ["./x"]] {
            let out = dir.appendingPathComponent("out")
            try? FileManager.default.removeItem(at: out)
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            try marker(listing: listed).write(to: out.appendingPathComponent(".rigctl-export"))
            let outcome = LockedBox()
            let ended = finishes(within: 60) {
                do {
                    let dataset = try Dataset.open(at: root, readOnly: true)
                    _ = try Exporter(options: ExportOptions(split: .all)).run(from: dataset, to: out)
                    outcome.set("exported")
                } catch {
                    outcome.set("\(error)")
                }
            }
            #expect(ended, "the export over a marker listing \(listed) did not end")
            #expect(outcome.value?.contains("is not an earlier export") == true, "\(listed): \(outcome.value ?? "")")
            #expect(FileManager.default.fileExists(atPath: victim.path))
        }
    }

    /// A retired folder with a crafted marker, and a staging folder, as a killed export leaves them beside --out:
    /// the next export of that name ends, removes the staging folder and touches nothing the marker names.
    @Test func leftoversOfAKilledExportAreCleanedUpWithoutHanging() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = try makeDataset(in: dir, count: 4).root
        let tag = SHA256Hex.of("out").prefix(8)
        let retired = dir.appendingPathComponent(".rigctl-tmp-retired-\(tag)-000001")
        let staging = dir.appendingPathComponent(".rigctl-tmp-export-\(tag)-000002")
        try FileManager.default.createDirectory(at: retired, withIntermediateDirectories: true)
        try marker(listing: ["/x"]).write(to: retired.appendingPathComponent(".rigctl-export"))
        try FileManager.default.createDirectory(at: staging.appendingPathComponent("source"), withIntermediateDirectories: true)
        try Data("half".utf8).write(to: staging.appendingPathComponent("source/0001.png"))
        let outcome = LockedBox()
        let ended = finishes(within: 60) {
            do {
                let dataset = try Dataset.open(at: root, readOnly: true)
                let report = try Exporter(options: ExportOptions(split: .all)).run(from: dataset, to: dir.appendingPathComponent("out"))
                outcome.set("exported \(report.pairs)")
            } catch {
                outcome.set("\(error)")
            }
        }
        #expect(ended, "the export hung on the retired folder's marker")
        #expect(outcome.value?.hasPrefix("exported") == true, "\(outcome.value ?? "")")
        #expect(!FileManager.default.fileExists(atPath: staging.path), "the killed export's staging folder is still there")
    }
}

/// A string set from another thread.
final class LockedBox: Sendable {
    private let stored = Mutex<String?>(nil)
    func set(_ value: String) { stored.withLock { $0 = value } }
    var value: String? { stored.withLock { $0 } }
}
