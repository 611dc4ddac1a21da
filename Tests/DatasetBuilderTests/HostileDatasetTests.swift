import AtomicFiles
import TestSupport
import DatasetBuilder
import Foundation
import GRDB
import Imaging
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Crafted and damaged datasets: links planted where managed files should be, journal entries that point through
/// them, catalogue files that are not catalogues. Nothing outside the dataset is ever read, written or deleted.
@Suite struct HostileDatasetTests {
    /// Adds a journal entry as a crafted (downloaded) catalogue would hold it.
    func journal(_ path: String, in dataset: URL) throws {
        let db = try DatabaseQueue(path: dataset.appendingPathComponent(Dataset.catalogName).path)
        try db.write { try $0.execute(sql: "INSERT INTO pendingFile (path) VALUES (?)", arguments: [path]) }
    }

    @Test func aJournalEntryThroughARelativeLinkDeletesNothingOutside() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let root: URL
        do { root = try makeDataset(in: dir, count: 1).root }
        // ds/aligned/up -> ../.. is the folder holding the dataset: aligned/up/notes.txt is dir/notes.txt.
        let notes = dir.appendingPathComponent("notes.txt")
        try Data("my notes".utf8).write(to: notes)
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("aligned/up").path,
                                                   withDestinationPath: "../..")
        try journal("aligned/up/notes.txt", in: root)

        // A writable open (review, verify, import...) sweeps the journal.
        let dataset = try Dataset.open(at: root)
        #expect(dataset.recoveredFiles.isEmpty)
        #expect(FileManager.default.fileExists(atPath: notes.path), "the sweep followed the link and deleted \(notes.path)")
        try dataset.review(pair: "1", state: .approved, note: nil)
        #expect(FileManager.default.fileExists(atPath: notes.path))
        // verify reports the link and does not look behind it (dir holds more files, none become orphans).
        let report = try dataset.verify()
        #expect(report.unsafe == ["aligned/up"])
        #expect(report.orphans.isEmpty)
        #expect(!report.isConsistent)
    }

    @Test func aJournalEntryThroughAnAbsoluteLinkDeletesNothingOutside() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = try makeDataset(in: dir, count: 1).root
        // Somewhere else entirely, with a file that looks like a killed writer's temporary.
        let victim = dir.appendingPathComponent("elsewhere/deep")
        try FileManager.default.createDirectory(at: victim, withIntermediateDirectories: true)
        let temporary = victim.appendingPathComponent(AtomicFile.temporaryMarker + "important")
        let image = victim.appendingPathComponent("photo.png")
        try Data("a".utf8).write(to: temporary)
        try Data("b".utf8).write(to: image)
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("outputs/m1").path,
                                                   withDestinationPath: victim.path)
        try journal("outputs/m1/photo.png", in: root)
        try journal("outputs/m1", in: root)

        let dataset = try Dataset.open(at: root)
        #expect(dataset.recoveredFiles.isEmpty)
        #expect(FileManager.default.fileExists(atPath: temporary.path))
        #expect(FileManager.default.fileExists(atPath: image.path))
        #expect(try dataset.verify().unsafe == ["outputs/m1"])
    }

    @Test func aLinkInPlaceOfACataloguedFileIsReportedNeverRead() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dataset = try makeDataset(in: dir, count: 1)
        let pair = try dataset.pair("1")
        // Swap the catalogued source for a link to a file outside that has the very same bytes: a reader that
        // follows links would find nothing wrong.
        let source = dataset.root.appendingPathComponent(pair.source.path)
        let outside = dir.appendingPathComponent("outside.png")
        try FileManager.default.moveItem(at: source, to: outside)
        try FileManager.default.createSymbolicLink(atPath: source.path, withDestinationPath: outside.path)

        let report = try dataset.verify()
        #expect(report.unsafe == [pair.source.path])
        #expect(report.missing.isEmpty && report.mismatched.isEmpty)
        #expect(!report.isConsistent)
        #expect(throws: DatasetError.self) { try dataset.url(of: pair.source) }
        #expect(throws: DatasetError.self) { try dataset.contents(of: pair.source) }
        do {
            _ = try Exporter(options: ExportOptions(split: .all)).run(from: dataset, to: dir.appendingPathComponent("out"))
            Issue.record("the export read through the link")
        } catch let error as DatasetError {
            guard case .unsafePath(let path, _) = error else { throw error }
            #expect(path.hasSuffix(pair.source.path))
        }
    }

    @Test func writesDoNotFollowALinkedManagedFolder() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dataset = try makeDataset(in: dir, count: 1)
        let elsewhere = dir.appendingPathComponent("elsewhere")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        let aligned = dataset.root.appendingPathComponent("aligned")
        try FileManager.default.moveItem(at: aligned, to: dir.appendingPathComponent("aligned-moved"))
        try FileManager.default.createSymbolicLink(atPath: aligned.path, withDestinationPath: elsewhere.path)

        let scratch = dir.appendingPathComponent("new")
        let a = try writePNG(scratch.appendingPathComponent("a.png"), seed: 100)
        let b = try writePNG(scratch.appendingPathComponent("b.png"), seed: 101)
        #expect(throws: DatasetError.self) {
            try dataset.addPair(PairInput(scene: SceneInput(name: "s"), name: "n", source: a, target: b, verdict: .accepted))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere.path).isEmpty)
    }

    // MARK: - Catalogue files that are not catalogues

    @Test func anEmptyOrForeignCatalogueIsAnErrorForEveryOpen() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = try makeDataset(in: dir, count: 2).root
        let catalog = root.appendingPathComponent(Dataset.catalogName)
        let before = try contents(of: root.appendingPathComponent("aligned"))

        func expectInvalid(_ what: String) {
            for readOnly in [false, true] {
                do {
                    _ = try Dataset.open(at: root, readOnly: readOnly)
                    Issue.record("a catalogue that is \(what) opened (readOnly: \(readOnly))")
                } catch DatasetError.invalidCatalogue(let path, _) {
                    #expect(path == catalog.path)
                } catch {
                    Issue.record("\(what): \(error)")
                }
            }
        }
        try Data().write(to: catalog)
        expectInvalid("0 bytes")
        #expect(try Data(contentsOf: catalog).isEmpty, "the empty catalogue was written to")
        try Data(repeating: 0x41, count: 4096).write(to: catalog)
        expectInvalid("not SQLite")
        try FileManager.default.removeItem(at: catalog)
        let foreign = try DatabaseQueue(path: catalog.path)
        try foreign.write { try $0.execute(sql: "CREATE TABLE notes (text TEXT)") }
        try foreign.close()
        expectInvalid("another program's database")
        // The dataset's files were never taken for orphans of a new catalogue.
        #expect(try contents(of: root.appendingPathComponent("aligned")) == before)
    }
}
