import AtomicFiles
import Foundation
import Imaging
#if canImport(Glibc)
import Glibc
#endif

/// A folder whose files are reached only through its own descriptor: every component of a relative path is opened
/// with `openat` and `O_NOFOLLOW`, so no symbolic link - planted in a downloaded dataset or an import folder - can
/// make a read, a write, a delete or a check land outside the folder. A link where a file or folder is expected is
/// reported (`DatasetError.unsafePath`), never followed. The folder itself is opened as given (the user named it).
final class ConfinedFolder: Sendable {
    /// The folder as given, for messages.
    let path: String
    private let fd: Int32

    init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            let reason = errno == ENOTDIR ? "not a folder" : String(cString: strerror(errno))
            throw DatasetError.unreadable(path: path, reason: reason)
        }
        self.fd = fd
    }

    deinit { close(fd) }

    /// What a relative path names, looked at without following a link.
    enum Kind: Equatable {
        case missing
        case file(size: Int64)
        case directory
        /// A symbolic link: at the path itself, or at one of its folders.
        case link
        /// A device, socket or pipe.
        case special
    }

    func full(_ relative: String) -> String { relative.isEmpty ? path : path + "/" + relative }

    /// The URL of a relative path, for messages and file extensions only (never opened by path).
    func url(_ relative: String) -> URL { URL(fileURLWithPath: full(relative)) }

    /// The components of a relative path; empty components, `.` and `..` are refused.
    func components(_ relative: String) throws -> [String] {
        let parts = relative.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard !parts.isEmpty, !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." || $0.contains("\0") }) else {
            throw DatasetError.unsafePath(path: full(relative), detail: "not a plain relative path")
        }
        return parts
    }

    /// Opens the folder reached by `parts` below this one. Missing folders are made when `create` is set (their
    /// relative paths are appended to `created`); nil when one is missing otherwise.
    func openFolder(_ parts: ArraySlice<String>, create: Bool = false) throws -> Int32? {
        var created: [String] = []
        return try openFolder(parts, create: create, created: &created)
    }

    func openFolder(_ parts: ArraySlice<String>, create: Bool, created: inout [String]) throws -> Int32? {
        var current = dup(fd)
        guard current >= 0 else {
            if errno == EMFILE || errno == ENFILE { throw Self.descriptorLimit(path, errno: errno) }
            throw DatasetError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        var walked: [String] = []
        for part in parts {
            walked.append(part)
            var next = openat(current, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if next < 0 && errno == ENOENT && create {
                if mkdirat(current, part, 0o755) != 0 && errno != EEXIST {
                    let reason = String(cString: strerror(errno))
                    close(current)
                    throw DatasetError.writeFailed(path: full(walked.joined(separator: "/")), reason: reason)
                }
                created.append(walked.joined(separator: "/"))
                next = openat(current, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            if next < 0 {
                let code = errno
                let kind = Self.kind(at: current, part)
                close(current)
                if code == ENOENT { return nil }
                throw failure(walked.joined(separator: "/"), kind: kind, errno: code)
            }
            close(current)
            current = next
        }
        return current
    }

    func openFolder(_ relative: String, create: Bool = false) throws -> Int32? {
        try openFolder(ArraySlice(try components(relative)), create: create)
    }

    /// The error for a component that cannot be opened as what it should be.
    private func failure(_ relative: String, kind: Kind, errno code: Int32) -> DatasetError {
        // Out of descriptors, the path is what it should be: the limit is at fault, not the file.
        if code == EMFILE || code == ENFILE { return Self.descriptorLimit(full(relative), errno: code) }
        return switch kind {
        case .link: .unsafePath(path: full(relative), detail: "a symbolic link, which rigctl does not follow")
        case .special: .unsafePath(path: full(relative), detail: "not a regular file or folder")
        case .file: .unsafePath(path: full(relative), detail: "a file where a folder is expected")
        case .directory: .unreadable(path: full(relative), reason: "a folder where a file is expected")
        case .missing: .unreadable(path: full(relative), reason: String(cString: strerror(code)))
        }
    }

    /// The error for EMFILE or ENFILE, naming the limit (`ulimit -n`) rather than the file.
    static func descriptorLimit(_ path: String, errno code: Int32) -> DatasetError {
        var limit = rlimit()
        let soft = getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 && code == EMFILE ? " (ulimit -n \(limit.rlim_cur))" : ""
        return .limitReached(path: path, limit: "too many open files\(soft)")
    }

    static func kind(at dirfd: Int32, _ name: String) -> Kind {
        var st = stat()
        guard fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return .missing }
        switch st.st_mode & S_IFMT {
        case S_IFREG: return .file(size: Int64(st.st_size))
        case S_IFDIR: return .directory
        case S_IFLNK: return .link
        default: return .special
        }
    }

    /// What `relative` is; `.link` when it or any folder on the way is a symbolic link.
    func kind(_ relative: String) throws -> Kind {
        let parts = try components(relative)
        let folder: Int32?
        do {
            folder = try openFolder(parts.dropLast())
        } catch DatasetError.unsafePath(_, let detail) where detail.contains("symbolic link") {
            return .link
        }
        guard let folder else { return .missing }
        defer { close(folder) }
        return Self.kind(at: folder, parts[parts.count - 1])
    }

    /// Opens a regular file for reading and passes its descriptor and size to `body`.
    func withFile<T>(_ relative: String, _ body: (Int32, Int64) throws -> T) throws -> T {
        let parts = try components(relative)
        guard let folder = try openFolder(parts.dropLast()) else {
            throw DatasetError.unreadable(path: full(relative), reason: "no such file")
        }
        defer { close(folder) }
        let name = parts[parts.count - 1]
        let file = openat(folder, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard file >= 0 else {
            let code = errno
            throw failure(relative, kind: Self.kind(at: folder, name), errno: code)
        }
        defer { close(file) }
        var st = stat()
        guard fstat(file, &st) == 0 else { throw DatasetError.unreadable(path: full(relative), reason: String(cString: strerror(errno))) }
        switch st.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw DatasetError.unreadable(path: full(relative), reason: "a folder where a file is expected")
        default: throw DatasetError.unsafePath(path: full(relative), detail: "not a regular file")
        }
        return try body(file, Int64(st.st_size))
    }

    /// The bytes of a regular file below the folder.
    func read(_ relative: String) throws -> Data {
        try withFile(relative) { file, size in
            do {
                return try FileContents.read(descriptor: file, sizeHint: Int(size))
            } catch let error as FileReadError {
                throw DatasetError.unreadable(path: full(relative), reason: error.reason)
            }
        }
    }

    /// Removes a regular file (never a link, a folder or anything else). True when it was removed.
    @discardableResult
    func removeFile(_ relative: String) -> Bool {
        guard let parts = try? components(relative), let folder = try? openFolder(parts.dropLast())
        else { return false }
        defer { close(folder) }
        let name = parts[parts.count - 1]
        guard case .file = Self.kind(at: folder, name) else { return false }
        return unlinkat(folder, name, 0) == 0
    }

    /// Removes an empty folder (not a link). True when it was removed.
    @discardableResult
    func removeEmptyFolder(_ relative: String) -> Bool {
        guard let parts = try? components(relative), let folder = try? openFolder(parts.dropLast())
        else { return false }
        defer { close(folder) }
        let name = parts[parts.count - 1]
        guard Self.kind(at: folder, name) == .directory else { return false }
        return unlinkat(folder, name, AT_REMOVEDIR) == 0
    }

    /// One entry of a folder. `name` is nil when the name is not valid UTF-8 (`rawName` keeps its bytes).
    struct Entry {
        let name: String?
        let rawName: [UInt8]
        let kind: Kind

        /// The name for messages: invalid bytes shown as \xNN.
        var printable: String {
            name ?? rawName.map { $0 < 0x80 && $0 >= 0x20 ? String(UnicodeScalar($0)) : String(format: "\\x%02X", $0) }.joined()
        }
    }

    /// The entries of a folder below this one (the folder itself must not be reached through a link), sorted by name.
    func entries(_ relative: String) throws -> [Entry] {
        let opened = relative.isEmpty ? dup(fd) : try openFolder(relative)
        guard let opened, opened >= 0 else { throw DatasetError.unreadable(path: full(relative), reason: "no such folder") }
        guard let dir = fdopendir(opened) else {
            let reason = String(cString: strerror(errno))
            close(opened)
            throw DatasetError.unreadable(path: full(relative), reason: reason)
        }
        defer { closedir(dir) }
        let dirfd = Glibc.dirfd(dir)
        var out: [Entry] = []
        while let entry = readdir(dir) {
            let raw: [UInt8] = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            if raw == Array(".".utf8) || raw == Array("..".utf8) { continue }
            let name = String(validating: raw, as: UTF8.self)
            let kind = raw.withUnsafeBufferPointer { buffer -> Kind in
                var st = stat()
                let cName = Array(buffer) + [0]
                let rc = cName.withUnsafeBufferPointer { fstatat(dirfd, UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), &st, AT_SYMLINK_NOFOLLOW) }
                guard rc == 0 else { return .missing }
                switch st.st_mode & S_IFMT {
                case S_IFREG: return .file(size: Int64(st.st_size))
                case S_IFDIR: return .directory
                case S_IFLNK: return .link
                default: return .special
                }
            }
            out.append(Entry(name: name, rawName: raw, kind: kind))
        }
        return out.sorted { $0.rawName.lexicographicallyPrecedes($1.rawName) }
    }

    /// Everything below `relative`, recursively, without entering links: regular files, and the entries that are
    /// links, special files or names that are not UTF-8, and the folders below it (relative paths, in order).
    func walk(_ relative: String) -> (files: [String], links: [String], others: [String], folders: [String]) {
        var files: [String] = [], links: [String] = [], others: [String] = [], folders: [String] = []
        func visit(_ folder: String) {
            guard let list = try? entries(folder) else { return }
            for entry in list {
                let child = (folder.isEmpty ? "" : folder + "/") + entry.printable
                guard entry.name != nil else {
                    others.append(child)
                    continue
                }
                switch entry.kind {
                case .file: files.append(child)
                case .directory:
                    folders.append(child)
                    visit(child)
                case .link: links.append(child)
                case .special, .missing: others.append(child)
                }
            }
        }
        if relative.isEmpty {
            visit("")
            return (files, links, others, folders)
        }
        switch (try? kind(relative)) ?? .missing {
        case .directory: visit(relative)
        case .link: links.append(relative)
        case .missing: break
        default: others.append(relative)
        }
        return (files, links, others, folders)
    }

    /// Removes the temporaries a killed writer left in a folder (regular files only). Returns their names.
    func removeLeftovers(in relative: String) -> [String] {
        guard let list = try? entries(relative) else { return [] }
        var removed: [String] = []
        for entry in list {
            guard let name = entry.name, name.hasPrefix(AtomicFile.temporaryMarker), case .file = entry.kind else { continue }
            if removeFile(relative + "/" + name) { removed.append(name) }
        }
        return removed
    }
}
