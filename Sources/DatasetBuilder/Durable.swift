import AtomicFiles
import Foundation
import ThreadSupport
import Imaging
#if canImport(Glibc)
import Glibc
#endif

/// Durable writes of several files at once. Each `fsync` costs a journal commit of the filesystem (milliseconds);
/// issuing a step's flushes together from several threads lets the filesystem fold them into one commit, and each
/// folder is flushed once rather than once per file.
enum Durable {
    /// Writes every file below `root` under a temporary name (AtomicFile's marker, so a killed writer's leftovers
    /// are found and removed), flushes them all, renames them into place, and flushes the folders that changed and
    /// the parents of folders that are new. Nothing is ever visible under a final name before its bytes are on disk.
    /// Every folder on the way is opened without following links (`ConfinedFolder`), so a link planted in the
    /// dataset cannot send a write elsewhere.
    static func write(_ files: [(relative: String, data: Data)], in root: ConfinedFolder) throws {
        var folders: [String: Int32] = [:]
        var created: [String] = []
        var temporaries: [(folder: Int32, name: String, descriptor: Int32)] = []
        var renamed = false
        defer {
            for t in temporaries {
                close(t.descriptor)
                if !renamed { unlinkat(t.folder, t.name, 0) }
            }
            for fd in folders.values { close(fd) }
        }
        for file in files {
            let parts = try root.components(file.relative)
            let parent = parts.dropLast().joined(separator: "/")
            let folder: Int32
            if let known = folders[parent] {
                folder = known
            } else {
                guard let opened = try root.openFolder(parts.dropLast(), create: true, created: &created) else {
                    throw DatasetError.writeFailed(path: root.full(parent), reason: "the folder cannot be made")
                }
                folders[parent] = opened
                folder = opened
            }
            var name = ""
            var fd: Int32 = -1
            for _ in 0..<8 {
                name = AtomicFile.temporaryName()
                fd = openat(folder, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
                if fd >= 0 || errno != EEXIST { break }
            }
            guard fd >= 0 else {
                throw DatasetError.writeFailed(path: root.full(file.relative), reason: String(cString: strerror(errno)))
            }
            temporaries.append((folder, name, fd))
            try writeAll(file.data, to: fd, reportingAs: root.full(file.relative))
        }
        try fsyncAll(descriptors: temporaries.enumerated().map { ($0.element.descriptor, root.full(files[$0.offset].relative)) })
        for (t, file) in zip(temporaries, files) {
            let leaf = String(file.relative.split(separator: "/").last ?? "")
            if renameat(t.folder, t.name, t.folder, leaf) != 0 {
                throw DatasetError.writeFailed(path: root.full(file.relative), reason: String(cString: strerror(errno)))
            }
        }
        renamed = true
        var flush = folders.map { ($0.value, root.full($0.key)) }
        var extra: [Int32] = []
        defer { for fd in extra { close(fd) } }
        for folder in Set(created.map { ($0 as NSString).deletingLastPathComponent }) where folders[folder] == nil {
            let parts = folder.split(separator: "/").map(String.init)
            if let fd = try? root.openFolder(ArraySlice(parts)) {
                extra.append(fd)
                flush.append((fd, root.full(folder)))
            }
        }
        try fsyncAll(descriptors: flush)
    }

    /// Creates or truncates `path` and writes `data` to it, without flushing.
    static func writePlain(_ data: Data, to path: String, reportingAs name: String? = nil) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw DatasetError.writeFailed(path: name ?? path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        try writeAll(data, to: fd, reportingAs: name ?? path)
    }

    /// Writes all of `data` to `fd`.
    static func writeAll(_ data: Data, to fd: Int32, reportingAs name: String) throws {
        try data.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, base + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw DatasetError.writeFailed(path: name, reason: AtomicFile.writeFailureReason())
                }
                offset += n
            }
        }
    }

    /// Flushes files and folders to disk, several at a time.
    static func fsyncAll(_ paths: [String]) throws {
        guard !paths.isEmpty else { return }
        let failures = FailureList()
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = min(16, paths.count)
        for path in paths {
            queue.addOperation {
                let fd = open(path, O_RDONLY | O_CLOEXEC)
                if fd < 0 {
                    failures.add(path, String(cString: strerror(errno)))
                    return
                }
                if fsync(fd) != 0 { failures.add(path, String(cString: strerror(errno))) }
                close(fd)
            }
        }
        queue.waitUntilAllOperationsAreFinished()
        if let first = failures.first { throw DatasetError.writeFailed(path: first.0, reason: first.1) }
    }

    /// Flushes open files and folders (descriptor, name for messages), several at a time.
    static func fsyncAll(descriptors: [(Int32, String)]) throws {
        guard !descriptors.isEmpty else { return }
        let failures = FailureList()
        DispatchQueue.concurrentPerform(iterations: descriptors.count) { index in
            let (fd, name) = descriptors[index]
            if fsync(fd) != 0 { failures.add(name, String(cString: strerror(errno))) }
        }
        if let first = failures.first { throw DatasetError.writeFailed(path: first.0, reason: first.1) }
    }

    /// Errors collected from the flushing threads.
    private final class FailureList: Sendable {
        private let items = LockedValue<[(String, String)]>([])

        func add(_ path: String, _ reason: String) { items.withLock { $0.append((path, reason)) } }

        var first: (String, String)? { items.withLock { $0.first } }
    }
}
