import Foundation

/// Facts of Nikon's PTP extension as libgphoto2 2.5.30 uses it (camlibs/ptp2 ptp.h, library.c), for the virtual
/// camera's Nikon personality.
enum Nikon {
    static let initiateCaptureRecInSdram: UInt16 = 0x90C0
    /// GetEvent ("CheckEvent" in libgphoto2): the events since the last poll, as a UINT16 count followed by that
    /// many records of a UINT16 event code and its UINT32 first parameter (ptp-pack.c, ptp_unpack_Nikon_EC).
    static let getEvent: UInt16 = 0x90C7
    static let deviceReady: UInt16 = 0x90C8
    static let startLiveView: UInt16 = 0x9201
    static let endLiveView: UInt16 = 0x9202
    static let getLiveViewImg: UInt16 = 0x9203
    /// LiveViewStatus (UINT8, 1 while live view runs), read by libgphoto2 before captures and previews.
    static let liveViewStatus: UInt16 = 0xD1A2
    static let notLiveView: UInt16 = 0xA00B
    static let liveViewHeaderSize = 384

    /// Events kept for GetEvent at most; older ones are dropped.
    static let eventQueueLimit = 256

    /// With these, libgphoto2 captures the Nikon way: InitiateCaptureRecInSdram, then DeviceReady until the body
    /// is no longer busy, then the file's event. When GetEvent (0x90C7) is listed too, libgphoto2's
    /// ptp_check_event polls it and, once it has returned an event, reads nothing else (ptp.c); without it events
    /// come on the PTP/IP event channel.
    static let operations: [UInt16] = [initiateCaptureRecInSdram, deviceReady, startLiveView, endLiveView, getLiveViewImg]

    /// Nikon-only properties the body lists.
    static let propertyCodes: [UInt16] = [liveViewStatus]
}

extension Nikon {
    /// GetEvent's data: the count, then one six-byte record per event.
    static func eventData(_ events: [(code: UInt16, param: UInt32)]) -> [UInt8] {
        var w = PTPWriter()
        w.u16(UInt16(events.count))
        for event in events {
            w.u16(event.code)
            w.u32(event.param)
        }
        return w.bytes
    }
}

extension VirtualCameraConfiguration {
    /// A Nikon body that lists GetEvent.
    var offersNikonGetEvent: Bool { vendor == .nikon && nikonGetEvent }
}

/// The Nikon personality: capture into SDRAM polled with DeviceReady; busy while the shot is being written.
extension VirtualCamera {
    func handleNikon(code: UInt16, params: [UInt32], data: [UInt8]?) -> Reply? {
        switch code {
        case Nikon.initiateCaptureRecInSdram:
            // Same faults and answers as InitiateCapture; libgphoto2 retries DeviceBusy by itself.
            return initiateCapture()
        case Nikon.deviceReady:
            let busy = state.withLock { s in s.capturing }
            return .code(busy ? PTPResponse.deviceBusy : PTPResponse.ok)
        case Nikon.startLiveView:
            return state.withLock { s in
                if s.capturing { return .code(PTPResponse.deviceBusy) }
                s.nikonLiveView = true
                return .code(PTPResponse.ok)
            }
        case Nikon.endLiveView:
            state.withLock { s in s.nikonLiveView = false }
            return .code(PTPResponse.ok)
        case Nikon.getLiveViewImg:
            return nikonLiveViewFrame()
        case Nikon.getEvent where configuration.offersNikonGetEvent:
            let events = state.withLock { s in
                let events = s.nikonEvents
                s.nikonEvents = []
                if !events.isEmpty { s.nikonEventPolls += 1 }
                return events
            }
            return .data(Nikon.eventData(events))
        case PTPOperation.getDevicePropDesc, PTPOperation.getDevicePropValue:
            guard params.first.map({ UInt16(truncatingIfNeeded: $0) }) == Nikon.liveViewStatus else { return nil }
            let on: UInt8 = state.withLock { s in s.nikonLiveView ? 1 : 0 }
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
