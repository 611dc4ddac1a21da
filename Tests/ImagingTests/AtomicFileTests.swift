import AtomicFiles
import TestSupport
import Foundation
import Testing
import Imaging

@Suite struct AtomicFileTests {
    @Test func writesAndLeavesNoTemporary() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("a.bin")
        try AtomicFile.write(Data([1, 2, 3]), to: url)
        try AtomicFile.write(Data([4, 5]), to: url)  // replaces
        #expect(try Data(contentsOf: url) == Data([4, 5]))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["a.bin"])
    }

    @Test func failureNamesTheFileAndLeavesNothing() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("no/such/dir/x.png")
        do {
            try AtomicFile.write(Data([1]), to: url)
            Issue.record("write into a missing folder succeeded")
        } catch let error as AtomicWriteError {
            #expect(error.path == url.path)
        }
    }

    @Test func fullDiskIsAClearError() throws {
        // /dev/full answers every write with ENOSPC; writing "into" it fails at the temporary file, so use a
        // directory we cannot write to instead when /dev/full is not usable.
        let url = URL(fileURLWithPath: "/proc/rigctl-cannot-write-here.bin")
        #expect(throws: AtomicWriteError.self) { try AtomicFile.write(Data([1]), to: url) }
    }

    @Test func leftoversOfAKilledWriterAreRemoved() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let leftover = dir.appendingPathComponent(AtomicFile.temporaryMarker + "123-a.png")
        try Data([0]).write(to: leftover)
        try Data([0]).write(to: dir.appendingPathComponent("keep.png"))
        #expect(AtomicFile.removeLeftovers(in: dir).count == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["keep.png"])
    }
}

/// The temporary name is short and independent of the final one, so a name at the file system's limit works.
@Test func atomicWritesWorkForNamesAtTheFileSystemLimit() throws {
    let dir = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent(String(repeating: "n", count: 251) + ".png")
    try AtomicFile.write(Data("x".utf8), to: url)
    #expect(try Data(contentsOf: url) == Data("x".utf8))
    #expect(AtomicFile.temporaryName().utf8.count <= 24)
}

/// A folder given where a file is expected says so, for every reader.
@Test func aFolderWhereAFileIsExpectedSaysSo() throws {
    let dir = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    do {
        _ = try ImageFile.read(dir)
        Issue.record("a folder was read as an image")
    } catch let error as ImagingError {
        #expect(error.description.contains("a folder, not a file"), "\(error)")
    }
}
