import Foundation
// Every module that writes images also writes files atomically: re-export the writer with the image types.
import AtomicFiles

/// Reads a whole file, turning failures into an `ImagingError` that names it (a folder or a device given where an
/// image is expected says so).
func readFile(_ url: URL) throws -> Data {
    do {
        return try FileContents.read(path: url.path)
    } catch let error as FileReadError {
        throw ImagingError.unreadable(path: url.path, reason: error.reason)
    }
}
