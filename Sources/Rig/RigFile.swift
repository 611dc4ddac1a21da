import AtomicFiles
import Foundation
import Imaging
import PairVocabulary

/// What to set on a camera before capturing. Missing entries are left as the camera has them.
public struct RoleSettings: Sendable, Equatable, Codable {
    /// f-number, for example 2.8.
    public var aperture: Double?
    /// Exposure time in seconds.
    public var shutter: Double?
    public var iso: Int?
    /// Focus distance in metres (set only where the camera offers it).
    public var focusDistance: Double?
    /// Card or RAM (libgphoto2's `capturetarget`; one value per host, so both roles must agree).
    public var captureTarget: CaptureTarget?
    /// RAW, or RAW+JPEG (two files per shot, downloaded together).
    public var imageFormat: RigImageFormat?
    /// Manual focus, set where the camera lets the host set it; otherwise `rig check` warns about autofocus.
    public var focusMode: FocusMode?

    public init(aperture: Double? = nil, shutter: Double? = nil, iso: Int? = nil, focusDistance: Double? = nil,
                captureTarget: CaptureTarget? = nil, imageFormat: RigImageFormat? = nil, focusMode: FocusMode? = nil) {
        self.aperture = aperture
        self.shutter = shutter
        self.iso = iso
        self.focusDistance = focusDistance
        self.captureTarget = captureTarget
        self.imageFormat = imageFormat
        self.focusMode = focusMode
    }

    /// "1/500" for fractions of a second, "2" or "0.3" otherwise: the forms camera menus and libgphoto2 use.
    public static func shutterText(_ seconds: Double) -> String {
        if seconds < 1 {
            let inverse = 1 / seconds
            if abs(inverse - inverse.rounded()) < 1e-6 * inverse { return "1/\(Int(inverse.rounded()))" }
        }
        return String(format: "%g", seconds)
    }

    /// Parses "1/500", "0.002" or "2".
    public static func parseShutter(_ text: String) -> Double? {
        let t = text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "s", with: "")
        if let slash = t.firstIndex(of: "/") {
            guard let n = Double(t[..<slash]), let d = Double(t[t.index(after: slash)...]), d > 0 else { return nil }
            return n / d
        }
        return Double(t)
    }
}

/// One camera of the rig: how to find it, its role and its settings.
public struct RigCameraSpec: Sendable, Equatable, Codable {
    public var role: CameraRole
    /// libgphoto2 port, for example `ptpip:192.168.1.10` or `usb:001,005`.
    public var port: String?
    /// Serial number: checked after connecting by port, or used to find the camera among detected ones.
    public var serial: String?
    /// libgphoto2 model name; by default the one libgphoto2 associates with the port.
    public var model: String?
    public var settings: RoleSettings

    public init(role: CameraRole, port: String? = nil, serial: String? = nil, model: String? = nil, settings: RoleSettings = RoleSettings()) {
        self.role = role
        self.port = port
        self.serial = serial
        self.model = model
        self.settings = settings
    }

    /// How the camera is named in messages.
    public var label: String {
        var s = "\(role.rawValue) camera"
        if let port { s += " (\(port))" } else if let serial { s += " (serial \(serial))" }
        return s
    }
}

/// The rig file: which two cameras, in which roles, with which settings, fired how. JSON; see docs/rig.md.
public struct RigFile: Sendable, Equatable {
    public static let currentVersion = 1

