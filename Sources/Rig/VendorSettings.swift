import Foundation

/// Which of libgphoto2's ptp2 code paths drives a camera. The rig file speaks of settings by meaning; the vendor
/// decides which configuration entry holds each one and how its values are written.
public enum CameraVendor: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// Plain PTP (and PTP/IP) cameras: the standard device properties.
    case generic
    /// Canon EOS bodies: EOS property codes, values in libgphoto2's Canon tables.
    case canon
    /// Nikon DSLRs: standard exposure properties plus Nikon's own.
    case nikon
    /// Sony Alpha bodies in PC-remote mode (documented from libgphoto2's config.c; not exercised by the tests).
    case sony

    public var description: String { rawValue }

    /// The libgphoto2 driver name a PTP/IP body of this vendor is opened with.
    public var ptpipModel: String {
        switch self {
        case .generic, .sony: "PTP/IP Camera"
        case .canon: "Canon EOS (WLAN)"
        case .nikon: "Nikon DSLR (WLAN)"
        }
    }

    /// Where in libgphoto2's trigger call the shutter fires (see `CapturedFile.fireFraction`).
    public var fireFraction: Double {
        switch self {
        case .generic, .sony: 0.5
        case .canon: 1
        case .nikon: 0
        }
    }

    /// Tells the vendor from what libgphoto2 shows of a connected camera: the EOS remote-release action exists only
    /// on EOS bodies; otherwise the manufacturer decides.
    public static func detect(entries: Set<String>, manufacturer: String?) -> CameraVendor {
        if entries.contains("eosremoterelease") { return .canon }
        let maker = (manufacturer ?? "").lowercased()
        if maker.contains("nikon") { return .nikon }
        if maker.contains("sony") { return .sony }
        return .generic
    }
}

/// A setting of the rig file, by meaning.
public enum RigSetting: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case aperture, shutter, iso, focusDistance, captureTarget, imageFormat, focusMode

    public var description: String { rawValue }
}

/// Where rigctl asks the camera to put its files: libgphoto2's `capturetarget`.
public enum CaptureTarget: String, Sendable, Codable, CaseIterable {
    /// On the memory card (kept there unless the rig deletes it after download).
    case card
    /// In the camera's RAM: downloaded, then gone. Faster and never fills the card.
    case ram
}

/// Which files one shot produces.
public enum RigImageFormat: String, Sendable, Codable, CaseIterable {
    case raw
    /// Two files per shot; the rig downloads both before it writes the pair.
    case rawPlusJPEG = "raw+jpeg"
}

/// The focus mode a rig wants: manual, so that focus cannot move between shots.
public enum FocusMode: String, Sendable, Codable, CaseIterable {
    case manual
}

/// One row of a vendor table: the libgphoto2 configuration entry for a setting and how its values read.
public struct VendorSettingEntry: Sendable, Equatable {
    public var setting: RigSetting
    /// The configuration entry's name (`gphoto2 --get-config NAME`).
    public var entry: String
    /// How a value is written in that entry, for the documentation and error messages (e.g. `"5.6"`, `"f/5.6"`).
    public var example: String
}

/// libgphoto2 2.5.30's names and value formats per vendor (camlibs/ptp2/config.c).
public struct VendorTable: Sendable, Equatable {
    public var vendor: CameraVendor
    public var entries: [VendorSettingEntry]

    public func entry(_ setting: RigSetting) -> VendorSettingEntry? { entries.first { $0.setting == setting } }

    public static func of(_ vendor: CameraVendor) -> VendorTable {
        func e(_ s: RigSetting, _ name: String, _ example: String) -> VendorSettingEntry {
            VendorSettingEntry(setting: s, entry: name, example: example)
        }
        switch vendor {
        case .generic:
            return VendorTable(vendor: vendor, entries: [
                e(.aperture, "f-number", "f/5.6"), e(.shutter, "shutterspeed", "0.0020s"), e(.iso, "iso", "100"),
                e(.focusDistance, "focusdistance", "2500 mm"), e(.focusMode, "focusmode", "Manual"),
                e(.imageFormat, "imagequality", "-"),
            ])
        case .canon:
            return VendorTable(vendor: vendor, entries: [
                e(.aperture, "aperture", "5.6"), e(.shutter, "shutterspeed", "1/500"), e(.iso, "iso", "100"),
                e(.captureTarget, "capturetarget", "Memory card"), e(.imageFormat, "imageformat", "RAW + Large Fine JPEG"),
                e(.focusMode, "focusmode", "Manual"),
            ])
        case .nikon:
            return VendorTable(vendor: vendor, entries: [
                e(.aperture, "f-number", "f/5.6"), e(.shutter, "shutterspeed", "0.0020s"), e(.iso, "iso", "100"),
                e(.captureTarget, "capturetarget", "Memory card"), e(.imageFormat, "imagequality", "NEF+Fine"),
                e(.focusMode, "focusmode", "Manual"),
            ])
        case .sony:
            return VendorTable(vendor: vendor, entries: [
                e(.aperture, "f-number", "f/5.6"), e(.shutter, "shutterspeed", "1/500"), e(.iso, "iso", "100"),
                e(.captureTarget, "capturetarget", "card"), e(.imageFormat, "imagequality", "RAW+JPEG"),
                e(.focusMode, "focusmode", "Manual"),
            ])
        }
    }
}

