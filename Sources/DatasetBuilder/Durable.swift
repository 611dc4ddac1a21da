import Foundation
import Imaging
#if canImport(Glibc)
import Glibc
#endif

/// Durable writes of several files at once. Each `fsync` costs a journal commit of the filesystem (milliseconds);
/// issuing a step's flushes together from several threads lets the filesystem fold them into one commit, and each
/// folder is flushed once rather than once per file.
enum Durable {
    /// Writes every file under a temporary name (AtomicFile's marker, so a killed writer's leftovers are found and
    /// removed), flushes them all, renames them into place, and flushes the folders that changed and the parents of
    /// folders that are new. Nothing is ever visible under a final name before its bytes are on disk.
    static func write(_ files: [(url: URL, data: Data)], newFolders: Set<String> = []) throws {
        var temporaries: [String] = []
        var renamed = false
        defer {
            if !renamed { for path in temporaries { unlink(path) } }
        }
        for file in files {
            let temporary = file.url.deletingLastPathComponent().path + "/" + AtomicFile.temporaryMarker
                + UUID().uuidString + "-" + file.url.lastPathComponent
            temporaries.append(temporary)
            try writePlain(file.data, to: temporary, reportingAs: file.url.path)
        }
        try fsyncAll(temporaries)
        for (temporary, file) in zip(temporaries, files) where rename(temporary, file.url.path) != 0 {
            throw DatasetError.writeFailed(path: file.url.path, reason: String(cString: strerror(errno)))
        }
        renamed = true
        var folders = Set(files.map { $0.url.deletingLastPathComponent().path })
        for folder in newFolders { folders.insert((folder as NSString).deletingLastPathComponent) }
        try fsyncAll(folders.sorted())
    }

    /// Creates or truncates `path` and writes `data` to it, without flushing.
    static func writePlain(_ data: Data, to path: String, reportingAs name: String? = nil) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw DatasetError.writeFailed(path: name ?? path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        try data.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, base + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw DatasetError.writeFailed(path: name ?? path, reason: String(cString: strerror(errno)))
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

    /// Errors collected from the flushing threads.
    private final class FailureList: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [(String, String)] = []

        func add(_ path: String, _ reason: String) {
            lock.lock()
            items.append((path, reason))
            lock.unlock()
        }

        var first: (String, String)? {
            lock.lock()
            defer { lock.unlock() }
            return items.first
        }
    }
}