    public var name: String?
    public var trigger: TriggerMode
    public var cameras: [RigCameraSpec]
    /// External release: two files whose arrivals are at most this many seconds apart form a pair.
    public var pairingWindow: Double
    /// Seconds to wait for a camera's file after the trigger (or, externally released, for the first file).
    public var fileTimeout: Double
    /// DeviceBusy answers tolerated per trigger before the pair is aborted.
    public var busyRetries: Int
    /// Leave the files on the cameras' cards after downloading.
    public var keepOnCamera: Bool
    /// The splitter's mirror, lens distortion and reference homography (`AlignmentCalibration`); nil: none written.
    public var alignment: AlignmentCalibration?
    /// Nothing in the scenes moves (still lifes, a rendered scene): different shutter speeds blur nothing
    /// differently, so pre-flight does not warn about them. A lab that shoots static scenes with the exposure
    /// balanced by shutter says so once here instead of reading the warning before every pair.
    public var staticScenes: Bool
    /// The trigger box rigctl fires (trigger `trigger-box`); nil otherwise.
    public var triggerBox: TriggerBoxSettings?
    /// The largest skew (seconds) a pair may have: the trigger skew under a software trigger, the arrival skew
    /// otherwise. A pair over it goes to review with the skew as its reason. nil: no limit.
    public var maxSkew: Double?

    public init(name: String? = nil, trigger: TriggerMode = .software, cameras: [RigCameraSpec], pairingWindow: Double = 0.5,
                fileTimeout: Double = 30, busyRetries: Int = 6, keepOnCamera: Bool = false, alignment: AlignmentCalibration? = nil,
                staticScenes: Bool = false, triggerBox: TriggerBoxSettings? = nil, maxSkew: Double? = nil) {
        self.maxSkew = maxSkew
        self.staticScenes = staticScenes
        self.triggerBox = triggerBox
        self.name = name
        self.trigger = trigger
        self.cameras = cameras
        self.pairingWindow = pairingWindow
        self.fileTimeout = fileTimeout
        self.busyRetries = busyRetries
        self.keepOnCamera = keepOnCamera
        self.alignment = alignment
    }

    public func camera(_ role: CameraRole) -> RigCameraSpec? { cameras.first { $0.role == role } }

    // MARK: Reading

    public static func load(_ url: URL) throws -> RigFile {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            let reason = FileManager.default.fileExists(atPath: url.path) ? (error as NSError).localizedDescription : "no such file"
            throw RigFileError.unreadable(path: url.path, reason: reason)
        }
        return try parse(data, path: url.path)
    }

    public static func parse(_ data: Data, path: String) throws -> RigFile {
        let root: JSONValue
        do {
            root = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw RigFileError.syntax(path: path, reason: Self.syntaxReason(error))
        }
        var v = Validator(path: path)
        return try v.rig(root)
    }

    private static func syntaxReason(_ error: Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            if let underlying = context.underlyingError as NSError?, let detail = underlying.userInfo[NSDebugDescriptionErrorKey] as? String {
                return "not valid JSON: \(detail)"
            }
            return "not valid JSON: \(context.debugDescription)"
        }
        return "not valid JSON"
    }

    // MARK: Writing

    /// Pretty JSON with sorted keys.
    public func encoded() throws -> Data {
        var top: [String: JSONValue] = [
            "version": .integer(Int64(Self.currentVersion)),
            "trigger": .string(trigger.rawValue),
            "pairingWindow": .number(pairingWindow),
            "fileTimeout": .number(fileTimeout),
            "busyRetries": .integer(Int64(busyRetries)),
            "keepOnCamera": .bool(keepOnCamera),
        ]
        if let name { top["name"] = .string(name) }
        if let alignment { top["alignment"] = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(alignment)) }
        if staticScenes { top["staticScenes"] = .bool(true) }
        if let maxSkew { top["maxSkew"] = .number(maxSkew) }
        if let box = triggerBox {
            top["triggerBox"] = .object([
                "device": .string(box.device),
                "outputs": .object(["shallow": .integer(Int64(box.shallowOutput)), "deep": .integer(Int64(box.deepOutput))]),
                "focusLead": .number(box.focusLead),
                "bulb": .integer(Int64(box.bulbMilliseconds)),
            ])
        }
        top["cameras"] = .array(cameras.map { c in
            var o: [String: JSONValue] = ["role": .string(c.role.rawValue)]
            if let p = c.port { o["port"] = .string(p) }
            if let s = c.serial { o["serial"] = .string(s) }
            if let m = c.model { o["model"] = .string(m) }
            var s: [String: JSONValue] = [:]
            if let a = c.settings.aperture { s["aperture"] = .number(a) }
            if let t = c.settings.shutter { s["shutter"] = .string(RoleSettings.shutterText(t)) }
            if let i = c.settings.iso { s["iso"] = .integer(Int64(i)) }
            if let f = c.settings.focusDistance { s["focusDistance"] = .number(f) }
            if let t = c.settings.captureTarget { s["captureTarget"] = .string(t.rawValue) }
            if let f = c.settings.imageFormat { s["imageFormat"] = .string(f.rawValue) }
            if let m = c.settings.focusMode { s["focusMode"] = .string(m.rawValue) }
            o["settings"] = .object(s)
            return .object(o)
        })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(JSONValue.object(top))
    }

    /// Writes the file atomically.
    public func write(to url: URL) throws {
        try AtomicFile.write(encoded() + Data("\n".utf8), to: url)
    }
}

