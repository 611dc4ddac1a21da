import Foundation

/// Facts of the Canon EOS protocol as libgphoto2 2.5.30 speaks it (camlibs/ptp2: ptp.h codes, ptp-pack.c record
/// layouts, library.c and config.c call order), for the virtual camera's Canon personality.
enum CanonEOS {
    static let getStorageIDs: UInt16 = 0x9101
    static let getStorageInfo: UInt16 = 0x9102
    static let setDevicePropValueEx: UInt16 = 0x9110
    static let setRemoteMode: UInt16 = 0x9114
    static let setEventMode: UInt16 = 0x9115
    static let getEvent: UInt16 = 0x9116
    static let transferComplete: UInt16 = 0x9117
    static let pcHDDCapacity: UInt16 = 0x911A
    static let setUILock: UInt16 = 0x911B
    static let resetUILock: UInt16 = 0x911C
    static let remoteReleaseOn: UInt16 = 0x9128
    static let remoteReleaseOff: UInt16 = 0x9129
    static let getViewFinderData: UInt16 = 0x9153
    /// The viewfinder has no frame yet (live view off or starting).
    static let notReady: UInt16 = 0xA102

    /// What the body offers beyond standard PTP. RemoteReleaseOn with SetRemoteMode makes libgphoto2 treat it as
    /// a (non-M) EOS body; GetEvent replaces PTP events.
    static let operations: [UInt16] = [getStorageIDs, getStorageInfo, setDevicePropValueEx, setRemoteMode, setEventMode,
                                       getEvent, transferComplete, pcHDDCapacity, setUILock, resetUILock, remoteReleaseOn,
                                       remoteReleaseOff, getViewFinderData]

    // Records in GetEvent data: u32 size, u32 type, then the type's fields; an 8-byte record of type 0 ends them.
    static let objectAddedEx: UInt32 = 0xC181
    static let requestObjectTransfer: UInt32 = 0xC186
    static let propValueChanged: UInt32 = 0xC189
    static let availListChanged: UInt32 = 0xC18A
    /// 1 while a shot is being taken and written, 0 when done (libgphoto2 reports 0 as CAPTURE_COMPLETE).
    static let cameraStatusChanged: UInt32 = 0xC18B

    // Property codes.
    static let aperture: UInt16 = 0xD101
    static let shutterSpeed: UInt16 = 0xD102
    static let isoSpeed: UInt16 = 0xD103
    static let focusMode: UInt16 = 0xD108
    static let batteryPower: UInt16 = 0xD111
    static let availableShots: UInt16 = 0xD11B
    static let captureDestination: UInt16 = 0xD11C
    static let imageFormat: UInt16 = 0xD120
    static let evfOutputDevice: UInt16 = 0xD1B0
    static let evfMode: UInt16 = 0xD1B1

    /// CaptureDestination values: the card, or the host (libgphoto2's "sdram" capture target).
    static let destinationCard: UInt32 = 1
    static let destinationHost: UInt32 = 4

    /// EOS FocusMode: 0 one shot, 3 manual.
    static let focusOneShot: UInt32 = 0
    static let focusManual: UInt32 = 3

    /// EOS exposure codes count eighths of a stop from a base, thirds written as +3 and +5: aperture from f/1
    /// (code 8), shutter from 1 s (0x38), ISO from 100 (0x48).
    static func code(stops: Double, base: Int) -> UInt16 {
        let thirds = Int((stops * 3).rounded())
        let whole = thirds >= 0 ? thirds / 3 : -((-thirds + 2) / 3)
        let rest = thirds - whole * 3
        return UInt16(clamping: base + 8 * whole + [0, 3, 5][rest])
    }

    static func apertureCode(_ fNumber: Double) -> UInt16 { code(stops: 2 * log2(fNumber), base: 8) }
    static func shutterCode(_ seconds: Double) -> UInt16 { code(stops: log2(1 / seconds), base: 0x38) }
    static func isoCode(_ iso: Int) -> UInt16 { code(stops: log2(Double(iso) / 100), base: 0x48) }

