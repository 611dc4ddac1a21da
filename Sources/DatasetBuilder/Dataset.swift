import AtomicFiles
import Foundation
import PairVocabulary
import GRDB
import Imaging
import ThreadSupport
#if canImport(Glibc)
import Glibc
#endif

/// A dataset folder: `catalog.sqlite` plus the files it catalogues.
///
/// Every logical step (one capture, one pair, one model, one evaluation) is crash-safe: the paths about to be written
/// are journalled in one small transaction, the files are written under temporary names, fsynced and renamed, and
/// only then does the transaction that inserts the rows pointing at them commit (and clear the journal). A process
/// killed anywhere in between leaves journal entries behind; the next writable `open` removes their files, so the
/// catalogue and the folder always agree.
///
/// A writable dataset is held by one process at a time (an advisory lock on `catalog.lock`, released by the kernel
/// even when the process is killed). Read-only opens take no lock and change nothing.
public final class Dataset: Sendable {
    /// Folder names under the dataset root. Originals are never modified after they are copied in.
    public enum Folder {
        public static let originals = "originals"
        public static let aligned = "aligned"
        public static let models = "models"
        public static let outputs = "outputs"
        public static let all = [originals, aligned, models, outputs]
    }
    public static let catalogName = "catalog.sqlite"
    static let lockName = "catalog.lock"

    public let root: URL
    public let readOnly: Bool
    /// Files of interrupted steps that this open removed (relative paths).
    public let recoveredFiles: [String]
    /// Set when a read-only open found a catalogue written by a newer rigctl (which a writable open refuses): what
    /// is newer, for the command to say that it only reads it.
    public let newerCatalogue: String?
    let db: DatabaseQueue
    /// The dataset folder, reached through its descriptor: every catalogued path is opened from here without
    /// following links.
    let files: ConfinedFolder
    private let lockDescriptor: Int32
    /// The advisory lock keeps other processes out; this keeps the threads of this one from interleaving their
    /// crash-safe steps. Without it a sweep on one thread (after an evaluation released a file) took another
    /// thread's journalled, not yet committed files for a killed step's leftovers and deleted them mid-write.
    private let steps = LockedValue(())

    /// Creates a new, empty dataset in `root` (made if missing).
    @discardableResult
    public static func create(at root: URL) throws -> Dataset {
        let catalog = root.appendingPathComponent(catalogName)
        var st = stat()
        // lstat: a dangling link named catalog.sqlite must not make SQLite create a file wherever it points.
        if lstat(catalog.path, &st) == 0 { throw DatasetError.alreadyExists(path: root.path) }
        do {
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            for folder in Folder.all {
                try FileManager.default.createDirectory(at: root.appendingPathComponent(folder),
                                                        withIntermediateDirectories: true)
            }
        } catch {
            throw DatasetError.writeFailed(path: root.path, reason: "\(error.localizedDescription)")
        }
        return try Dataset(root: root, readOnly: false, creating: true, lockWait: 0)
    }

    /// Opens an existing dataset. Writable opens wait up to `lockWait` seconds for another process to let go, bring
    /// the schema up to date, and clean up after a killed writer.
    public static func open(at root: URL, readOnly: Bool = false, lockWait: TimeInterval = 5) throws -> Dataset {
        try Dataset(root: root, readOnly: readOnly, creating: false, lockWait: lockWait)
    }