/// A rig file that cannot be used; every case names the file, and `invalid` the field.
public enum RigFileError: Error, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case syntax(path: String, reason: String)
    case invalid(path: String, field: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "cannot read rig file \(path): \(reason)"
        case .syntax(let path, let reason): "rig file \(path) is \(reason)"
        case .invalid(let path, let field, let reason): "rig file \(path): \(field): \(reason)"
        }
    }
}

/// Checks the parsed JSON field by field so that every error says exactly what is wrong and where.
private struct Validator {
    let path: String

    func fail(_ field: String, _ reason: String) -> RigFileError { .invalid(path: path, field: field, reason: reason) }

    func object(_ v: JSONValue, _ field: String, allowed: Set<String>) throws -> [String: JSONValue] {
        guard case .object(let o) = v else { throw fail(field, "expected an object, found \(v.typeName)") }
        if let unknown = o.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw fail(field.isEmpty ? unknown : "\(field).\(unknown)",
                       "unknown key (expected one of: \(allowed.sorted().joined(separator: ", ")))")
        }
        return o
    }

    func string(_ v: JSONValue?, _ field: String) throws -> String? {
        guard let v, v != .null else { return nil }
        guard case .string(let s) = v else { throw fail(field, "expected a string, found \(v.typeName)") }
        guard !s.trimmingCharacters(in: .whitespaces).isEmpty else { throw fail(field, "must not be empty") }
        return s
    }

    func number(_ v: JSONValue?, _ field: String, range: ClosedRange<Double>) throws -> Double? {
        guard let v, v != .null else { return nil }
        guard let d = v.doubleValue else { throw fail(field, "expected a number, found \(v.typeName)") }
        guard range.contains(d) else { throw fail(field, "\(d) is outside \(range.lowerBound)...\(range.upperBound)") }
        return d
    }

    func integer(_ v: JSONValue?, _ field: String, range: ClosedRange<Int>) throws -> Int? {
        guard let v, v != .null else { return nil }
        guard case .integer(let i) = v else { throw fail(field, "expected a whole number, found \(v.typeName == "a number" ? "a fraction" : v.typeName)") }
        guard range.contains(Int(i)) else { throw fail(field, "\(i) is outside \(range.lowerBound)...\(range.upperBound)") }
        return Int(i)
    }

    func choice<T: RawRepresentable & CaseIterable>(_ v: JSONValue?, _ field: String, _ type: T.Type) throws -> T?
        where T.RawValue == String {
        guard let text = try string(v, field) else { return nil }
        guard let value = T(rawValue: text) else {
            throw fail(field, "\"\(text)\" is not one of: \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }

    mutating func rig(_ root: JSONValue) throws -> RigFile {
        let o = try object(root, "", allowed: ["version", "name", "comment", "trigger", "cameras", "pairingWindow", "fileTimeout",
                                               "busyRetries", "keepOnCamera", "alignment", "staticScenes", "triggerBox", "maxSkew"])
        if let version = try integer(o["version"], "version", range: 1...Int.max), version != RigFile.currentVersion {
            throw fail("version", "version \(version) is not supported (this rigctl reads version \(RigFile.currentVersion))")
        }
        var trigger = TriggerMode.software
        if let t = try string(o["trigger"], "trigger") {
            guard let mode = TriggerMode(rawValue: t) else {
                throw fail("trigger", "\"\(t)\" is not one of: \(TriggerMode.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            trigger = mode
        }
        guard let camerasValue = o["cameras"] else { throw fail("cameras", "missing: the rig needs a shallow and a deep camera") }
        guard case .array(let list) = camerasValue else { throw fail("cameras", "expected an array, found \(camerasValue.typeName)") }
        guard list.count == 2 else { throw fail("cameras", "expected exactly two cameras, found \(list.count)") }
        var cameras: [RigCameraSpec] = []
        for (i, item) in list.enumerated() {
            cameras.append(try camera(item, "cameras[\(i)]"))
        }
        for role in CameraRole.allCases {
            let count = cameras.filter { $0.role == role }.count
            if count != 1 {
                throw fail("cameras", count == 0 ? "no camera has the role \"\(role)\"" : "two cameras have the role \"\(role)\"")
            }
        }
        if let a = cameras[0].port, a == cameras[1].port { throw fail("cameras[1].port", "both cameras use the port \(a)") }
        if let a = cameras[0].serial, a == cameras[1].serial { throw fail("cameras[1].serial", "both cameras have the serial \(a)") }
        if let a = cameras[0].settings.captureTarget, let b = cameras[1].settings.captureTarget, a != b {
            throw fail("cameras[1].settings.captureTarget",
                       "\"\(b.rawValue)\" differs from the shallow camera's \"\(a.rawValue)\": libgphoto2 keeps one capture target per host")
        }
        var keep = false
        if let k = o["keepOnCamera"], k != .null {
            guard case .bool(let b) = k else { throw fail("keepOnCamera", "expected true or false, found \(k.typeName)") }
            keep = b
        }
        var alignment: AlignmentCalibration?
        if let a = o["alignment"], a != .null {
            guard case .object(let section) = a else { throw fail("alignment", "expected an object, found \(a.typeName)") }
            let known = Set(AlignmentCalibration.CodingKeys.allCases.map(\.rawValue)).union(["comment"])
            if let unknown = section.keys.sorted().first(where: { !known.contains($0) }) {
                throw fail("alignment.\(unknown)", "unknown key (expected one of: \(known.sorted().joined(separator: ", ")))")
            }
            do {
                alignment = try JSONDecoder().decode(AlignmentCalibration.self, from: a.data())
            } catch let error as DecodingError {
                throw fail("alignment", error.located)
            }
        }
        var staticScenes = false
        if let v = o["staticScenes"], v != .null {
            guard case .bool(let b) = v else { throw fail("staticScenes", "expected true or false, found \(v.typeName)") }
            staticScenes = b
        }
        var triggerBox: TriggerBoxSettings?
        if let b = o["triggerBox"], b != .null {
            triggerBox = try box(b)
            guard trigger == .triggerBox else {
                throw fail("triggerBox", "a trigger box is described but trigger is \"\(trigger.rawValue)\": set trigger to \"trigger-box\" to fire it")
            }
        } else if trigger == .triggerBox {
            throw fail("triggerBox", "missing: trigger \"trigger-box\" needs the box's device and outputs")
        }
        return RigFile(name: try string(o["name"], "name"), trigger: trigger, cameras: cameras,
                       pairingWindow: try number(o["pairingWindow"], "pairingWindow", range: 0.000_001...3600) ?? 0.5,
                       fileTimeout: try number(o["fileTimeout"], "fileTimeout", range: 0.1...86400) ?? 30,
                       busyRetries: try integer(o["busyRetries"], "busyRetries", range: 0...50) ?? 6,
                       keepOnCamera: keep, alignment: alignment,
                       staticScenes: staticScenes, triggerBox: triggerBox,
                       maxSkew: try number(o["maxSkew"], "maxSkew", range: 0.000_001...3600))
    }

    func box(_ v: JSONValue) throws -> TriggerBoxSettings {
        let o = try object(v, "triggerBox", allowed: ["device", "outputs", "focusLead", "bulb", "comment"])
        guard let device = try string(o["device"], "triggerBox.device") else {
            throw fail("triggerBox.device", "missing: the box's serial port, like /dev/ttyACM0")
        }
        var settings = TriggerBoxSettings(device: device)
        if let outputs = o["outputs"], outputs != .null {
            let so = try object(outputs, "triggerBox.outputs", allowed: ["shallow", "deep"])
            let range = TriggerBoxSettings.outputRange
            settings.shallowOutput = try integer(so["shallow"], "triggerBox.outputs.shallow", range: range) ?? settings.shallowOutput
            settings.deepOutput = try integer(so["deep"], "triggerBox.outputs.deep", range: range) ?? settings.deepOutput
        }
        settings.focusLead = try number(o["focusLead"], "triggerBox.focusLead", range: TriggerBoxSettings.focusLeadRange) ?? 0
        settings.bulbMilliseconds = try integer(o["bulb"], "triggerBox.bulb", range: 0...TriggerBoxCommand.maximumMilliseconds) ?? 0
        return settings
    }

    func camera(_ v: JSONValue, _ field: String) throws -> RigCameraSpec {
        let o = try object(v, field, allowed: ["role", "port", "serial", "model", "settings", "comment"])
        guard let roleText = try string(o["role"], "\(field).role") else { throw fail("\(field).role", "missing (shallow or deep)") }
        guard let role = CameraRole(rawValue: roleText) else { throw fail("\(field).role", "\"\(roleText)\" is not one of: shallow, deep") }
        let port = try string(o["port"], "\(field).port")
        if let port, !port.contains(":") {
            throw fail("\(field).port", "\"\(port)\" is not a libgphoto2 port (like ptpip:192.168.1.10 or usb:001,004)")
        }
        let serial = try string(o["serial"], "\(field).serial")
        guard port != nil || serial != nil else { throw fail(field, "give the camera's port or its serial number") }
        var settings = RoleSettings()
        if let s = o["settings"], s != .null {
            let so = try object(s, "\(field).settings", allowed: ["aperture", "shutter", "iso", "focusDistance", "captureTarget",
                                                                 "imageFormat", "focusMode"])
            settings.aperture = try number(so["aperture"], "\(field).settings.aperture", range: 0.5...256)
            if let t = so["shutter"], t != .null {
                let seconds: Double?
                switch t {
                case .string(let text): seconds = RoleSettings.parseShutter(text)
                default: seconds = t.doubleValue
                }
                guard let seconds, seconds > 0, seconds <= 3600 else {
                    throw fail("\(field).settings.shutter", "expected seconds as a number or a fraction like \"1/250\"")
                }
                settings.shutter = seconds
            }
            settings.iso = try integer(so["iso"], "\(field).settings.iso", range: 1...10_000_000)
            settings.focusDistance = try number(so["focusDistance"], "\(field).settings.focusDistance", range: 0.01...100_000)
            settings.captureTarget = try choice(so["captureTarget"], "\(field).settings.captureTarget", CaptureTarget.self)
            settings.imageFormat = try choice(so["imageFormat"], "\(field).settings.imageFormat", RigImageFormat.self)
            settings.focusMode = try choice(so["focusMode"], "\(field).settings.focusMode", FocusMode.self)
        }
        return RigCameraSpec(role: role, port: port, serial: serial, model: try string(o["model"], "\(field).model"), settings: settings)
    }
}
