/// Why a pair could not be aligned at all (as opposed to a pair that was aligned and judged bad, which is a
/// `rejected` verdict in the result).
public enum AlignmentError: Error, Equatable, CustomStringConvertible {
    /// The calibration file cannot be read or has a bad `alignment` object; names the file.
    case badCalibration(path: String, detail: String)
    /// An input image is unusable (too small, wrong kind); names it.
    case badImage(name: String, detail: String)
    /// A reference alignment report cannot be used; names the file.
    case badReference(path: String, detail: String)

    public var description: String {
        switch self {
        case .badCalibration(let path, let d): "bad alignment calibration in \(path): \(d)"
        case .badImage(let name, let d): "cannot align \(name): \(d)"
        case .badReference(let path, let d): "bad reference alignment \(path): \(d)"
        }
    }
}
