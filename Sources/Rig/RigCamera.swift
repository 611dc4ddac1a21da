import Foundation
import PairVocabulary
import ThreadSupport
import Logging

/// The values of a camera that matter to a rig, as libgphoto2 presents them.
public struct CameraStatus: Sendable, Equatable, Codable {
    public var role: CameraRole
    public var port: String
    public var manufacturer: String?
    public var model: String?
    public var serialNumber: String?
    /// The libgphoto2 code path driving the camera; decides the entry names below.
    public var vendor: CameraVendor = .generic
    public var aperture: String?
    public var shutter: String?
    public var iso: String?
    public var focusDistance: String?
    public var battery: String?
    public var captureTarget: String?
    public var imageFormat: String?
    public var focusMode: String?
    /// The mode dial (`expprogram`; Canon EOS `autoexposuremode`) and drive mode (`capturemode`; Canon EOS
    /// `drivemode`), which a wired release depends on and rigctl does not set.
    public var exposureProgram: String? = nil
    public var driveMode: String? = nil
}

/// One camera of a rig: its spec from the rig file and its libgphoto2 connection.
public final class RigCamera: Sendable {
    public let spec: RigCameraSpec
    public let port: String
    private let library: GPhotoLibrary
    /// The connection and what was read from it; `reconnect()` swaps the camera while the rig's other threads
    /// may be reading it, so it lives in one locked box.
    private let state: LockedValue<Connection>

    private struct Connection {
        var camera: GPhotoCamera
        var vendor: CameraVendor
        var filesPerShot: Int
    }

    /// The current libgphoto2 connection (a new one after `reconnect()`).
    var camera: GPhotoCamera { state.withLock { $0.camera } }
    /// Which libgphoto2 vendor code drives the camera, told from its entries when it was connected.
    public var vendor: CameraVendor { state.withLock { $0.vendor } }
    /// Files one shot produces: 2 when the camera records RAW+JPEG (read at connect and after applying settings).
    public internal(set) var filesPerShot: Int {
        get { state.withLock { $0.filesPerShot } }
        set { state.withLock { $0.filesPerShot = newValue } }
    }

    /// Bytes of the latest shot downloaded this session (all its files): the current file size, from which the
    /// free space on the card is turned into shots.
    private let latestShot = LockedValue<UInt64?>(nil)
    public internal(set) var lastShotBytes: UInt64? {
        get { latestShot.value }
        set { latestShot.withLock { $0 = newValue } }
    }

    public var role: CameraRole { spec.role }
    /// "deep camera (ptpip:127.0.0.1:15742:15743)".
    public var label: String { "\(spec.role) camera (\(port))" }

    /// Connects by port (checking the serial number when the rig file gives one) or finds the camera by serial
    /// number among the cameras libgphoto2 detects.
    public init(spec: RigCameraSpec, library: GPhotoLibrary) throws {
        self.spec = spec
        self.library = library
        let camera: GPhotoCamera
        if let port = spec.port {
            self.port = port
            do {
                camera = try library.openCamera(port: port, model: spec.model)
            } catch {
                throw RigError.camera(Self.failure(spec.role, spec.label, .connecting, error))
            }
            if let expected = spec.serial {
                let found = (try? camera.setting("serialnumber").value) ?? ""
                if found != expected {
                    camera.close()
                    let reason = found.isEmpty
                        ? "the camera on this port reports no serial number to check against \(expected); leave serial out of the rig file"
                        : "the camera on this port has serial number \(found), the rig file expects \(expected)"
                    throw RigError.camera(CameraFailure(role: spec.role, camera: spec.label, stage: .connecting, reason: reason))
                }
            }
        } else {
            guard let serial = spec.serial else {
                throw RigError.camera(CameraFailure(role: spec.role, camera: spec.label, stage: .connecting, reason: "neither port nor serial number given"))
            }
            let detected: [(model: String, port: String)]
            do {
                detected = try library.detect()
            } catch {
                throw RigError.camera(Self.failure(spec.role, spec.label, .connecting, error))
            }
            var match: (GPhotoCamera, String)?
            for candidate in detected {
                guard let c = try? library.openCamera(port: candidate.port, model: spec.model ?? candidate.model) else { continue }
                if (try? c.setting("serialnumber").value) == serial {
                    match = (c, candidate.port)
                    break
                }
                c.close()
            }
            guard let (c, port) = match else {
                throw RigError.camera(CameraFailure(role: spec.role, camera: spec.label, stage: .connecting,
                                                    reason: "no camera with serial number \(serial) among the \(detected.count) detected"))
            }
            camera = c
            self.port = port
        }
        do {
            let entries = try camera.settings()
            let vendor = CameraVendor.detect(entries: Set(entries.map(\.name)),
                                             manufacturer: entries.first { $0.name == "manufacturer" }?.value)
            state = LockedValue(Connection(camera: camera, vendor: vendor,
                                           filesPerShot: Self.filesPerShot(vendor: vendor, entries: entries)))
        } catch {
            camera.close()
            throw RigError.camera(Self.failure(spec.role, spec.label, .reading, error))
        }
    }