    /// EOS BatteryPower: 0 low, 5 a quarter, 1 half, 4 three quarters, 2 full.
    static func batteryCode(percent: Int) -> UInt32 {
        switch percent {
        case ..<15: 0
        case ..<40: 5
        case ..<65: 1
        case ..<90: 4
        default: 2
        }
    }

    /// The ImageFormat dataset: a count, then per file u32 16, u32 kind (6 RAW, 1 JPEG), u32 size (0 large),
    /// u32 compression (4 RAW, 3 fine).
    static func imageFormatData(rawPlusJPEG: Bool) -> [UInt8] {
        var w = PTPWriter()
        w.u32(rawPlusJPEG ? 2 : 1)
        for (kind, compression) in rawPlusJPEG ? [(6, 4), (1, 3)] : [(6, 4)] as [(UInt32, UInt32)] {
            w.u32(16)
            w.u32(kind)
            w.u32(0)
            w.u32(compression)
        }
        return w.bytes
    }

    /// Reads an ImageFormat dataset back: true for RAW+JPEG, false for RAW alone, nil for anything else.
    static func parseImageFormat(_ bytes: [UInt8]) -> Bool? {
        var r = PTPReader(bytes)
        guard let n = try? r.u32(), n == 1 || n == 2 else { return nil }
        var kinds: [UInt32] = []
        for _ in 0..<n {
            guard let size = try? r.u32(), size == 16, let kind = try? r.u32(), (try? r.u32()) != nil, (try? r.u32()) != nil else { return nil }
            kinds.append(kind)
        }
        if kinds == [6] { return false }
        if kinds.sorted() == [1, 6] { return true }
        return nil
    }
}

/// A Canon EOS session's state (part of the camera's locked state).
struct EOSState {
    var remoteMode: UInt32 = 0
    var eventMode: UInt32 = 0
    /// GetEvent records not yet fetched.
    var pending: [[UInt8]] = []
    /// Whether this session has had the full property set.
    var announced = false
    var captureDestination: UInt32 = CanonEOS.destinationCard
    var rawPlusJPEG = false
    var halfPressed = false
    var liveView = false

    mutating func resetSession() {
        remoteMode = 0
        eventMode = 0
        pending = []
        announced = false
        halfPressed = false
        liveView = false
        // The body remembers its card setting; a host that wants RAM sets it again.
        captureDestination = CanonEOS.destinationCard
    }
}

/// The Canon EOS personality: the operations libgphoto2's EOS code sends, and the GetEvent record stream.
extension VirtualCamera {
    func handleEOS(code: UInt16, params: [UInt32], data: [UInt8]?) -> Reply? {
        func param(_ i: Int) -> UInt32 { i < params.count ? params[i] : 0 }
        switch code {
        case CanonEOS.getStorageIDs:
            var w = PTPWriter()
            w.array32([Self.storageID])
            return .data(w.bytes)
        case CanonEOS.getStorageInfo:
            return .data(storageInfo())
        case CanonEOS.setRemoteMode:
            state.withLock { s in s.eos.remoteMode = param(0) }
            return .code(PTPResponse.ok)
        case CanonEOS.setEventMode:
            state.withLock { s in s.eos.eventMode = param(0) }
            return .code(PTPResponse.ok)
        case CanonEOS.getEvent:
            return .data(takeEOSEvents())
        case CanonEOS.setUILock, CanonEOS.resetUILock, CanonEOS.pcHDDCapacity:
            return .code(PTPResponse.ok)
        case CanonEOS.setDevicePropValueEx:
            return .code(setEOSProperty(data ?? []))
        case CanonEOS.transferComplete:
            state.withLock { s in if let o = s.objects[param(0)], o.inRAM { s.objects[param(0)] = nil } }
            return .code(PTPResponse.ok)
        case CanonEOS.remoteReleaseOn:
            return remoteRelease(press: param(0))
        case CanonEOS.remoteReleaseOff:
            state.withLock { s in if param(0) == 1 { s.eos.halfPressed = false } }
            return .code(PTPResponse.ok)
        case CanonEOS.getViewFinderData:
            return eosViewFinderFrame()
        case PTPOperation.initiateCapture:
            // An EOS body has no PTP InitiateCapture; libgphoto2 never sends it to one.
            return .code(PTPResponse.operationNotSupported)
        case PTPOperation.getDevicePropDesc, PTPOperation.getDevicePropValue, PTPOperation.setDevicePropValue:
            return .code(PTPResponse.devicePropNotSupported)
        default:
            return nil
        }
    }

