import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `incoming/`: where `capture --dataset` downloads each pair before it is catalogued, and where a killed capture
/// leaves the pair in hand for `process`. It is reached like the managed folders - through the dataset's descriptor,
/// no link followed - so a link planted there (`incoming -> /elsewhere`, `incoming/0001_shallow.dng -> a file`)
/// is refused instead of having outside files catalogued, written or deleted.
extension Dataset {
    public static let incomingFolder = "incoming"

    /// The folder's URL, for the rig to write into once `prepareIncoming` has checked it.
    public var incoming: URL { root.appendingPathComponent(Self.incomingFolder) }

    /// Makes `incoming/` when missing; refuses it when it is a link or not a folder.
    public func prepareIncoming() throws {
        guard let fd = try files.openFolder(Self.incomingFolder, create: true) else {
            throw DatasetError.writeFailed(path: incoming.path, reason: "the folder cannot be made")
        }
        close(fd)
    }

    /// The names of the regular files in `incoming/`, sorted; none when it does not exist. A link or anything else
    /// but a regular file in it (or `incoming` itself as a link) is an error naming it.
    public func incomingFiles() throws -> [String] {
        switch try files.kind(Self.incomingFolder) {
        case .missing: return []
        case .directory: break
        case .link: throw DatasetError.unsafePath(path: incoming.path, detail: "a symbolic link, which rigctl does not follow")
        case .file, .special: throw DatasetError.unsafePath(path: incoming.path, detail: "not a folder")
        }
        var names: [String] = []
        for entry in try files.entries(Self.incomingFolder) {
            guard let name = entry.name else {
                throw DatasetError.unsafePath(path: incoming.path + "/" + entry.printable, detail: "a name that is not UTF-8")
            }
            switch entry.kind {
            case .file: names.append(name)
            case .link: throw DatasetError.unsafePath(path: incoming.path + "/" + name, detail: "a symbolic link, which rigctl does not follow")
            case .missing: continue
            case .directory, .special: throw DatasetError.unsafePath(path: incoming.path + "/" + name, detail: "not a regular file")
            }
        }
        return names
    }

    /// The bytes of a regular file of `incoming/`, no link followed.
    public func readIncoming(_ name: String) throws -> Data {
        try files.read(Self.incomingFolder + "/" + name)
    }

    /// Removes regular files of `incoming/` (never a link or anything behind one).
    public func removeIncoming(_ names: [String]) {
        for name in names { files.removeFile(Self.incomingFolder + "/" + name) }
    }

    /// Removes the temporaries a killed download left in `incoming/`.
    public func removeIncomingLeftovers() {
        _ = files.removeLeftovers(in: Self.incomingFolder)
    }

    /// Reads a capture's input file: one inside the dataset folder (a pair waiting in `incoming/`) through the
    /// dataset's descriptor, no link followed; any other as the user gave it.
    func readCaptureInput(_ url: URL) throws -> Data {
        let path = url.standardizedFileURL.path, base = root.path + "/"
        if path.hasPrefix(base) { return try files.read(String(path.dropFirst(base.count))) }
        return try Self.readInput(url)
    }
}
