import Foundation
import PairVocabulary

/// A camera found on a port, as `rig detect` lists it and `rig init` writes it into a rig file.
public struct DetectedCamera: Sendable, Equatable, Codable {
    public var port: String
    /// The libgphoto2 driver to open it with ("Canon EOS (WLAN)" for a Canon EOS body over PTP/IP).
    public var driver: String
    public var vendor: CameraVendor
    public var manufacturer: String?
    public var model: String?
    public var serialNumber: String?
    public var battery: String?
    public var aperture: String?
    public var shutter: String?
    public var iso: String?

    /// The camera's current exposure as rig-file settings (what `rig init` starts from).
    public var settings: RoleSettings {
        RoleSettings(aperture: aperture.flatMap(SettingChoice.fNumber), shutter: shutter.flatMap(SettingChoice.seconds),
                     iso: iso.flatMap { Int($0) })
    }
}

/// A port that was probed but could not be read.
public struct ProbeFailure: Sendable, Equatable, Codable {
    public var port: String
    public var reason: String
}

extension GPhotoLibrary {
    /// Every camera libgphoto2 detects (USB, serial) plus the given ports (PTP/IP cameras are never detected,
    /// only opened), each opened in turn, read and closed.
    public func probe(ports extra: [String]) throws -> (cameras: [DetectedCamera], failures: [ProbeFailure]) {
        var candidates = try detect()
        for port in extra where !candidates.contains(where: { $0.port == port }) {
            candidates.append((model: port.hasPrefix("ptpip:") ? "PTP/IP Camera" : "", port: port))
        }
        var cameras: [DetectedCamera] = []
        var failures: [ProbeFailure] = []
        for c in candidates {
            do {
                let camera = try openCamera(port: c.port, model: c.model.isEmpty ? nil : c.model)
                defer { camera.close() }
                let entries = try camera.settings()
                func value(_ name: String) -> String? { entries.first { $0.name == name }?.value }
                let vendor = CameraVendor.detect(entries: Set(entries.map(\.name)), manufacturer: value("manufacturer"))
                let table = VendorTable.of(vendor)
                func value(_ s: RigSetting) -> String? { table.entry(s).flatMap { value($0.entry) } }
                let driver = c.port.hasPrefix("ptpip:") ? vendor.ptpipModel : c.model
                cameras.append(DetectedCamera(port: c.port, driver: driver, vendor: vendor, manufacturer: value("manufacturer"),
                                              model: value("cameramodel"), serialNumber: value("serialnumber"),
                                              battery: value("batterylevel"), aperture: value(.aperture), shutter: value(.shutter),
                                              iso: value(.iso)))
            } catch {
                failures.append(ProbeFailure(port: c.port, reason: "\(error)"))
            }
        }
        return (cameras, failures)
    }
}

/// Why `rig init` could not pick a camera.
public struct CameraSelectionError: Error, Equatable, CustomStringConvertible {
    public var role: CameraRole
    public var wanted: String
    public var found: [DetectedCamera]

    public var description: String {
        let list = found.isEmpty ? "none" : found.map { "\($0.port) (\($0.model ?? "?"), serial \($0.serialNumber ?? "?"))" }
            .joined(separator: ", ")
        return "no camera matches \(wanted) for the \(role) role; cameras found: \(list)"
    }
}

extension RigFile {
    /// A starter rig file from two detected cameras, chosen by port or serial number: their ports, serials,
    /// drivers and current exposure settings.
    public static func starter(shallow: String, deep: String, from cameras: [DetectedCamera], name: String? = nil) throws -> RigFile {
        func pick(_ key: String, _ role: CameraRole) throws -> DetectedCamera {
            guard let c = cameras.first(where: { $0.port == key || $0.serialNumber == key }) else {
                throw CameraSelectionError(role: role, wanted: key, found: cameras)
            }
            return c
        }
        let s = try pick(shallow, .shallow), d = try pick(deep, .deep)
        guard s.port != d.port else { throw CameraSelectionError(role: .deep, wanted: "\(deep) (a second camera)", found: cameras) }
        func spec(_ c: DetectedCamera, _ role: CameraRole) -> RigCameraSpec {
            var settings = c.settings
            settings.focusMode = .manual
            return RigCameraSpec(role: role, port: c.port, serial: c.serialNumber, model: c.driver, settings: settings)
        }
        return RigFile(name: name, cameras: [spec(s, .shallow), spec(d, .deep)])
    }
}
