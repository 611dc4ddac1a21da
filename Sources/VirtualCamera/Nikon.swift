import Foundation

/// Facts of Nikon's PTP extension as libgphoto2 2.5.30 uses it (camlibs/ptp2 ptp.h, library.c), for the virtual
/// camera's Nikon personality.
enum Nikon {
    static let initiateCaptureRecInSdram: UInt16 = 0x90C0
    static let deviceReady: UInt16 = 0x90C8
    static let startLiveView: UInt16 = 0x9201
    static let endLiveView: UInt16 = 0x9202
    static let getLiveViewImg: UInt16 = 0x9203
    /// LiveViewStatus (UINT8, 1 while live view runs), read by libgphoto2 before captures and previews.
    static let liveViewStatus: UInt16 = 0xD1A2
    static let notLiveView: UInt16 = 0xA00B
    static let liveViewHeaderSize = 384

    /// With these, libgphoto2 captures the Nikon way: InitiateCaptureRecInSdram, then DeviceReady until the body
    /// is no longer busy, then the file's event. Without Nikon's GetEvent (0x90C7) events come on the PTP/IP
    /// event channel.
    static let operations: [UInt16] = [initiateCaptureRecInSdram, deviceReady, startLiveView, endLiveView, getLiveViewImg]

    /// Nikon-only properties the body lists.
    static let propertyCodes: [UInt16] = [liveViewStatus]
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
        case Nikon.startLiveView:
            lock.lock()
            defer { lock.unlock() }
            if capturing { return .code(PTPResponse.deviceBusy) }
            nikonLiveView = true
            return .code(PTPResponse.ok)
        case Nikon.endLiveView:
            lock.lock()
            nikonLiveView = false
            lock.unlock()
            return .code(PTPResponse.ok)
        case Nikon.getLiveViewImg:
            return nikonLiveViewFrame()
        case PTPOperation.getDevicePropDesc, PTPOperation.getDevicePropValue:
            guard params.first.map({ UInt16(truncatingIfNeeded: $0) }) == Nikon.liveViewStatus else { return nil }
            lock.lock()
            let on: UInt8 = nikonLiveView ? 1 : 0
            lock.unlock()
            var w = PTPWriter()
            if code == PTPOperation.getDevicePropDesc {
                w.u16(Nikon.liveViewStatus)
                w.u16(PTPDataType.uint8)
                w.u8(0)  // read-only
                w.u8(0)
                w.u8(on)
                w.u8(0)  // no form
            } else {
                w.u8(on)
            }
            return .data(w.bytes)
        default:
            return nil
        }
    }
}
