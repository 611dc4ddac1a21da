/// Why a dataset operation failed. Every case names the folder, file or record concerned.
public enum DatasetError: Error, Equatable, CustomStringConvertible {
    /// The folder has no `catalog.sqlite`.
    case notADataset(path: String)
    /// `init` on a folder that already holds a catalogue.
    case alreadyExists(path: String)
    /// Another process holds the dataset's write lock.
    case busy(path: String)
    /// A write was asked of a dataset opened read-only.
    case readOnly(path: String)
    /// An input file cannot be read.
    case unreadable(path: String, reason: String)
    /// A file cannot be written (disk full, permissions).
    case writeFailed(path: String, reason: String)
    /// Input that does not make sense (a homography without 9 numbers, an unknown pair id, a bad option).
    case invalidInput(String)
    /// No record with this id.
    case notFound(what: String, id: String)
    /// A catalogued file does not hold the bytes the catalogue recorded.
    case hashMismatch(path: String, expected: String, actual: String)
    /// The import folder does not have the layout asked for.
    case badLayout(path: String, detail: String)
    /// The export folder exists and is not an earlier export, so it is not replaced.
    case refusingToOverwrite(path: String)
    /// `catalog.sqlite` exists but is not a catalogue (empty, damaged, another program's database).
    case invalidCatalogue(path: String, detail: String)
    /// A path inside the dataset (or an import folder) goes through a symbolic link or names something other than a
    /// regular file or folder; it is reported, never followed.
    case unsafePath(path: String, detail: String)
    /// The SQLite layer failed.
    case database(String)
    /// A resource limit of the process (`ulimit -n`, `ulimit -f`) stopped the operation on this path.
    case limitReached(path: String, limit: String)
    /// The catalogue was written by a newer rigctl (a migration or a schema version this one does not know), so
    /// this one does not write it.
    case newerCatalogue(path: String, detail: String)

    public var description: String {
        switch self {
        case .notADataset(let p): "\(p) is not a dataset (no catalog.sqlite); create one with `rigctl dataset init \(p)`"
        case .alreadyExists(let p): "\(p) already holds a dataset"
        case .busy(let p): "the dataset \(p) is in use by another rigctl process"
        case .readOnly(let p): "the dataset \(p) was opened read-only"
        case .unreadable(let p, let r): "cannot read \(p): \(r)"
        case .writeFailed(let p, let r): "cannot write \(p): \(r)"
        case .invalidInput(let d): d
        case .notFound(let what, let id): "no \(what) \(id) in the dataset"
        case .hashMismatch(let p, let e, let a): "\(p) has SHA-256 \(a), but the catalogue recorded \(e)"
        case .badLayout(let p, let d): "\(p): \(d)"
        case .refusingToOverwrite(let p): "\(p) exists and is not an earlier export; choose an empty or new folder"
        case .invalidCatalogue(let p, let d): "\(p) is not a valid catalogue: \(d)"
        case .unsafePath(let p, let d): "refusing \(p): \(d)"
        case .database(let d): "catalogue error: \(d)"
        case .limitReached(let p, let l): "\(p): \(l)"
        case .newerCatalogue(let p, let d): "\(p) was written by a newer rigctl (\(d)); this rigctl does not write it"
        }
    }

    /// True when the error comes from what the user gave (files, folders, options) rather than from the system.
    public var isBadInput: Bool {
        switch self {
        case .notADataset, .alreadyExists, .unreadable, .invalidInput, .notFound, .hashMismatch, .badLayout,
             .refusingToOverwrite, .readOnly, .invalidCatalogue, .unsafePath, .newerCatalogue:
            true
        case .busy, .writeFailed, .database, .limitReached:
            false
        }
    }
}
