import Foundation
import Imaging

/// The standard PTP device properties: aperture, shutter, ISO, focus distance, battery, date.
extension VirtualCamera {
    // MARK: - Properties

    static let battery: UInt16 = 0x5001
    /// ImageSize, a string "WIDTHxHEIGHT" (libgphoto2's `imagesize` entry): the frame size, the one offered.
    static let imageSize: UInt16 = 0x5003
    static let fNumber: UInt16 = 0x5007
    static let focalLength: UInt16 = 0x5008
    static let focusDistance: UInt16 = 0x5009
    static let focusMode: UInt16 = 0x500A
    static let exposureTime: UInt16 = 0x500D
    static let exposureProgram: UInt16 = 0x500E
    static let exposureIndex: UInt16 = 0x500F
    static let dateTime: UInt16 = 0x5011
    static let stillCaptureMode: UInt16 = 0x5013
    static let propertyCodes: [UInt16] = [battery, imageSize, fNumber, focalLength, focusDistance, focusMode, exposureTime,
                                          exposureProgram, exposureIndex, dateTime, stillCaptureMode]

    struct Property {
        enum Form { case none, range(UInt64, UInt64, UInt64), enumeration([UInt64]) }
        var code: UInt16
        var dataType: UInt16
        var settable: Bool
        var current: UInt64
        var text: String = ""
        var form: Form

        func write(_ value: UInt64, _ w: inout PTPWriter) {
            switch dataType {
            case PTPDataType.uint8: w.u8(UInt8(truncatingIfNeeded: value))
            case PTPDataType.uint16: w.u16(UInt16(truncatingIfNeeded: value))
            case PTPDataType.uint32: w.u32(UInt32(truncatingIfNeeded: value))
            default: w.string(text)
            }
        }
    }

    /// Charge in percent after `shots` exposures.
    func batteryLevel(shots: Int) -> Int { max(5, configuration.batteryPercent - shots / 20) }

    static func hundredths(_ v: Double) -> UInt64 { UInt64((v * 100).rounded()) }
    static func tenThousandths(_ v: Double) -> UInt64 { UInt64((v * 10000).rounded()) }

    func property(_ code: UInt16) -> Property? {
        let (s, shots, offset, manual) = state.withLock { st in (st.settings, st.log.count, st.dateOffset, st.manualFocus) }
        let (program, drive) = state.withLock { st in (st.exposureProgram, st.stillCaptureMode) }
        let c = configuration
        switch code {
        case Self.battery:
            return Property(code: code, dataType: PTPDataType.uint8, settable: false,
                            current: UInt64(batteryLevel(shots: shots)), form: .range(0, 100, 1))
        case Self.imageSize:
            return Property(code: code, dataType: PTPDataType.string, settable: false, current: 0,
                            text: "\(c.width)x\(c.height)", form: .enumeration([0]))
        case Self.focusMode:
            // PTP FocusMode: 1 manual, 2 automatic.
            return Property(code: code, dataType: PTPDataType.uint16, settable: true, current: manual ? 1 : 2,
                            form: .enumeration([1, 2]))
        case Self.fNumber:
            return Property(code: code, dataType: PTPDataType.uint16, settable: true, current: Self.hundredths(s.fNumber),
                            form: .enumeration(c.apertures.map(Self.hundredths)))
        case Self.focalLength:
            let f = Self.hundredths(c.character.focalLength)
            return Property(code: code, dataType: PTPDataType.uint32, settable: false, current: f, form: .enumeration([f]))
        case Self.focusDistance:
            let mm = s.focusDistance >= 65.535 ? 0xFFFF : UInt64((s.focusDistance * 1000).rounded())
            return Property(code: code, dataType: PTPDataType.uint16, settable: true, current: mm,
                            form: .enumeration(c.focusDistances.map(UInt64.init)))
        case Self.exposureTime:
            return Property(code: code, dataType: PTPDataType.uint32, settable: true, current: Self.tenThousandths(s.exposureTime),
                            form: .enumeration(c.exposureTimes.map(Self.tenThousandths)))
        case Self.exposureIndex:
            return Property(code: code, dataType: PTPDataType.uint16, settable: true, current: UInt64(s.iso),
                            form: .enumeration(c.isoValues.map { UInt64($0) }))
        case Self.exposureProgram:
            return Property(code: code, dataType: PTPDataType.uint16, settable: true, current: UInt64(program),
                            form: .enumeration([1, 2, 3, 4]))
        case Self.stillCaptureMode:
            return Property(code: code, dataType: PTPDataType.uint16, settable: true, current: UInt64(drive),
                            form: .enumeration([1, 2, 3]))
        case Self.dateTime:
            return Property(code: code, dataType: PTPDataType.string, settable: true, current: 0,
                            text: Self.ptpDate(Date().addingTimeInterval(offset)), form: .none)
        default:
            return nil
        }
    }

