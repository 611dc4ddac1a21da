import CDescriptorGuard
import Foundation
import Rig
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// libgphoto2 closes descriptor 0 on every PTP/IP disconnect. Whatever owns 0 must keep it: the guard makes every
/// close(0) in the process a no-op, so there is no window in which another thread can be handed 0 and lose it.
@Suite(.serialized) struct DescriptorZeroTests {
    /// The identity of the open file on descriptor 0, or nil when 0 is closed.
    func identity() -> (dev_t, ino_t)? {
        var info = stat()
        guard fstat(0, &info) == 0 else { return nil }
        return (info.st_dev, info.st_ino)
    }

    /// Puts a file of the test's own on descriptor 0 for the duration of `body`, then /dev/null again.
    func withOwnFileOnZero(_ body: (_ expected: (dev_t, ino_t)) throws -> Void) throws {
        #expect(DescriptorZero.guardOnce())
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("zero").path
        let fd = open(path, O_RDWR | O_CREAT, 0o600)
        try #require(fd > 0)
        try #require(dup2(fd, 0) == 0)
        _ = Glibc.close(fd)
        defer {
            let null = open("/dev/null", O_RDWR)
            if null > 0 { _ = dup2(null, 0); _ = Glibc.close(null) }
        }
        let expected = try #require(identity())
        try body(expected)
    }

    /// A library's close(0), bound through the dynamic linker as libgphoto2's camlibs bind it, is refused.
    @Test func aLibraryCannotCloseDescriptorZero() throws {
        try withOwnFileOnZero { expected in
            #expect(rigctl_close_like_a_library(0) == 0)
            let now = identity()
            #expect(now?.0 == expected.0 && now?.1 == expected.1, "descriptor 0 was closed or replaced")
        }
    }

    /// Disconnecting a real libgphoto2 PTP/IP camera leaves descriptor 0 with its owner (today's libgphoto2 closes
    /// it; re-occupying it afterwards would put /dev/null there instead).
    @Test func disconnectingACameraKeepsDescriptorZero() throws {
        let fixture = try VirtualRigFixture(width: 96, height: 64)
        defer { fixture.tearDown() }
        let library = try GPhotoLibrary()
        try withOwnFileOnZero { expected in
            for _ in 0..<3 {
                let camera = try library.openCamera(port: fixture.rig.shallow.portPath)
                camera.close()
                let now = identity()
                #expect(now?.0 == expected.0 && now?.1 == expected.1, "a camera disconnect closed or replaced descriptor 0")
            }
        }
    }
}