    /// Drops the connection and opens it again (after a dropped link).
    public func reconnect() throws {
        rigLog.notice("reconnecting", metadata: ["camera": "\(label)"])
        try state.withLock { (connection: inout Connection) throws in
            connection.camera.close()
            do {
                connection.camera = try library.openCamera(port: port, model: spec.model)
            } catch {
                throw RigError.camera(Self.failure(spec.role, label, .connecting, error))
            }
        }
    }

    public func close() { camera.close() }

    static func failure(_ role: CameraRole, _ label: String, _ stage: CaptureStage, _ error: Error) -> CameraFailure {
        if let g = error as? GPhotoError {
            return CameraFailure(role: role, camera: label, stage: stage, reason: g.description, code: g.code)
        }
        if let r = error as? RigError, let f = r.failures.first { return f }
        return CameraFailure(role: role, camera: label, stage: stage, reason: "\(error)")
    }

    func failure(_ stage: CaptureStage, _ error: Error) -> CameraFailure { Self.failure(role, label, stage, error) }

    /// libgphoto2's summary text.
    public func summary() throws -> String {
        do { return try camera.summary() } catch { throw RigError.camera(failure(.reading, error)) }
    }

    /// Every configuration entry.
    public func allSettings() throws -> [CameraSetting] {
        do { return try camera.settings() } catch { throw RigError.camera(failure(.reading, error)) }
    }

    /// The settings a rig cares about.
    public func status() throws -> CameraStatus {
        let all = try allSettings()
        let table = VendorTable.of(vendor)
        func value(_ name: String) -> String? { all.first { $0.name == name }?.value }
        func value(_ setting: RigSetting) -> String? { table.entry(setting).flatMap { value($0.entry) } }
        return CameraStatus(role: role, port: port, manufacturer: value("manufacturer"), model: value("cameramodel"),
                            serialNumber: value("serialnumber"), vendor: vendor, aperture: value(.aperture),
                            shutter: value(.shutter), iso: value(.iso), focusDistance: value(.focusDistance),
                            battery: value("batterylevel"), captureTarget: value(.captureTarget),
                            imageFormat: value(.imageFormat), focusMode: value(.focusMode),
                            exposureProgram: value(vendor == .canon ? "autoexposuremode" : "expprogram"),
                            driveMode: value(vendor == .canon ? "drivemode" : "capturemode"))
    }

    /// The full image size the camera records, from its `imagesize` entry ("8256x5504": PTP ImageSize, offered by
    /// Nikon and many other bodies; a Canon EOS has none through libgphoto2); nil where it gives none.
    public func imageSize() -> (width: Int, height: Int)? {
        guard let value = try? camera.setting("imagesize").value else { return nil }
        return Self.parseImageSize(value)
    }

