import CGPhoto2
import Foundation
import ThreadSupport

/// libgphoto2's own debug log (every PTP request, response and event, as `gphoto2 --debug` prints it) written to a
/// file, for support requests about a camera that misbehaves.
public final class GPhotoDebugLog: Sendable {
    /// The open log file, until `stop()` closes it (once: a second close would free the FILE twice).
    private let file: LockedValue<SendablePointer<FILE>?>
    private let id: Int32
    public let path: String

    /// Starts logging at debug level into `path` (created or truncated) until `stop()`.
    public init(path: String) throws {
        guard let file = fopen(path, "w") else {
            throw RigError.output(path: path, reason: String(cString: strerror(errno)))
        }
        self.file = LockedValue(SendablePointer(file))
        self.path = path
        let writer: GPLogFunc = { _, domain, text, data in
            guard let data, let text else { return }
            let out = data.assumingMemoryBound(to: FILE.self)
            if let domain { fputs(domain, out); fputs(": ", out) }
            fputs(text, out)
            fputs("\n", out)
        }
        id = gp_log_add_func(GP_LOG_DEBUG, writer, UnsafeMutableRawPointer(file))
        guard id >= 0 else {
            fclose(file)
            throw RigError.output(path: path, reason: "libgphoto2 refused a log function (\(id))")
        }
    }

    deinit { stop() }

    /// Stops logging and closes the file; later calls do nothing.
    public func stop() {
        file.withLock { open in
            guard let file = open?.pointer else { return }
            gp_log_remove_func(id)
            fflush(file)
            fclose(file)
            open = nil
        }
    }

    /// Whether `stop()` has closed the file.
    public var isStopped: Bool { file.withLock { $0 == nil } }
}
