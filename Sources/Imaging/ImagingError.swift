/// Why an image file could not be read or written. Every case names the file.
public enum ImagingError: Error, Equatable, CustomStringConvertible {
    /// The file could not be opened or read at all.
    case unreadable(path: String, reason: String)
    /// The file is of a known format but its content is damaged (truncated, bad checksum, impossible header).
    case corrupt(path: String, format: String, detail: String)
    /// The file is not in a format rigctl decodes, or uses a feature of it that is not supported.
    case unsupported(path: String, detail: String)
    /// Writing failed (disk full, permissions, a bad parameter).
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "cannot read \(path): \(reason)"
        case .corrupt(let path, let format, let detail): "\(path) is a damaged \(format) file: \(detail)"
        case .unsupported(let path, let detail): "\(path) is not supported: \(detail)"
        case .writeFailed(let path, let reason): "cannot write \(path): \(reason)"
        }
    }

    public var path: String {
        switch self {
        case .unreadable(let p, _), .corrupt(let p, _, _), .unsupported(let p, _), .writeFailed(let p, _): p
        }
    }
}