    func propertyDescription(_ code: UInt16) -> [UInt8]? {
        guard let p = property(code) else { return nil }
        var w = PTPWriter()
        w.u16(p.code)
        w.u16(p.dataType)
        w.u8(p.settable ? 1 : 0)
        p.write(p.current, &w)  // factory default: what the camera powered on with is as good as any
        p.write(p.current, &w)
        switch p.form {
        case .none: w.u8(0)
        case .range(let lo, let hi, let step):
            w.u8(1)
            p.write(lo, &w)
            p.write(hi, &w)
            p.write(step, &w)
        case .enumeration(let values):
            w.u8(2)
            w.u16(UInt16(values.count))
            for v in values { p.write(v, &w) }
        }
        return w.bytes
    }

    func setProperty(_ code: UInt16, _ data: [UInt8]) -> UInt16 {
        guard let p = property(code) else { return PTPResponse.devicePropNotSupported }
        guard p.settable else { return PTPResponse.accessDenied }
        var r = PTPReader(data)
        if p.dataType == PTPDataType.string {
            guard let text = try? r.string() else { return PTPResponse.invalidDevicePropFormat }
            guard let date = Self.parsePTPDate(text) else { return PTPResponse.invalidDevicePropValue }
            state.withLock { s in s.dateOffset = date.timeIntervalSinceNow }
            return PTPResponse.ok
        }
        let value: UInt64
        do {
            switch p.dataType {
            case PTPDataType.uint8: value = UInt64(try r.u8())
            case PTPDataType.uint16: value = UInt64(try r.u16())
            default: value = UInt64(try r.u32())
            }
        } catch {
            return PTPResponse.invalidDevicePropFormat
        }
        if case .enumeration(let allowed) = p.form, !allowed.contains(value) { return PTPResponse.invalidDevicePropValue }
        return state.withLock { s in
            if s.keepOldSettings { return PTPResponse.ok }
            switch code {
            case Self.focusMode: s.manualFocus = value == 1
            case Self.fNumber: s.settings.fNumber = Double(value) / 100
            case Self.exposureTime:
                // The offered time this code stands for (1/60 s travels as 167 ten-thousandths).
                s.settings.exposureTime = configuration.exposureTimes.first { Self.tenThousandths($0) == value }
                    ?? Double(value) / 10000
            case Self.exposureIndex: s.settings.iso = Int(value)
            case Self.focusDistance: s.settings.focusDistance = value == 0xFFFF ? 1000 : Double(value) / 1000
            case Self.exposureProgram: s.exposureProgram = UInt16(value)
            case Self.stillCaptureMode: s.stillCaptureMode = UInt16(value)
            default: return PTPResponse.accessDenied
            }
            return PTPResponse.ok
        }
    }

    static func parsePTPDate(_ text: String) -> Date? {
        let digits = text.prefix(15)
        guard digits.count == 15, digits[digits.index(digits.startIndex, offsetBy: 8)] == "T" else { return nil }
        let s = String(digits)
        func n(_ a: Int, _ b: Int) -> Int32? {
            Int32(s[s.index(s.startIndex, offsetBy: a)..<s.index(s.startIndex, offsetBy: b)])
        }
        guard let year = n(0, 4), let month = n(4, 6), let day = n(6, 8), let hour = n(9, 11), let minute = n(11, 13),
              let second = n(13, 15) else { return nil }
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = month - 1
        parts.tm_mday = day
        parts.tm_hour = hour
        parts.tm_min = minute
        parts.tm_sec = second
        return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
    }
}
