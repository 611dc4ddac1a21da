/// Why a weight file could not be read or written. Every case names the file, and the tensor or field at fault
/// where there is one, so that a damaged download or a wrong file is diagnosed from the message alone.
public enum WeightFileError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file cannot be opened or read.
    case unreadable(path: String, reason: String)
    /// The bytes do not form a valid file of the expected format (truncated, damaged, inconsistent).
    case corrupt(path: String, field: String, detail: String)
    /// A valid file that uses something this reader does not implement (a compression method, a data type).
    case unsupported(path: String, field: String, detail: String)
    /// A pickle asks for an operation or a global that the restricted reader refuses to perform.
    case forbidden(path: String, detail: String)
    /// A tensor whose description or data is wrong (shape, view outside its storage, size mismatch).
    case badTensor(path: String, tensor: String, detail: String)
    /// The file could not be written.
    case writeFailed(path: String, reason: String)
    /// A model name that would not stay inside the model directory.
    case invalidModelName(name: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "\(path): cannot read: \(reason)"
        case .corrupt(let path, let field, let detail): "\(path): damaged file (\(field)): \(detail)"
        case .unsupported(let path, let field, let detail): "\(path): unsupported (\(field)): \(detail)"
        case .forbidden(let path, let detail): "\(path): refused: \(detail)"
        case .badTensor(let path, let tensor, let detail): "\(path): tensor '\(tensor)': \(detail)"
        case .writeFailed(let path, let reason): "\(path): cannot write: \(reason)"
        case .invalidModelName(let name, let reason): "invalid model name '\(name)': \(reason)"
        }
    }

    /// Whether the error comes from the input (a bad file or name) rather than from the environment.
    public var isBadInput: Bool {
        switch self {
        case .unreadable, .corrupt, .unsupported, .forbidden, .badTensor, .invalidModelName: true
        case .writeFailed: false
        }
    }
}
