import Foundation

/// Facts of Nikon's PTP extension as libgphoto2 2.5.30 uses it (camlibs/ptp2 ptp.h, library.c), for the virtual
/// camera's Nikon personality.
enum Nikon {
    static let initiateCaptureRecInSdram: UInt16 = 0x90C0
    static let deviceReady: UInt16 = 0x90C8

    /// With these, libgphoto2 captures the Nikon way: InitiateCaptureRecInSdram, then DeviceReady until the body
    /// is no longer busy, then the file's event. Without Nikon's GetEvent (0x90C7) events come on the PTP/IP
    /// event channel.
    static let operations: [UInt16] = [initiateCaptureRecInSdram, deviceReady]

    /// Nikon-only properties the body lists (none yet beyond the standard ones).
    static let propertyCodes: [UInt16] = []
}

/// The Nikon personality: capture into SDRAM polled with DeviceReady; busy while the shot is being written.
extension VirtualCamera {
    func handleNikon(code: UInt16, params: [UInt32], data: [UInt8]?) -> Reply? {
        switch code {
        case Nikon.initiateCaptureRecInSdram:
            // Same faults and answers as InitiateCapture; libgphoto2 retries DeviceBusy by itself.
            return initiateCapture()
        case Nikon.deviceReady:
            lock.lock()
            let busy = capturing
            lock.unlock()
            return .code(busy ? PTPResponse.deviceBusy : PTPResponse.ok)
        default:
            return nil
        }
    }
}