    private init(root: URL, readOnly: Bool, creating: Bool, lockWait: TimeInterval) throws {
        self.root = root.standardizedFileURL
        self.readOnly = readOnly
        var newerFound: String? = nil
        let catalog = self.root.appendingPathComponent(Self.catalogName)
        if !creating { try Self.checkCatalogueFile(catalog, root: root) }
        files = try ConfinedFolder(path: self.root.path)
        if readOnly {
            lockDescriptor = -1
        } else {
            lockDescriptor = try Self.lock(self.root, wait: lockWait)
        }
        do {
            var config = Configuration()
            config.busyMode = .timeout(10)
            // A reading command never writes: SQLite opens the file read-only, so a dataset on a read-only mount,
            // or one the user may not write, can still be inspected and exported.
            config.readonly = readOnly
            if !readOnly {
                config.prepareDatabase { db in
                    // FULL: a commit is on disk before it returns, so a journal entry always precedes its file.
                    try db.execute(sql: "PRAGMA synchronous = FULL")
                }
            }
            db = try DatabaseQueue(path: readOnly ? Self.readOnlyLocation(catalog) : catalog.path, configuration: config)
            if !readOnly {
                if !creating {
                    let isCatalogue = try db.read { db in try db.tableExists("pair") }
                    if !isCatalogue {
                        throw DatasetError.invalidCatalogue(path: catalog.path, detail: "an SQLite database without rigctl's tables")
                    }
                }
                // A newer rigctl's catalogue is never written (not even upgraded to WAL): its migrations may have
                // changed what this rigctl's writes assume.
                if !creating, let newer = try db.read({ db in try Schema.newerSchema(db) }) {
                    throw DatasetError.newerCatalogue(path: catalog.path, detail: newer)
                }
                try db.writeWithoutTransaction { db in
                    _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
                }
                try Schema.migrator.migrate(db)
            } else {
                let (isCatalogue, upToDate, newer) = try db.read { db in
                    (try db.tableExists("pair"),
                     Schema.neededForReading.isSubset(of: try Schema.migrator.appliedIdentifiers(db)),
                     try db.tableExists("pair") ? try Schema.newerSchema(db) : nil)
                }
                newerFound = newer
                if !isCatalogue {
                    throw DatasetError.invalidCatalogue(path: catalog.path, detail: "an SQLite database without rigctl's tables")
                }
                if !upToDate {
                    throw DatasetError.database("\(catalog.path) has an older schema; open it for writing once "
                                                + "(e.g. `rigctl dataset verify`) to upgrade it")
                }
            }
        } catch let error as DatasetError {
            if lockDescriptor >= 0 { close(lockDescriptor) }
            throw error
        } catch {
            if lockDescriptor >= 0 { close(lockDescriptor) }
            throw Self.classify(error, catalogue: catalog.path)
        }
        recoveredFiles = readOnly ? [] : (try? Self.sweepPending(db: db, files: files)) ?? []
        newerCatalogue = newerFound
    }

