import CLibraryMessages
import Foundation
import Rig
import Testing
import ThreadSupport

/// libgphoto2's PTP/IP driver calls perror(); once a library is loaded those lines are kept for the error rigctl
/// reports (and libgphoto2's log), per thread, instead of going to standard error.
@Suite struct LibraryMessageTests {
    @Test func aLibrarysPerrorIsKeptForTheThreadThatCalledIt() throws {
        _ = try GPhotoLibrary()
        errno = ECONNREFUSED
        rigctl_perror_like_a_library("connect cmd")
        let other = try JoinableThread.run(name: "other") { LibraryMessages.take() }
        #expect(other.isEmpty, "another thread's message leaked: \(other)")
        #expect(LibraryMessages.take() == "connect cmd: Connection refused")
        #expect(LibraryMessages.take().isEmpty, "a message is taken once")
    }

    @Test func aRefusedConnectionIsSaidInWordsWithTheCodeAtTheEnd() {
        let error = GPhotoError(code: -7, operation: "connecting to the camera on ptpip:127.0.0.1:1:2",
                                system: "connect cmd: Connection refused")
        #expect(error.description.hasPrefix("connecting to the camera on ptpip:127.0.0.1:1:2: nothing answers at that address"))
        #expect(error.description.hasSuffix("[libgphoto2: I/O problem (-7); connect cmd: Connection refused]"), "\(error)")
        let plain = GPhotoError(code: -1, operation: "reading the settings")
        #expect(plain.description == "reading the settings: libgphoto2: Unspecified error (-1)", "\(plain)")
    }
}
