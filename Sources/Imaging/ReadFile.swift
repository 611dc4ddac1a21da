import Foundation
// Every module that writes images also writes files atomically: re-export the writer with the image types.
@_exported import AtomicFiles

/// Reads a whole file, turning failures into an `ImagingError` that names it.
func readFile(_ url: URL) throws -> Data {
    do {
        return try Data(contentsOf: url, options: .mappedIfSafe)
    } catch {
        let reason: String
        if !FileManager.default.fileExists(atPath: url.path) {
            reason = "no such file"
        } else {
            reason = (error as NSError).localizedDescription
        }
        throw ImagingError.unreadable(path: url.path, reason: reason)
    }
}