    /// Half press (1) focuses; full press (2) fires. Busy while the previous shot is still being written, and
    /// every injected fault of the generic camera applies to the half press, which starts a shot.
    private func remoteRelease(press: UInt32) -> Reply {
        return state.withLock { s in
            if press == 1 {
                if let refusal = s.refusalOfShot(toCard: s.eos.captureDestination == CanonEOS.destinationCard,
                                                 frameBytes: UInt64(configuration.width * configuration.height * 2),
                                                 capacity: configuration.storageCapacity) {
                    return refusal
                }
                s.eos.halfPressed = true
                // Focus settled (or manual): the body reports its state, which ends libgphoto2's focus wait.
                s.eos.pending.append(Self.eosValueRecord(CanonEOS.focusMode, u32: s.manualFocus ? CanonEOS.focusManual : CanonEOS.focusOneShot))
                return .code(PTPResponse.ok)
            }
            guard press == 2 || press == 3 else { return .code(PTPResponse.invalidParameter) }
            s.eos.pending.append(Self.eosStatusRecord(1))
            let triggered = Date()
            return .answer(PTPResponse.ok, [], nil, { [self] in _ = beginCapture(external: false, triggered: triggered) })
        }
    }

    /// Everything queued since the last GetEvent (the whole property set the first time), then the end record.
    private func takeEOSEvents() -> [UInt8] {
        let records = state.withLock { s in
            if !s.eos.announced {
                s.eos.announced = true
                s.eos.pending.insert(contentsOf: eosPropertyRecords(s), at: 0)
            }
            defer { s.eos.pending = [] }
            return s.eos.pending
        }
        var bytes = records.flatMap { $0 }
        var end = PTPWriter()
        end.u32(8)
        end.u32(0)
        bytes += end.bytes
        return bytes
    }

    /// Value records for every property, then the allowed-values records (libgphoto2 keeps a list only for a
    /// property whose value it has seen), from the state read under the lock.
    private func eosPropertyRecords(_ state: State) -> [[UInt8]] {
        let c = configuration
        let s = state.settings
        var records: [[UInt8]] = [
            Self.eosValueRecord(CanonEOS.aperture, u32: UInt32(CanonEOS.apertureCode(s.fNumber))),
            Self.eosValueRecord(CanonEOS.shutterSpeed, u32: UInt32(CanonEOS.shutterCode(s.exposureTime))),
            Self.eosValueRecord(CanonEOS.isoSpeed, u32: UInt32(CanonEOS.isoCode(s.iso))),
            Self.eosValueRecord(CanonEOS.focusMode, u32: state.manualFocus ? CanonEOS.focusManual : CanonEOS.focusOneShot),
            Self.eosValueRecord(CanonEOS.batteryPower, u32: CanonEOS.batteryCode(percent: batteryLevel(shots: state.log.count))),
            Self.eosValueRecord(CanonEOS.availableShots, u32: availableShots(state)),
            Self.eosValueRecord(CanonEOS.captureDestination, u32: state.eos.captureDestination),
            Self.eosRecord(CanonEOS.propValueChanged, UInt32(CanonEOS.imageFormat), CanonEOS.imageFormatData(rawPlusJPEG: state.eos.rawPlusJPEG)),
            Self.eosValueRecord(CanonEOS.evfOutputDevice, u32: state.eos.liveView ? 2 : 0),
            Self.eosValueRecord(CanonEOS.evfMode, u32: state.eos.liveView ? 1 : 0),
        ]
        records.append(Self.eosListRecord(CanonEOS.aperture, c.apertures.map { UInt32(CanonEOS.apertureCode($0)) }))
        records.append(Self.eosListRecord(CanonEOS.shutterSpeed, c.exposureTimes.map { UInt32(CanonEOS.shutterCode($0)) }))
        records.append(Self.eosListRecord(CanonEOS.isoSpeed, c.isoValues.map { UInt32(CanonEOS.isoCode($0)) }))
        records.append(Self.eosListRecord(CanonEOS.captureDestination, [CanonEOS.destinationCard, CanonEOS.destinationHost]))
        if c.format == .dng {
            var list = PTPWriter()
            list.u32(UInt32(CanonEOS.imageFormat))
            list.u32(3)
            list.u32(2)
            list.bytes += CanonEOS.imageFormatData(rawPlusJPEG: false) + CanonEOS.imageFormatData(rawPlusJPEG: true)
            records.append(Self.eosRecord(CanonEOS.availListChanged, list.bytes))
        }
        return records
    }

