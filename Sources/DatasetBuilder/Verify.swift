import Crypto
import Foundation
import PairVocabulary
import GRDB
import Imaging
#if canImport(Glibc)
import Glibc
#endif

/// What `verify` found. The dataset is consistent when every list is empty and SQLite's own checks pass.
public struct VerifyReport: Sendable, Equatable {
    public struct Mismatch: Sendable, Equatable {
        public let path: String
        public let expected: String
        public let actual: String
    }

    public var checkedFiles = 0
    public var checkedBytes: Int64 = 0
    /// Catalogued files that are not on disk.
    public var missing: [String] = []
    /// Catalogued files whose size or SHA-256 differs from the catalogue (expected/actual are hashes or sizes).
    public var mismatched: [Mismatch] = []
    /// Files in the managed folders that the catalogue does not know (temporaries of killed writers included).
    public var orphans: [String] = []
    /// Symbolic links, devices, pipes and names that are not UTF-8 in the managed folders, and catalogued paths
    /// that lead through a link: reported, never followed.
    public var unsafe: [String] = []
    /// Journal entries of a step that is still running or was interrupted.
    public var pending: [String] = []
    /// Messages of SQLite's integrity and foreign-key checks; empty when they pass.
    public var databaseProblems: [String] = []

    public var isConsistent: Bool {
        missing.isEmpty && mismatched.isEmpty && orphans.isEmpty && unsafe.isEmpty && pending.isEmpty
            && databaseProblems.isEmpty
    }
}

extension Dataset {
    /// Checks every catalogued file against its recorded size and hash (`hashes: false` checks sizes only), looks
    /// for files the catalogue does not know, and runs SQLite's integrity and foreign-key checks.
    public func verify(hashes: Bool = true) throws -> VerifyReport {
        var report = VerifyReport()
        let (files, pending, problems) = try read { db -> ([FileInfo], [String], [String]) in
            let files = try Row.fetchAll(db, sql: "SELECT path, size, sha256 FROM file ORDER BY path").map {
                FileInfo(path: $0["path"], size: $0["size"], sha256: $0["sha256"])
            }
            let pending = try String.fetchAll(db, sql: "SELECT path FROM pendingFile ORDER BY path")
            var problems = try String.fetchAll(db, sql: "PRAGMA quick_check").filter { $0 != "ok" }
            for row in try Row.fetchAll(db, sql: "PRAGMA foreign_key_check") {
                problems.append("row \(row[1] as Int64? ?? -1) of \(row[0] as String? ?? "?") points at a missing \(row[2] as String? ?? "?") row")
            }
            return (files, pending, problems)
        }
        report.pending = pending
        report.databaseProblems = problems
        var unsafe = Set<String>()
        for file in files {
            let kind: ConfinedFolder.Kind
            do {
                kind = try self.files.kind(file.path)
            } catch {
                unsafe.insert(file.path)
                continue
            }
            switch kind {
            case .file(let size):
                report.checkedFiles += 1
                if hashes {
                    let (sha, size) = try hash(file.path)
                    report.checkedBytes += size
                    if size != file.size {
                        report.mismatched.append(.init(path: file.path, expected: "\(file.size) bytes", actual: "\(size) bytes"))
                    } else if sha != file.sha256 {
                        report.mismatched.append(.init(path: file.path, expected: file.sha256, actual: sha))
                    }
                } else {
                    report.checkedBytes += size
                    if size != file.size {
                        report.mismatched.append(.init(path: file.path, expected: "\(file.size) bytes", actual: "\(size) bytes"))
                    }
                }
            case .missing, .directory:
                report.missing.append(file.path)
            case .link, .special:
                unsafe.insert(file.path)
            }
        }
        let known = Set(files.map(\.path))
        for folder in Folder.all {
            let found = self.files.walk(folder)
            for path in found.files where !known.contains(path) { report.orphans.append(path) }
            unsafe.formUnion(found.links)
            unsafe.formUnion(found.others)
        }
        // incoming/ holds no catalogued file (its pairs wait for `process`), but a link or special file there - or
        // incoming itself as a link - is reported like one in the managed folders.
        let incoming = self.files.walk(Self.incomingFolder)
        unsafe.formUnion(incoming.links)
        unsafe.formUnion(incoming.others)
        report.orphans.sort()
        report.unsafe = unsafe.sorted()
        return report
    }

    /// SHA-256 and size of a catalogued file, streamed in 4 MiB pieces through the dataset's descriptor.
    func hash(_ path: String) throws -> (String, Int64) {
        try files.withFile(path) { fd, expected in
            var hasher = SHA256()
            var size: Int64 = 0
            // Sized to the file (most are far below 4 MiB), so checking thousands of files allocates little.
            var buffer = [UInt8](repeating: 0, count: Int(min(4 << 20, max(expected, 0) + 1)))
            while true {
                let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw DatasetError.unreadable(path: url(path).path, reason: String(cString: strerror(errno)))
                }
                if n == 0 { break }
                hasher.update(data: buffer[0..<n])
                size += Int64(n)
            }
            return (SHA256Hex.hex(hasher.finalize()), size)
        }
    }
}