    /// "8256x5504", "8256 x 5504" -> (8256, 5504); nil for anything else ("Large", "L").
    public static func parseImageSize(_ text: String) -> (width: Int, height: Int)? {
        let parts = text.lowercased().split(separator: "x").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]), w > 0, h > 0 else { return nil }
        return (w, h)
    }

    /// Sets one configuration entry by name.
    public func set(_ name: String, to value: String) throws {
        do { try camera.set(name, to: value) } catch { throw RigError.camera(failure(.configuring, error)) }
    }

    /// Reads one configuration entry by name.
    public func setting(_ name: String) throws -> CameraSetting {
        do { return try camera.setting(name) } catch { throw RigError.camera(failure(.reading, error)) }
    }

    /// Reads and discards pending events, so that a pair starts from a quiet camera.
    func drainEvents() throws {
        for _ in 0..<64 {
            if try camera.waitForEvent(timeoutMs: 1) == .timeout { return }
        }
    }

    /// Triggers, retrying DeviceBusy with doubling pauses. Returns the host times around the accepted trigger.
    func trigger(busyRetries: Int) throws -> (start: Date, end: Date, retries: Int) {
        var retries = 0
        var pause = 0.05
        while true {
            let start = Date()
            do {
                try camera.triggerCapture()
                return (start, Date(), retries)
            } catch let error as GPhotoError where error.isBusy && retries < busyRetries {
                retries += 1
                rigLog.notice("camera busy, retrying", metadata: ["camera": "\(label)", "retry": "\(retries)",
                                                                   "pause": "\(pause)"])
                Thread.sleep(forTimeInterval: pause)
                pause = min(pause * 2, 1)
            } catch let error as GPhotoError where error.isBusy {
                throw CameraFailure(role: role, camera: label, stage: .triggering,
                                    reason: "still busy after \(retries) retries (\(error))", code: error.code)
            } catch {
                throw failure(.triggering, error)
            }
        }
    }

    /// Waits for every file of one shot: one, or two when the camera records RAW+JPEG. The second file gets
    /// a short grace after the first (bodies announce the pair together), so a camera set to RAW+JPEG behind the
    /// rig's back is not left with an orphan file on its card.
    func waitForShot(until deadline: Date, waitedFrom start: Date) throws -> [(path: CameraFilePath, arrival: Date)] {
        var files = [try waitForFile(until: deadline, waitedFrom: start)]
        while files.count < filesPerShot {
            let more = max(deadline, Date().addingTimeInterval(5))
            files.append(try waitForFile(until: more, waitedFrom: start))
        }
        return files
    }

    /// Polls until the camera announces a new file or the deadline passes. libgphoto2 returns from each poll at
    /// once over PTP/IP, so the loop sleeps briefly between polls.
    func waitForFile(until deadline: Date, waitedFrom start: Date) throws -> (path: CameraFilePath, arrival: Date) {
        while true {
            let event: CameraEvent
            do {
                event = try camera.waitForEvent(timeoutMs: 5)
            } catch {
                throw failure(.waitingForFile, error)
            }
            if case .fileAdded(let path) = event { return (path, Date()) }
            if event == .timeout {
                if Date() >= deadline {
                    throw CameraFailure(role: role, camera: label, stage: .waitingForFile,
                                        reason: String(format: "no file announced within %.1f s", deadline.timeIntervalSince(start)))
                }
                Thread.sleep(forTimeInterval: 0.002)
            }
        }
    }

    func download(_ path: CameraFilePath, delete: Bool) throws -> Data {
        let data: Data
        do { data = try camera.download(path) } catch { throw failure(.downloading, error) }
        // libgphoto2 puts a capture it fetched from the camera's RAM (Canon EOS and Nikon "sdram" target) in its
        // own root folder: it is already gone from the camera, and there is nothing to delete.
        if delete && !Self.isHeldByLibgphoto2(path) {
            do { try camera.delete(path) } catch { throw failure(.deleting, error) }
        }
        return data
    }
}

extension RigCamera {
    /// 2 when the vendor's image-format entry names RAW and a JPEG ("RAW + Large Fine JPEG", "NEF+Fine").
    static func filesPerShot(vendor: CameraVendor, entries: [CameraSetting]) -> Int {
        guard let name = VendorTable.of(vendor).entry(.imageFormat)?.entry,
              let value = entries.first(where: { $0.name == name })?.value.uppercased() else { return 1 }
        return (value.hasPrefix("RAW") || value.hasPrefix("NEF")) && value.contains("+") ? 2 : 1
    }

    /// True for a file libgphoto2 downloaded during the event wait and keeps in memory (`/capt0000.jpg`).
    static func isHeldByLibgphoto2(_ path: CameraFilePath) -> Bool { path.folder == "/" || path.folder.isEmpty }
}

/// Busy retries, reconnects and discarded files: what a rig operator wants to see when a session goes wrong.
let rigLog = Logger(label: "rigctl.rig")
