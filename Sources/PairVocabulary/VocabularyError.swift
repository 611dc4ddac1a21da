/// A value of the pair vocabulary that cannot be built from the numbers given.
public enum VocabularyError: Error, Equatable, CustomStringConvertible {
    case invalidHomography(String)

    public var description: String {
        switch self {
        case .invalidHomography(let d): "invalid homography: \(d)"
        }
    }
}
