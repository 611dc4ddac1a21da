import Foundation
import Rig
import TestSupport
import Testing

/// libgphoto2's debug log is a C `FILE` handed to a log callback: it must be closed exactly once.
@Suite struct GPhotoDebugLogTests {
    /// A second `stop()` (the command's own, then the deinit's) closed the FILE twice: a double free.
    @Test func stoppingTwiceClosesTheFileOnce() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("gphoto2.log").path
        let log = try GPhotoDebugLog(path: path)
        #expect(!log.isStopped)
        log.stop()
        #expect(log.isStopped)
        log.stop()
        #expect(log.isStopped)
        #expect(FileManager.default.fileExists(atPath: path))
    }
}
