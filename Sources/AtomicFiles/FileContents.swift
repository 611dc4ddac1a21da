import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why a file could not be read: the path and a reason a person understands ("a folder, not a file" rather than
/// Foundation's "error 256").
public struct FileReadError: Error, Equatable, CustomStringConvertible {
    public let path: String
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "cannot read \(path): \(reason)" }
}

/// Reads whole files for every module, so that a folder, a device or a pipe given where a file is expected gets the
/// same clear message everywhere, and files the kernel reports as 0 bytes (`/proc`) are still read to their end.
public enum FileContents {
    /// Reads the regular file at `path` (a path the user gave, so links are followed).
    public static func read(path: String) throws -> Data {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            let reason = errno == ENOENT ? "no such file" : String(cString: strerror(errno))
            throw FileReadError(path: path, reason: reason)
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw FileReadError(path: path, reason: String(cString: strerror(errno))) }
        switch st.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw FileReadError(path: path, reason: "a folder, not a file")
        default: throw FileReadError(path: path, reason: "not a regular file (a device, pipe or socket)")
        }
        do {
            return try read(descriptor: fd, sizeHint: Int(st.st_size))
        } catch let error as FileReadError {
            throw FileReadError(path: path, reason: error.reason)
        }
    }

    /// Reads from `fd` until the end of the file; `sizeHint` sizes the first allocation.
    public static func read(descriptor fd: Int32, sizeHint: Int) throws -> Data {
        var data = Data(count: max(sizeHint, 0) + 1)
        var filled = 0
        while true {
            if filled == data.count { data.count += max(data.count, 1 << 16) }
            let capacity = data.count - filled
            let n = data.withUnsafeMutableBytes { raw in Glibc.read(fd, raw.baseAddress! + filled, capacity) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw FileReadError(path: "", reason: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            filled += n
        }
        data.count = filled
        return data
    }
}