    /// A catalogue file that exists must be one: a 0-byte or foreign file is an error for every command, never
    /// taken for a new, empty catalogue (which would make every file of the dataset an orphan).
    static func checkCatalogueFile(_ catalog: URL, root: URL) throws {
        var st = stat()
        guard lstat(catalog.path, &st) == 0 else {
            if errno == ENOENT { throw DatasetError.notADataset(path: root.path) }
            throw DatasetError.unreadable(path: catalog.path, reason: String(cString: strerror(errno)))
        }
        switch st.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFLNK: throw DatasetError.unsafePath(path: catalog.path, detail: "a symbolic link, which rigctl does not follow")
        default: throw DatasetError.invalidCatalogue(path: catalog.path, detail: "not a regular file")
        }
        if st.st_size == 0 {
            // A catalogue whose first pages are still only in the write-ahead log is valid; SQLite reads them there.
            var wal = stat()
            if lstat(catalog.path + "-wal", &wal) == 0, (wal.st_mode & S_IFMT) == S_IFREG, wal.st_size > 0 { return }
            throw DatasetError.invalidCatalogue(path: catalog.path, detail: "the file is empty (0 bytes), so it holds no catalogue")
        }
        let fd = Glibc.open(catalog.path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw DatasetError.unreadable(path: catalog.path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var header = [UInt8](repeating: 0, count: 16)
        let n = Glibc.read(fd, &header, 16)
        guard n == 16, header == Array("SQLite format 3\0".utf8) else {
            throw DatasetError.invalidCatalogue(path: catalog.path, detail: "not an SQLite database")
        }
    }

    /// Where a read-only open finds the catalogue. When the folder cannot be written (a read-only mount, another
    /// user's dataset), SQLite could not make the `-shm` file a WAL database needs, so the file is opened as
    /// immutable - unless a write-ahead log holds commits that are not in the main file yet, which SQLite then reads.
    static func readOnlyLocation(_ catalog: URL) -> String {
        let folder = catalog.deletingLastPathComponent().path
        guard access(folder, W_OK) != 0 else { return catalog.path }
        var wal = stat()
        if stat(catalog.path + "-wal", &wal) == 0, wal.st_size > 0 { return catalog.path }
        let encoded = catalog.path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? catalog.path
        return "file:\(encoded)?immutable=1"
    }

    deinit {
        if lockDescriptor >= 0 { close(lockDescriptor) }
    }

    private static func lock(_ root: URL, wait: TimeInterval) throws -> Int32 {
        let path = root.appendingPathComponent(lockName).path
        let fd = Glibc.open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw DatasetError.writeFailed(path: path, reason: String(cString: strerror(errno)))
        }
        let deadline = Date().addingTimeInterval(wait)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            if errno != EWOULDBLOCK && errno != EINTR {
                let reason = String(cString: strerror(errno))
                close(fd)
                throw DatasetError.writeFailed(path: path, reason: reason)
            }
            if Date() >= deadline {
                close(fd)
                throw DatasetError.busy(path: root.path)
            }
            usleep(20_000)
        }
        return fd
    }

    /// An SQLite failure as a `DatasetError`: a damaged or truncated file is an invalid catalogue (bad input, exit
    /// status 2), anything else a catalogue error.
    static func classify(_ error: Error, catalogue path: String) -> DatasetError {
        if let sqlite = error as? DatabaseError {
            switch sqlite.resultCode.primaryResultCode {
            case .SQLITE_NOTADB: return .invalidCatalogue(path: path, detail: "not an SQLite database")
            case .SQLITE_CORRUPT: return .invalidCatalogue(path: path, detail: "the file is damaged or truncated (\(sqlite.message ?? "corrupt"))")
            case .SQLITE_IOERR, .SQLITE_FULL:
                // Past `ulimit -f` SQLite sees EFBIG or a short write; the limit is what the user can change.
                if let limit = AtomicFile.fileSizeLimit() {
                    return .limitReached(path: path, limit: "\(sqlite.message ?? "disk I/O error"); the file size limit "
                                         + "(ulimit -f) is \(limit) bytes")
                }
            default: break
            }
        }
        return .database("\(path): \(error)")
    }

    /// As `classify`, keeping the message of errors after the open as it was (without the path).
    static func classifyLater(_ error: Error, catalogue path: String) -> DatasetError {
        let classified = classify(error, catalogue: path)
        switch classified {
        case .invalidCatalogue, .limitReached: return classified
        default: return .database("\(error)")
        }
    }

    func url(_ relativePath: String) -> URL {
        root.appendingPathComponent(relativePath)
    }

    func requireWritable() throws {
        if readOnly { throw DatasetError.readOnly(path: root.path) }
    }

    /// Runs a read, turning SQLite errors into `DatasetError`.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try db.read(body)
        } catch let error as DatasetError {
            throw error
        } catch {
            throw Self.classifyLater(error, catalogue: url(Self.catalogName).path)
        }
    }

    func write<T>(_ body: (Database) throws -> T) throws -> T {
        try requireWritable()
        do {
            return try db.write(body)
        } catch let error as DatasetError {
            throw error
        } catch {
            throw Self.classifyLater(error, catalogue: url(Self.catalogName).path)
        }
    }

    // MARK: - Crash-safe steps

    /// A file to be placed in the dataset as part of one step.
    struct PlannedFile {
        let relativePath: String
        let data: Data
        let sha256: String
        let kind: String
        var image: ImageInfo? = nil
    }

    /// Reads a file the caller named (an original, a weights file, an output): links are followed, as for any path a
    /// user gives; folders and devices are refused with a message that says so.
    static func readInput(_ url: URL) throws -> Data {
        do {
            return try FileContents.read(path: url.path)
        } catch let error as FileReadError {
            throw DatasetError.unreadable(path: error.path, reason: error.reason)
        }
    }

    /// Journals the new paths, writes the files atomically, then runs `body` in the transaction that inserts their
    /// rows and clears the journal. `body` gets the file ids by relative path.
    func commitStep<T>(_ files: [PlannedFile], _ body: (Database, [String: Int64]) throws -> T) throws -> T {
        try requireWritable()
        return try steps.withLock { _ in try commitStepLocked(files, body) }
    }

    private func commitStepLocked<T>(_ files: [PlannedFile], _ body: (Database, [String: Int64]) throws -> T) throws -> T {
        var unique: [String: PlannedFile] = [:]
        for file in files { unique[file.relativePath] = file }
        let existing: [String: (id: Int64, sha256: String)] = try read { db in
            var found: [String: (Int64, String)] = [:]
            for path in unique.keys {
                if let row = try Row.fetchOne(db, sql: "SELECT id, sha256 FROM file WHERE path = ?", arguments: [path]) {
                    found[path] = (row["id"], row["sha256"])
                }
            }
            return found
        }
        for (path, file) in unique {
            if let known = existing[path], known.sha256 != file.sha256 {
                throw DatasetError.hashMismatch(path: url(path).path, expected: known.sha256, actual: file.sha256)
            }
        }
        let toWrite = unique.values.filter { existing[$0.relativePath] == nil }.sorted { $0.relativePath < $1.relativePath }
        if !toWrite.isEmpty {
            try write { db in
                for file in toWrite {
                    try db.execute(sql: "INSERT OR IGNORE INTO pendingFile (path) VALUES (?)", arguments: [file.relativePath])
                }
            }
        }
        do {
            try Durable.write(toWrite.map { ($0.relativePath, $0.data) }, in: self.files)
            let now = Date()
            return try write { db in
                var ids: [String: Int64] = [:]
                for (path, file) in unique.sorted(by: { $0.key < $1.key }) {
                    if let known = existing[path] {
                        ids[path] = known.id
                    } else {
                        try db.execute(sql: """
                            INSERT INTO file (path, size, sha256, kind, addedAt, width, height, channels, bitDepth)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                            """, arguments: [path, file.data.count, file.sha256, file.kind, now, file.image?.width,
                                             file.image?.height, file.image?.channels, file.image?.bitDepth])
                        ids[path] = db.lastInsertedRowID
                    }
                }
                for file in toWrite {
                    try db.execute(sql: "DELETE FROM pendingFile WHERE path = ?", arguments: [file.relativePath])
                }
                return try body(db, ids)
            }
        } catch {
            _ = try? Self.sweepPending(db: db, files: self.files)
            throw error
        }
    }

    /// Drops a file row that nothing references any more and journals its path, so that `sweepPending` deletes the
    /// file after the transaction commits (or on the next open, if the process dies first).
    static func release(fileID: Int64?, in db: Database) throws {
        guard let fileID else { return }
        let referenced = try Bool.fetchOne(db, sql: """
            SELECT EXISTS(SELECT 1 FROM shot WHERE fileId = :id)
                OR EXISTS(SELECT 1 FROM shotCompanion WHERE fileId = :id)
                OR EXISTS(SELECT 1 FROM pair WHERE :id IN (sourceFileId, targetFileId, leftFileId, rightFileId))
                OR EXISTS(SELECT 1 FROM model WHERE weightsFileId = :id)
                OR EXISTS(SELECT 1 FROM evaluation WHERE outputFileId = :id)
                OR EXISTS(SELECT 1 FROM staleEvaluation WHERE outputFileId = :id)
            """, arguments: ["id": fileID]) ?? true
        guard !referenced, let path = try String.fetchOne(db, sql: "SELECT path FROM file WHERE id = ?", arguments: [fileID])
        else { return }
        try db.execute(sql: "DELETE FROM file WHERE id = ?", arguments: [fileID])
        try db.execute(sql: "INSERT OR IGNORE INTO pendingFile (path) VALUES (?)", arguments: [path])
    }

    /// Sweeps the journal (see `sweepPending`) between this process's steps, never during one.
    func sweepBetweenSteps() {
        steps.withLock { _ in _ = try? Self.sweepPending(db: db, files: files) }
    }

    /// Removes the files of journalled paths that no catalogued file claims, temporaries a killed writer left
    /// beside them, and folders that became empty; then clears the journal. Returns the removed paths.
    static func sweepPending(db: DatabaseQueue, files: ConfinedFolder) throws -> [String] {
        let pending = try db.read { db in
            try Row.fetchAll(db, sql: """
                SELECT p.path AS path, EXISTS(SELECT 1 FROM file f WHERE f.path = p.path) AS claimed FROM pendingFile p
                """).map { (path: $0["path"] as String, claimed: $0["claimed"] as Bool) }
        }
        guard !pending.isEmpty else { return [] }
        var removed: [String] = []
        var folders = Set<String>()
        for entry in pending {
            guard isManagedPath(entry.path) else { continue }
            // Regular files only, reached without following a link: a crafted journal entry below a link
            // (`aligned/up -> ../..`) removes nothing.
            if !entry.claimed, files.removeFile(entry.path) { removed.append(entry.path) }
            folders.insert((entry.path as NSString).deletingLastPathComponent)
        }
        for folder in folders.sorted(by: >) {
            for name in files.removeLeftovers(in: folder) { removed.append(folder + "/" + name) }
            // Only the per-item folder is removed when empty, never the top-level folders.
            if folder.contains("/") { files.removeEmptyFolder(folder) }
        }
        try db.write { db in
            for entry in pending { try db.execute(sql: "DELETE FROM pendingFile WHERE path = ?", arguments: [entry.path]) }
        }
        return removed.sorted()
    }

    /// True for relative paths inside one of the dataset's managed folders (so a damaged journal can never make the
    /// sweep delete anything else).
    static func isManagedPath(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 2, let first = parts.first, Folder.all.contains(String(first)) else { return false }
        return !parts.contains { $0.isEmpty || $0 == "." || $0 == ".." }
    }
}

/// The id of a record a step produced, and whether it is new or was already there (re-ingesting is idempotent).
/// `ID` says which kind of record: `CaptureID`, `PairID`, or a row id (`Int64`) for models and scores.
public struct Ingested<ID: Sendable & Equatable>: Sendable, Equatable {
    public let id: ID
    public let created: Bool

    public init(id: ID, created: Bool) {
        self.id = id
        self.created = created
    }
}