    /// Shots that fit on the card at the current frame size, from the state read under the lock.
    private func availableShots(_ state: State) -> UInt32 {
        let used = state.cardBytes
        let free = configuration.storageCapacity > used ? configuration.storageCapacity - used : 0
        return UInt32(min(free / UInt64(configuration.width * configuration.height * 2 + 4096), UInt64(UInt32.max - 1)))
    }

    /// SetDevicePropValueEx: u32 size, u32 property, value. A value outside the body's list is refused.
    private func setEOSProperty(_ data: [UInt8]) -> UInt16 {
        var r = PTPReader(data)
        guard let _ = try? r.u32(), let code32 = try? r.u32() else { return PTPResponse.invalidDevicePropFormat }
        let code = UInt16(truncatingIfNeeded: code32)
        let rest = Array(data.dropFirst(8))
        var v = PTPReader(rest)
        var v16 = PTPReader(rest)
        let value = (try? v.u32()) ?? UInt32((try? v16.u16()) ?? 0)
        return state.withLock { s in
            let c = configuration
            var record: [UInt8]?
            switch code {
            case CanonEOS.aperture, CanonEOS.shutterSpeed, CanonEOS.isoSpeed:
                let code16 = UInt16(truncatingIfNeeded: value)
                if code == CanonEOS.aperture {
                    guard let a = c.apertures.first(where: { CanonEOS.apertureCode($0) == code16 }) else { return PTPResponse.invalidDevicePropValue }
                    if !s.keepOldSettings { s.settings.fNumber = a }
                    record = Self.eosValueRecord(code, u32: UInt32(CanonEOS.apertureCode(s.settings.fNumber)))
                } else if code == CanonEOS.shutterSpeed {
                    guard let t = c.exposureTimes.first(where: { CanonEOS.shutterCode($0) == code16 }) else { return PTPResponse.invalidDevicePropValue }
                    if !s.keepOldSettings { s.settings.exposureTime = t }
                    record = Self.eosValueRecord(code, u32: UInt32(CanonEOS.shutterCode(s.settings.exposureTime)))
                } else {
                    guard let iso = c.isoValues.first(where: { CanonEOS.isoCode($0) == code16 }) else { return PTPResponse.invalidDevicePropValue }
                    if !s.keepOldSettings { s.settings.iso = iso }
                    record = Self.eosValueRecord(code, u32: UInt32(CanonEOS.isoCode(s.settings.iso)))
                }
            case CanonEOS.captureDestination:
                guard value == CanonEOS.destinationCard || value == CanonEOS.destinationHost else { return PTPResponse.invalidDevicePropValue }
                s.eos.captureDestination = value
                record = Self.eosValueRecord(code, u32: value)
            case CanonEOS.imageFormat:
                guard c.format == .dng, let both = CanonEOS.parseImageFormat(rest) else { return PTPResponse.invalidDevicePropValue }
                if !s.keepOldSettings { s.eos.rawPlusJPEG = both }
                record = Self.eosRecord(CanonEOS.propValueChanged, UInt32(code), CanonEOS.imageFormatData(rawPlusJPEG: s.eos.rawPlusJPEG))
            case CanonEOS.evfOutputDevice:
                // A mask: bit 0 the body's screen, bit 1 the PC. Frames go to the host only with bit 1.
                s.eos.liveView = value & 2 != 0
                record = Self.eosValueRecord(code, u32: value)
            case CanonEOS.evfMode:
                record = Self.eosValueRecord(code, u32: value)
            case CanonEOS.focusMode:
                // The lens switch decides; the body refuses the host.
                return PTPResponse.accessDenied
            default:
                return PTPResponse.devicePropNotSupported
            }
            // The body confirms what it now holds; libgphoto2 refreshes its cache from this.
            if let record { s.eos.pending.append(record) }
            return PTPResponse.ok
        }
    }

