import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why a file could not be written: the path and the system's reason (for example "No space left on device").
public struct AtomicWriteError: Error, Equatable, CustomStringConvertible {
    public let path: String
    public let reason: String
    /// True when the target was refused (not a regular file): the user's argument is at fault, not the system.
    public let isRefusal: Bool

    public init(path: String, reason: String, isRefusal: Bool = false) {
        self.path = path
        self.reason = reason
        self.isRefusal = isRefusal
    }

    public var description: String { "cannot write \(path): \(reason)" }
}

/// Writes files so that a crash, a kill or a full disk never leaves a half-written file under the final name:
/// the bytes go to a temporary sibling, are fsynced, and the temporary is renamed over the target.
///
/// Only a regular file (or a new name) is ever replaced: an output argument naming a device, a pipe, a socket or a
/// folder (`-o /dev/full`, `-o fifo`) is refused, since the rename would otherwise put a regular file in its place.
public enum AtomicFile {
    /// The marker in temporary names, so that a later run can find and remove leftovers of a killed one.
    public static let temporaryMarker = ".rigctl-tmp-"

    public static func write(_ data: Data, to url: URL) throws {
        try data.withUnsafeBytes { raw in
            try write(UnsafeRawBufferPointer(raw), to: url)
        }
    }

    public static func write(_ bytes: UnsafeRawBufferPointer, to url: URL) throws {
        let path = url.path
        let directory = url.deletingLastPathComponent().path
        try requireReplaceable(path)
        var temporary = ""
        var fd: Int32 = -1
        // A short random name, independent of the final one, so that names up to the file system's limit work.
        for _ in 0..<8 {
            temporary = directory + "/" + temporaryName()
            fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
            if fd >= 0 || errno != EEXIST { break }
        }
        guard fd >= 0 else { throw AtomicWriteError(path: path, reason: errnoString()) }
        var ok = false
        defer {
            if !ok { unlink(temporary) }
        }
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                let reason = writeFailureReason()
                close(fd)
                throw AtomicWriteError(path: path, reason: reason)
            }
            offset += n
        }
        if fsync(fd) != 0 {
            let reason = errnoString()
            close(fd)
            throw AtomicWriteError(path: path, reason: reason)
        }
        if close(fd) != 0 { throw AtomicWriteError(path: path, reason: errnoString()) }
        if rename(temporary, path) != 0 { throw AtomicWriteError(path: path, reason: errnoString()) }
        ok = true
        syncDirectory(directory)
    }

    /// A fresh temporary name: the marker and 12 random hex digits (24 bytes in all).
    public static func temporaryName() -> String {
        var rng = SystemRandomNumberGenerator()
        let value = rng.next() & 0xFFFF_FFFF_FFFF
        let hex = String(value, radix: 16)
        return temporaryMarker + String(repeating: "0", count: 12 - hex.count) + hex
    }

    /// Makes a rename durable: the directory entry itself is fsynced.
    public static func syncDirectory(_ directory: String) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }

    /// Removes temporary files that a killed writer left in `directory` (not recursive). Returns their names.
    @discardableResult
    public static func removeLeftovers(in directory: URL) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        var removed: [String] = []
        for name in names where name.hasPrefix(temporaryMarker) {
            if unlink(directory.appendingPathComponent(name).path) == 0 { removed.append(name) }
        }
        return removed
    }

    /// Refuses a target that exists and is not a regular file (a link is followed: `-o link` replaces the link
    /// itself, so what it points at must be a regular file too, or nothing).
    public static func requireReplaceable(_ path: String) throws {
        var st = stat()
        guard stat(path, &st) == 0 else { return }
        switch st.st_mode & S_IFMT {
        case S_IFREG: return
        case S_IFDIR: throw AtomicWriteError(path: path, reason: "a folder, not a file", isRefusal: true)
        default:
            throw AtomicWriteError(path: path, reason: "not a regular file (a device, pipe or socket), which rigctl never replaces",
                                   isRefusal: true)
        }
    }

    /// The reason for a failed write; a file size limit (`ulimit -f`, EFBIG once SIGXFSZ is ignored) is named as such.
    public static func writeFailureReason() -> String {
        if errno == EFBIG {
            if let limit = fileSizeLimit() { return "the file size limit (ulimit -f) of \(limit) bytes was reached" }
            return "the file is too large for the file system"
        }
        return errnoString()
    }

    /// The process's file size limit in bytes (`ulimit -f`), nil when there is none.
    public static func fileSizeLimit() -> UInt64? {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max else { return nil }
        return UInt64(limit.rlim_cur)
    }

    static func errnoString() -> String { String(cString: strerror(errno)) }
}
