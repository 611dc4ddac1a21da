import AtomicFiles
import Imaging

extension ImagingError: ClassifiedError {
    var isBadInput: Bool {
        switch self {
        case .unreadable, .corrupt, .unsupported: true
        case .writeFailed: false
        }
    }
}

extension AtomicWriteError: ClassifiedError {
    var isBadInput: Bool { isRefusal }
}