    /// Announces a shot's files: ObjectAddedEx for files on the card, RequestObjectTransfer for files waiting in
    /// RAM for the host. The "no file announced" fault drops them.
    func queueEOSObjects(_ handles: [UInt32], quiet: Bool) {
        state.withLock { s in
            s.eos.pending.append(Self.eosValueRecord(CanonEOS.availableShots, u32: availableShots(s)))
            defer { s.eos.pending.append(Self.eosStatusRecord(0)) }
            guard !quiet else { return }
            for h in handles {
                guard let o = s.objects[h] else { continue }
                var w = PTPWriter()
                w.u32(h)
                if o.inRAM {
                    w.u32(UInt32(o.format))  // 0x0c
                    w.u32(0)
                    w.u32(UInt32(o.data.count))  // 0x14
                    w.u32(0)
                    w.bytes += Array(o.name.utf8) + [0]  // 0x1c
                    s.eos.pending.append(Self.eosRecord(CanonEOS.requestObjectTransfer, w.bytes))
                } else {
                    w.u32(Self.storageID)  // 0x0c
                    w.u32(UInt32(o.format))  // 0x10
                    w.u32(0)
                    w.u32(0)
                    w.u32(UInt32(o.data.count))  // 0x1c
                    w.u32(o.parent)  // 0x20
                    w.u32(0)
                    w.bytes += Array(o.name.utf8) + [0]  // 0x28
                    s.eos.pending.append(Self.eosRecord(CanonEOS.objectAddedEx, w.bytes))
                }
            }
        }
    }

    static func eosRecord(_ type: UInt32, _ payload: [UInt8]) -> [UInt8] {
        var w = PTPWriter()
        var body = payload
        while body.count % 4 != 0 { body.append(0) }
        w.u32(UInt32(8 + body.count))
        w.u32(type)
        w.bytes += body
        return w.bytes
    }

    static func eosRecord(_ type: UInt32, _ property: UInt32, _ value: [UInt8]) -> [UInt8] {
        var w = PTPWriter()
        w.u32(property)
        w.bytes += value
        return eosRecord(type, w.bytes)
    }

    static func eosStatusRecord(_ status: UInt32) -> [UInt8] {
        var w = PTPWriter()
        w.u32(status)
        return eosRecord(CanonEOS.cameraStatusChanged, w.bytes)
    }

    static func eosValueRecord(_ property: UInt16, u32 value: UInt32) -> [UInt8] {
        var w = PTPWriter()
        w.u32(value)
        return eosRecord(CanonEOS.propValueChanged, UInt32(property), w.bytes)
    }

    /// Allowed values: type 3 (an enumeration), the count, one u32 per value.
    static func eosListRecord(_ property: UInt16, _ values: [UInt32]) -> [UInt8] {
        var w = PTPWriter()
        w.u32(UInt32(property))
        w.u32(3)
        w.u32(UInt32(values.count))
        for v in values { w.u32(v) }
        return eosRecord(CanonEOS.availListChanged, w.bytes)
    }
}