/// Finds the camera's own choice that means a wanted value, whatever the vendor's format. Choices are matched by
/// meaning (an f-number, a time, a number), not by spelling, so "f/5.6", "5.6" and "F5.6" all mean f/5.6.
public enum SettingChoice {
    /// The number in an f-number choice ("f/5.6", "5.6", "F5.6"); nil for "auto" and other words.
    public static func fNumber(_ text: String) -> Double? {
        var t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if t.hasPrefix("f/") { t.removeFirst(2) } else if t.hasPrefix("f") { t.removeFirst() }
        return Double(t)
    }

    /// Seconds in a shutter choice ("1/500", "0.0020s", "2", "1/3s"); nil for "bulb" and other words.
    public static func seconds(_ text: String) -> Double? {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard let first = t.first, first.isNumber else { return nil }
        return RoleSettings.parseShutter(t)
    }

    /// The choice meaning f/`value`, within the rounding of printed f-numbers (f/5.6 is 5.66, f/11 is 11.3).
    public static func aperture(_ value: Double, in choices: [String]) -> String? {
        nearest(choices, to: value, parse: fNumber, tolerance: { 0.03 * $0 + 0.005 })
    }

    /// The choice meaning `value` seconds. Generic PTP prints 1/10000 s units with four decimals, so 1/4000 s
    /// reads "0.0003s"; the tolerance covers that rounding and nothing coarser.
    public static func shutter(_ value: Double, in choices: [String]) -> String? {
        nearest(choices, to: value, parse: seconds, tolerance: { 0.03 * $0 + 0.00005 })
    }

    public static func iso(_ value: Int, in choices: [String]) -> String? {
        choices.first { Int($0.trimmingCharacters(in: .whitespaces)) == value }
    }

    public static func captureTarget(_ target: CaptureTarget, in choices: [String]) -> String? {
        let words = target == .card ? ["memory card", "card"] : ["internal ram", "sdram", "ram"]
        for w in words { if let c = choices.first(where: { $0.lowercased() == w }) { return c } }
        return nil
    }

    /// RAW alone, or RAW with the largest finest JPEG the camera offers beside it.
    public static func imageFormat(_ format: RigImageFormat, in choices: [String]) -> String? {
        let raws = choices.filter { $0.uppercased().hasPrefix("RAW") || $0.uppercased().hasPrefix("NEF") }
        switch format {
        case .raw:
            return raws.first { !$0.uppercased().contains("JPEG") && !$0.contains("+") }
        case .rawPlusJPEG:
            let pairs = raws.filter { $0.contains("+") }
            return pairs.first { $0.contains("Large Fine") } ?? pairs.first { $0.contains("Fine") } ?? pairs.first
        }
    }

    public static func focusMode(_ mode: FocusMode, in choices: [String]) -> String? {
        choices.first { $0.lowercased() == "manual" || $0.uppercased() == "MF" }
    }

    /// True when a focus-mode value means manual focus.
    public static func isManualFocus(_ value: String) -> Bool {
        let v = value.lowercased()
        return v == "manual" || v == "mf" || v.hasPrefix("manual")
    }

    /// Manual exposure as libgphoto2 names it: "M" (PTP ExposureProgramMode, Nikon, Sony) or "Manual" (Canon EOS
    /// `autoexposuremode`); bulb is manual too.
    public static func isManualExposure(_ value: String) -> Bool {
        let v = value.trimmingCharacters(in: .whitespaces).lowercased()
        return v == "m" || v == "manual" || v.hasPrefix("manual") || v == "bulb"
    }

    /// Single-shot drive as libgphoto2 names it: "Single Shot" (PTP StillCaptureMode, Nikon) or "Single" (Canon EOS
    /// `drivemode`), and silent or quiet single-frame variants.
    public static func isSingleShot(_ value: String) -> Bool {
        let v = value.lowercased()
        return v.hasPrefix("single") || v.contains("single frame") || v.contains("single-frame")
            || v.contains("single shooting") || v == "quiet shutter"
    }

    private static func nearest(_ choices: [String], to value: Double, parse: (String) -> Double?,
                                tolerance: (Double) -> Double) -> String? {
        var best: (String, Double)?
        for c in choices {
            guard let v = parse(c) else { continue }
            let d = abs(v - value)
            if d <= tolerance(value), d < (best?.1 ?? .infinity) { best = (c, d) }
        }
        return best?.0
    }
}
