import Foundation
import GRDB
import Imaging
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
    let db: DatabaseQueue
    private let lockDescriptor: Int32
    /// The advisory lock keeps other processes out; this keeps the threads of this one from interleaving their
    /// crash-safe steps. Without it a sweep on one thread (after an evaluation released a file) took another
    /// thread's journalled, not yet committed files for a killed step's leftovers and deleted them mid-write.
    private let steps = NSRecursiveLock()

    /// Creates a new, empty dataset in `root` (made if missing).
    @discardableResult
    public static func create(at root: URL) throws -> Dataset {
        let catalog = root.appendingPathComponent(catalogName)
        if FileManager.default.fileExists(atPath: catalog.path) { throw DatasetError.alreadyExists(path: root.path) }
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
        let catalog = self.root.appendingPathComponent(Self.catalogName)
        if !creating && !FileManager.default.fileExists(atPath: catalog.path) {
            throw DatasetError.notADataset(path: root.path)
        }
        if readOnly {
            lockDescriptor = -1
        } else {
            lockDescriptor = try Self.lock(self.root, wait: lockWait)
        }
        do {
            var config = Configuration()
            config.busyMode = .timeout(10)
            config.prepareDatabase { db in
                // FULL: a commit is on disk before it returns, so a journal entry always precedes its file.
                try db.execute(sql: "PRAGMA synchronous = FULL")
            }
            db = try DatabaseQueue(path: catalog.path, configuration: config)
            if !readOnly {
                try db.writeWithoutTransaction { db in
                    _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
                }
                try Schema.migrator.migrate(db)
            } else {
                let (isCatalogue, upToDate) = try db.read { db in
                    (try db.tableExists("pair"), try Schema.migrator.hasCompletedMigrations(db))
                }
                if !isCatalogue { throw DatasetError.notADataset(path: root.path) }
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
            throw DatasetError.database("\(catalog.path): \(error)")
        }
        recoveredFiles = readOnly ? [] : (try? Self.sweepPending(db: db, root: self.root)) ?? []
    }

    deinit {
        if lockDescriptor >= 0 { close(lockDescriptor) }
    }

    private static func lock(_ root: URL, wait: TimeInterval) throws -> Int32 {
        let path = root.appendingPathComponent(lockName).path
        let fd = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
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
            throw DatasetError.database("\(error)")
        }
    }

    func write<T>(_ body: (Database) throws -> T) throws -> T {
        try requireWritable()
        do {
            return try db.write(body)
        } catch let error as DatasetError {
            throw error
        } catch {
            throw DatasetError.database("\(error)")
        }
    }

    // MARK: - Crash-safe steps

    /// A file to be placed in the dataset as part of one step.
    struct PlannedFile {
        let relativePath: String
        let data: Data
        let sha256: String
        let kind: String
    }

    static func readInput(_ url: URL) throws -> Data {
        do {
            return try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            let exists = FileManager.default.fileExists(atPath: url.path)
            throw DatasetError.unreadable(path: url.path, reason: exists ? "\(error.localizedDescription)" : "no such file")
        }
    }

    /// Journals the new paths, writes the files atomically, then runs `body` in the transaction that inserts their
    /// rows and clears the journal. `body` gets the file ids by relative path.
    func commitStep<T>(_ files: [PlannedFile], _ body: (Database, [String: Int64]) throws -> T) throws -> T {
        try requireWritable()
        steps.lock()
        defer { steps.unlock() }
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
            var newFolders = Set<String>()
            for file in toWrite {
                let folder = url(file.relativePath).deletingLastPathComponent()
                if !FileManager.default.fileExists(atPath: folder.path) {
                    do {
                        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                    } catch {
                        throw DatasetError.writeFailed(path: folder.path, reason: error.localizedDescription)
                    }
                    newFolders.insert(folder.path)
                }
            }
            try Durable.write(toWrite.map { (url($0.relativePath), $0.data) }, newFolders: newFolders)
            let now = Date()
            return try write { db in
                var ids: [String: Int64] = [:]
                for (path, file) in unique.sorted(by: { $0.key < $1.key }) {
                    if let known = existing[path] {
                        ids[path] = known.id
                    } else {
                        try db.execute(sql: """
                            INSERT INTO file (path, size, sha256, kind, addedAt) VALUES (?, ?, ?, ?, ?)
                            """, arguments: [path, file.data.count, file.sha256, file.kind, now])
                        ids[path] = db.lastInsertedRowID
                    }
                }
                for file in toWrite {
                    try db.execute(sql: "DELETE FROM pendingFile WHERE path = ?", arguments: [file.relativePath])
                }
                return try body(db, ids)
            }
        } catch {
            _ = try? Self.sweepPending(db: db, root: root)
            throw error
        }
    }

    /// Drops a file row that nothing references any more and journals its path, so that `sweepPending` deletes the
    /// file after the transaction commits (or on the next open, if the process dies first).
    static func release(fileID: Int64?, in db: Database) throws {
        guard let fileID else { return }
        let referenced = try Bool.fetchOne(db, sql: """
            SELECT EXISTS(SELECT 1 FROM shot WHERE fileId = :id)
                OR EXISTS(SELECT 1 FROM pair WHERE :id IN (sourceFileId, targetFileId, leftFileId, rightFileId))
                OR EXISTS(SELECT 1 FROM model WHERE weightsFileId = :id)
                OR EXISTS(SELECT 1 FROM evaluation WHERE outputFileId = :id)
            """, arguments: ["id": fileID]) ?? true
        guard !referenced, let path = try String.fetchOne(db, sql: "SELECT path FROM file WHERE id = ?", arguments: [fileID])
        else { return }
        try db.execute(sql: "DELETE FROM file WHERE id = ?", arguments: [fileID])
        try db.execute(sql: "INSERT OR IGNORE INTO pendingFile (path) VALUES (?)", arguments: [path])
    }

    /// Sweeps the journal (see `sweepPending`) between this process's steps, never during one.
    func sweepBetweenSteps() {
        steps.lock()
        defer { steps.unlock() }
        _ = try? Self.sweepPending(db: db, root: root)
    }

    /// Removes the files of journalled paths that no catalogued file claims, temporaries a killed writer left
    /// beside them, and folders that became empty; then clears the journal. Returns the removed paths.
    static func sweepPending(db: DatabaseQueue, root: URL) throws -> [String] {
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
            let url = root.appendingPathComponent(entry.path)
            if !entry.claimed, unlink(url.path) == 0 { removed.append(entry.path) }
            folders.insert((entry.path as NSString).deletingLastPathComponent)
        }
        for folder in folders.sorted(by: >) {
            let dir = root.appendingPathComponent(folder)
            for name in AtomicFile.removeLeftovers(in: dir) { removed.append(folder + "/" + name) }
            // Only the per-item folder is removed when empty, never the top-level folders.
            if folder.contains("/") { rmdir(dir.path) }
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
public struct Ingested: Sendable, Equatable {
    public let id: Int64
    public let created: Bool

    public init(id: Int64, created: Bool) {
        self.id = id
        self.created = created
    }
}
