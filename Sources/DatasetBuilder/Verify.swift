import Foundation
import GRDB
import Imaging

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
    /// Journal entries of a step that is still running or was interrupted.
    public var pending: [String] = []
    /// Messages of SQLite's integrity and foreign-key checks; empty when they pass.
    public var databaseProblems: [String] = []

    public var isConsistent: Bool {
        missing.isEmpty && mismatched.isEmpty && orphans.isEmpty && pending.isEmpty && databaseProblems.isEmpty
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
        for file in files {
            let url = url(file.path)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue else {
                report.missing.append(file.path)
                continue
            }
            report.checkedFiles += 1
            if hashes {
                let (sha, size) = try SHA256Hex.ofFile(url)
                report.checkedBytes += size
                if size != file.size {
                    report.mismatched.append(.init(path: file.path, expected: "\(file.size) bytes", actual: "\(size) bytes"))
                } else if sha != file.sha256 {
                    report.mismatched.append(.init(path: file.path, expected: file.sha256, actual: sha))
                }
            } else {
                let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.int64Value ?? -1
                report.checkedBytes += max(size, 0)
                if size != file.size {
                    report.mismatched.append(.init(path: file.path, expected: "\(file.size) bytes", actual: "\(size) bytes"))
                }
            }
        }
        let known = Set(files.map(\.path))
        for folder in Folder.all {
            for path in Self.regularFiles(under: url(folder), relativeTo: folder) where !known.contains(path) {
                report.orphans.append(path)
            }
        }
        report.orphans.sort()
        return report
    }

    /// Relative paths of all regular files below `folder` (not following links).
    static func regularFiles(under folder: URL, relativeTo prefix: String) -> [String] {
        guard let enumerator = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey],
                                                              options: []) else { return [] }
        var out: [String] = []
        let base = folder.standardizedFileURL.path
        for case let url as URL in enumerator {
            let values = try? url.resourceValues(forKeys: [.isRegularFileKey, .isSymbolicLinkKey])
            if values?.isSymbolicLink == true || values?.isRegularFile == true {
                let full = url.standardizedFileURL.path
                guard full.hasPrefix(base + "/") else { continue }
                out.append(prefix + "/" + full.dropFirst(base.count + 1))
            }
        }
        return out
    }
}
