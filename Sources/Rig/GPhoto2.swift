import CDescriptorGuard
import CGPhoto2
import CLibraryMessages
import Foundation
import ThreadSupport

/// A libgphoto2 call that failed: its result code, what rigctl was doing, and libgphoto2's own message.
public struct GPhotoError: Error, Equatable, CustomStringConvertible {
    public let code: Int32
    public let operation: String
    /// The last error text libgphoto2 reported through the context, if any.
    public let detail: String
    /// What the socket said when the PTP/IP driver gave up ("connect cmd: Connection refused"), if it said anything.
    public let system: String

    public init(code: Int32, operation: String, detail: String = "", system: String = "") {
        self.code = code
        self.operation = operation
        self.detail = detail
        self.system = system
    }

    /// The camera answered DeviceBusy (PTP 0x2019): worth retrying after a pause.
    public var isBusy: Bool { code == GP_ERROR_CAMERA_BUSY }
    /// The link failed (I/O error or timeout): the camera must be reconnected.
    public var isConnectionLost: Bool { code == GP_ERROR_IO || code == GP_ERROR_TIMEOUT || code == GP_ERROR_IO_READ || code == GP_ERROR_IO_WRITE }
    /// The card has no room for the shot, where the driver says so: libgphoto2's PTP driver does not (it reports
    /// StoreFull as a general error), so `RigCamera.askAfterFailure` asks the camera instead.
    public var isCardFull: Bool { code == GP_ERROR_NO_SPACE }

    public var message: String { String(cString: gp_result_as_string(code)) }

    /// What failed and what to try, in words; libgphoto2's own message and code stay at the end for searches and
    /// support requests.
    public var description: String {
        let said = [detail, system].filter { !$0.isEmpty }.joined(separator: "; ")
        let library = "libgphoto2: \(message) (\(code))" + (said.isEmpty ? "" : "; \(said)")
        guard let advice else { return "\(operation): \(library)" }
        return "\(operation): \(advice) [\(library)]"
    }

    /// A sentence for the failures a person can do something about.
    public var advice: String? {
        let text = (system + " " + detail).lowercased()
        if text.contains("connection refused") {
            return "nothing answers at that address: is the camera on, on this network, with its PTP/IP (Wi-Fi remote) mode enabled, and the address in the rig file right?"
        }
        if text.contains("broken pipe") || text.contains("connection reset") {
            return "the camera closed the connection (it may have gone to sleep, or another program took it); wake it and run the command again"
        }
        if text.contains("no route to host") || text.contains("network is unreachable") || text.contains("host is down") {
            return "the camera's address cannot be reached from this computer: check the network and the address in the rig file"
        }
        switch code {
        case GP_ERROR_TIMEOUT: return "the camera did not answer in time: check that it is awake and not busy with another program"
        case GP_ERROR_CAMERA_BUSY: return "the camera stayed busy: let it finish (writing to the card, focusing) and try again"
        case GP_ERROR_IO_USB_CLAIM: return "another program holds the camera's USB connection (a desktop photo importer?): close it"
        case GP_ERROR_MODEL_NOT_FOUND: return "libgphoto2 does not know this camera model"
        default: return nil
        }
    }
}

/// The calling thread's last perror() line from a library (see CLibraryMessages), taken once.
public enum LibraryMessages {
    public static func take() -> String {
        var buffer = [CChar](repeating: 0, count: 512)
        let length = rigctl_take_library_message(&buffer, Int32(buffer.count))
        guard length > 0 else { return "" }
        return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// libgphoto2 has no locks: camlib loading, the settings file written on the first PTP/IP connect and ptp2's static
/// timeouts are process-wide, and libltdl (which loads the camera and port drivers) keeps unlocked global state.
/// Library loading and freeing, port selection, camera init and camera exit all take this lock; everything else
/// is per camera.
enum GPhotoGlobalLock {
    private static let lock = LockedValue(())

    static func run<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        try lock.withLock { _ throws(E) in try body() }
    }

    /// Runs a call that may end a PTP/IP connection, with descriptor 0 guarded first.
    ///
    /// libgphoto2 2.5.30 closes `params->jpgfd` when it disconnects a PTP/IP camera, and for every non-Fuji
    /// camera that field is 0: each `gp_camera_exit` closes descriptor 0. Giving 0 a new owner afterwards leaves a
    /// window in which another thread's `open()` receives 0 and loses it to the next exit. The guard
    /// (CDescriptorGuard) instead keeps /dev/null on 0 for good and ignores every `close(0)` in the process.
    static func runGuardingDescriptorZero<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        DescriptorZero.guardOnce()
        return try run(body)
    }
}

/// Descriptor 0, made permanent before the first camera connects (see `CDescriptorGuard`).
public enum DescriptorZero {
    private static let guarded: Bool = rigctl_guard_descriptor_zero() == 0

    /// Installs the guard (once per process); false when /dev/null could not be opened on descriptor 0.
    @discardableResult
    public static func guardOnce() -> Bool { guarded }
}

/// A libgphoto2 context that keeps the last error message instead of printing it.
final class GPhotoContext: @unchecked Sendable {
    // Unchecked: `pointer` is libgphoto2's context, used by one camera's calls at a time (GPhotoCamera serialises
    // them); the message its error callback leaves is in a LockedValue.
    let pointer: OpaquePointer
    private let lastError = LockedValue("")

    init() throws {
        guard let context = gp_context_new() else { throw GPhotoError(code: GP_ERROR_NO_MEMORY, operation: "creating a libgphoto2 context") }
        pointer = context
        gp_context_set_error_func(pointer, { _, text, data in
            guard let text, let data else { return }
            let me = Unmanaged<GPhotoContext>.fromOpaque(data).takeUnretainedValue()
            let message = String(cString: text).trimmingCharacters(in: .whitespacesAndNewlines)
            me.lastError.withLock { $0 = message }
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    deinit { gp_context_unref(pointer) }

    /// Runs a libgphoto2 call; a negative result becomes a `GPhotoError` carrying the context's message.
    @discardableResult
    func check(_ operation: @autoclosure () -> String, _ result: Int32) throws -> Int32 {
        if result >= 0 {
            return result
        }
        let detail = lastError.withLock { message in
            defer { message = "" }
            return message
        }
        throw GPhotoError(code: result, operation: operation(), detail: detail, system: LibraryMessages.take())
    }
}

/// The loaded camera drivers and port drivers. Loading them is slow and not thread-safe, so a program loads
/// them once and opens all its cameras through one library.
public final class GPhotoLibrary: @unchecked Sendable {
    private let abilities: OpaquePointer
    private let ports: OpaquePointer
    private let context: GPhotoContext

    public init() throws {
        DescriptorZero.guardOnce()
        // The PTP/IP driver's perror() lines go into libgphoto2's log (--verbose) and into the error rigctl reports,
        // not onto standard error beside it.
        rigctl_route_library_perror()
        // libgphoto2's PTP/IP driver writes with plain send(): a write to a camera that dropped the link (which
        // camera_exit does on a Canon EOS, ending its remote mode) would kill the process with SIGPIPE instead of
        // failing with an I/O error.
        signal(SIGPIPE, SIG_IGN)
        let context = try GPhotoContext()
        self.context = context
        var abilities: OpaquePointer?
        var ports: OpaquePointer?
        try GPhotoGlobalLock.run {
            try context.check("loading camera drivers", gp_abilities_list_new(&abilities))
            try context.check("loading camera drivers", gp_abilities_list_load(abilities, context.pointer))
            try context.check("loading port drivers", gp_port_info_list_new(&ports))
            try context.check("loading port drivers", gp_port_info_list_load(ports))
        }
        guard let abilities, let ports else { throw GPhotoError(code: GP_ERROR_NO_MEMORY, operation: "loading libgphoto2 drivers") }
        self.abilities = abilities
        self.ports = ports
    }

    deinit {
        GPhotoGlobalLock.run {
            gp_abilities_list_free(abilities)
            gp_port_info_list_free(ports)
        }
    }

    /// libgphoto2's version string, for reports.
    public static var version: String {
        guard let list = gp_library_version(GP_VERSION_SHORT), let first = list.pointee else { return "unknown" }
        return String(cString: first)
    }

    /// Cameras libgphoto2 finds on USB and serial ports (PTP/IP cameras are not listed: open them by port).
    public func detect() throws -> [(model: String, port: String)] {
        var list: OpaquePointer?
        try context.check("listing cameras", gp_list_new(&list))
        defer { gp_list_unref(list) }
        try GPhotoGlobalLock.run {
            _ = try context.check("detecting cameras", gp_camera_autodetect(list, context.pointer))
        }
        var found: [(String, String)] = []
        for i in 0..<max(0, gp_list_count(list)) {
            var name: UnsafePointer<CChar>?
            var value: UnsafePointer<CChar>?
            gp_list_get_name(list, i, &name)
            gp_list_get_value(list, i, &value)
            found.append((name.map { String(cString: $0) } ?? "", value.map { String(cString: $0) } ?? ""))
        }
        return found
    }

    /// Connects to the camera on `port` (for example `ptpip:127.0.0.1:15740:15741` or `usb:001,004`) with the
    /// driver for `model`; without a model, the driver libgphoto2 associates with the port is used ("PTP/IP
    /// Camera" for ptpip ports).
    public func openCamera(port: String, model: String? = nil) throws -> GPhotoCamera {
        try GPhotoCamera(library: self, port: port, model: model ?? (port.hasPrefix("ptpip:") ? "PTP/IP Camera" : nil))
    }

    fileprivate func configure(_ camera: UnsafeMutablePointer<Camera>, port: String, model: String?, context: GPhotoContext) throws {
        if let model {
            let index = gp_abilities_list_lookup_model(abilities, model)
            try context.check("looking up the driver for \"\(model)\"", index)
            var a = CameraAbilities()
            try context.check("reading the driver for \"\(model)\"", gp_abilities_list_get_abilities(abilities, index, &a))
            try context.check("selecting the driver for \"\(model)\"", gp_camera_set_abilities(camera, a))
        }
        let index = gp_port_info_list_lookup_path(ports, port)
        try context.check("looking up port \(port)", index)
        var info: GPPortInfo?
        try context.check("reading port \(port)", gp_port_info_list_get_info(ports, index, &info))
        try context.check("selecting port \(port)", gp_camera_set_port_info(camera, info))
    }
}

/// A file on a camera's card, as libgphoto2 names it.
public struct CameraFilePath: Sendable, Equatable, Codable, CustomStringConvertible {
    public var folder: String
    public var name: String

    public init(folder: String, name: String) {
        self.folder = folder
        self.name = name
    }

    public var description: String { folder.hasSuffix("/") ? folder + name : folder + "/" + name }
}

/// What `waitForEvent` reports.
public enum CameraEvent: Sendable, Equatable {
    case timeout
    case fileAdded(CameraFilePath)
    case folderAdded(CameraFilePath)
    case captureComplete
    case fileChanged(CameraFilePath)
    case other(String)
}

/// One configuration entry (a libgphoto2 widget), read into a value.
public struct CameraSetting: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable { case text, range, toggle, radio, menu, button, date }
    /// Full path, for example `/main/capturesettings/f-number`.
    public var path: String
    public var name: String
    public var label: String
    public var kind: Kind
    public var value: String
    public var choices: [String]
    public var readOnly: Bool
}

/// One connected camera. It owns its libgphoto2 camera and context and frees them on `close()` or deinit.
///
/// libgphoto2 allows one thread per camera at a time: calls on one `GPhotoCamera` are serialised by its own
/// lock, and different cameras can be used from different threads.
public final class GPhotoCamera: Sendable {
    public let port: String
    /// The libgphoto2 camera, reachable only under its lock (nil once closed).
    private let camera: LockedValue<SendablePointer<Camera>?>
    private let context: GPhotoContext
    private let library: GPhotoLibrary

    fileprivate init(library: GPhotoLibrary, port: String, model: String?) throws {
        self.library = library
        self.port = port
        let context = try GPhotoContext()
        self.context = context
        var camera: UnsafeMutablePointer<Camera>?
        try context.check("creating a camera", gp_camera_new(&camera))
        guard let camera else { throw GPhotoError(code: GP_ERROR_NO_MEMORY, operation: "creating a camera") }
        do {
            // Selecting the port loads its I/O library through libltdl (gp_port_set_info: lt_dlinit, lt_dlopenext),
            // whose handle list and init count are process-wide and unlocked: two cameras connecting at once on
            // different threads crashed inside libltdl. So the port is chosen under the same lock as the init.
            try GPhotoGlobalLock.runGuardingDescriptorZero {
                try library.configure(camera, port: port, model: model, context: context)
                _ = try context.check("connecting to the camera on \(port)", gp_camera_init(camera, context.pointer))
            }
        } catch {
            GPhotoGlobalLock.runGuardingDescriptorZero { _ = gp_camera_unref(camera) }
            throw error
        }
        self.camera = LockedValue(SendablePointer(camera))
    }

    deinit { close() }

    /// Ends the session (CloseSession) and frees the camera. Safe to call twice.
    public func close() {
        camera.withLock { handle in
            guard let camera = handle?.pointer else { return }
            GPhotoGlobalLock.runGuardingDescriptorZero {
                _ = gp_camera_exit(camera, context.pointer)
                _ = gp_camera_unref(camera)
            }
            handle = nil
        }
    }

    private func withCamera<T>(_ operation: String, _ body: (UnsafeMutablePointer<Camera>) throws -> T) throws -> T {
        try camera.withLock { handle in
            guard let camera = handle?.pointer else {
                throw GPhotoError(code: GP_ERROR_BAD_PARAMETERS, operation: "\(operation): the camera is closed")
            }
            return try body(camera)
        }
    }

    /// libgphoto2's text summary (manufacturer, model, serial number, storage, properties).
    public func summary() throws -> String {
        try withCamera("reading the summary") { camera in
            let text = UnsafeMutablePointer<CameraText>.allocate(capacity: 1)
            UnsafeMutableRawPointer(text).initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<CameraText>.size)
            defer { text.deallocate() }
            try context.check("reading the summary", gp_camera_get_summary(camera, text, context.pointer))
            // CameraText is one 32 KiB char array, too large for Swift to import as a tuple.
            let raw = UnsafeRawBufferPointer(start: UnsafeRawPointer(text), count: MemoryLayout<CameraText>.size)
            return String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// Every configuration entry (leaves of the widget tree).
    public func settings() throws -> [CameraSetting] {
        try withCamera("reading the configuration") { camera in
            var root: OpaquePointer?
            try context.check("reading the configuration", gp_camera_get_config(camera, &root, context.pointer))
            defer { gp_widget_free(root) }
            var out: [CameraSetting] = []
            Self.collect(root, path: "", into: &out)
            return out
        }
    }

    /// One configuration entry by name (for example `f-number`, `shutterspeed`, `iso`, `focusdistance`).
    public func setting(_ name: String) throws -> CameraSetting {
        try withCamera("reading \(name)") { camera in
            var widget: OpaquePointer?
            try context.check("reading \(name)", gp_camera_get_single_config(camera, name, &widget, context.pointer))
            defer { gp_widget_free(widget) }
            guard let setting = Self.read(widget, path: "/" + name) else {
                throw GPhotoError(code: GP_ERROR_NOT_SUPPORTED, operation: "reading \(name): not a value")
            }
            return setting
        }
    }

    /// Sets a configuration entry from text: a choice for radio and menu entries, a number for ranges, 0/1 for
    /// toggles.
    public func set(_ name: String, to value: String) throws {
        try withCamera("setting \(name) to \(value)") { camera in
            let operation = "setting \(name) to \(value)"
            var widget: OpaquePointer?
            try context.check(operation, gp_camera_get_single_config(camera, name, &widget, context.pointer))
            defer { gp_widget_free(widget) }
            var type = GP_WIDGET_TEXT
            try context.check(operation, gp_widget_get_type(widget, &type))
            switch type {
            case GP_WIDGET_RANGE:
                guard var number = Float(value) else {
                    throw GPhotoError(code: GP_ERROR_BAD_PARAMETERS, operation: operation, detail: "a number is needed")
                }
                try context.check(operation, gp_widget_set_value(widget, &number))
            case GP_WIDGET_TOGGLE, GP_WIDGET_DATE:
                guard var number = Int32(value) else {
                    throw GPhotoError(code: GP_ERROR_BAD_PARAMETERS, operation: operation, detail: "an integer is needed")
                }
                try context.check(operation, gp_widget_set_value(widget, &number))
            default:
                try value.withCString { text in
                    _ = try context.check(operation, gp_widget_set_value(widget, text))
                }
            }
            try context.check(operation, gp_camera_set_single_config(camera, name, widget, context.pointer))
        }
    }

    /// Starts a capture and returns as soon as the camera accepted it; the file arrives later as an event.
    public func triggerCapture() throws {
        try withCamera("triggering") { camera in
            _ = try context.check("triggering", gp_camera_trigger_capture(camera, context.pointer))
        }
    }

    /// Captures and waits for the file, as `gphoto2 --capture-image` does.
    public func captureImage() throws -> CameraFilePath {
        try withCamera("capturing") { camera in
            var path = CameraFilePath_C()
            try context.check("capturing", gp_camera_capture(camera, GP_CAPTURE_IMAGE, &path, context.pointer))
            return Self.path(path)
        }
    }

    /// Polls for one event. Over PTP/IP libgphoto2 checks once and returns at once whatever `timeoutMs` says,
    /// so callers loop with their own deadline.
    public func waitForEvent(timeoutMs: Int32 = 10) throws -> CameraEvent {
        try withCamera("waiting for an event") { camera in
            var type = GP_EVENT_UNKNOWN
            var data: UnsafeMutableRawPointer?
            try context.check("waiting for an event", gp_camera_wait_for_event(camera, timeoutMs, &type, &data, context.pointer))
            defer { free(data) }
            switch type {
            case GP_EVENT_TIMEOUT: return .timeout
            case GP_EVENT_CAPTURE_COMPLETE: return .captureComplete
            case GP_EVENT_FILE_ADDED, GP_EVENT_FOLDER_ADDED, GP_EVENT_FILE_CHANGED:
                guard let data else { return .other("event without a path") }
                let path = Self.path(data.assumingMemoryBound(to: CameraFilePath_C.self).pointee)
                if type == GP_EVENT_FILE_ADDED { return .fileAdded(path) }
                if type == GP_EVENT_FOLDER_ADDED { return .folderAdded(path) }
                return .fileChanged(path)
            default:
                guard let data else { return .other("") }
                return .other(String(cString: data.assumingMemoryBound(to: CChar.self)))
            }
        }
    }

    /// Downloads a whole file into memory.
    public func download(_ path: CameraFilePath) throws -> Data {
        try withCamera("downloading \(path)") { camera in
            var file: OpaquePointer?
            try context.check("downloading \(path)", gp_file_new(&file))
            defer { gp_file_unref(file) }
            try context.check("downloading \(path)",
                              gp_camera_file_get(camera, path.folder, path.name, GP_FILE_TYPE_NORMAL, file, context.pointer))
            var bytes: UnsafePointer<CChar>?
            var size: UInt = 0
            try context.check("reading downloaded \(path)", gp_file_get_data_and_size(file, &bytes, &size))
            guard let bytes else { return Data() }
            return Data(bytes: bytes, count: Int(size))
        }
    }

    public func delete(_ path: CameraFilePath) throws {
        try withCamera("deleting \(path)") { camera in
            _ = try context.check("deleting \(path)", gp_camera_file_delete(camera, path.folder, path.name, context.pointer))
        }
    }

    /// One live-view frame (a JPEG on the bodies rigctl knows), as `gphoto2 --capture-preview` fetches it.
    public func capturePreview() throws -> Data {
        try withCamera("reading a live-view frame") { camera in
            var file: OpaquePointer?
            try context.check("reading a live-view frame", gp_file_new(&file))
            defer { gp_file_unref(file) }
            try context.check("reading a live-view frame", gp_camera_capture_preview(camera, file, context.pointer))
            var bytes: UnsafePointer<CChar>?
            var size: UInt = 0
            try context.check("reading a live-view frame", gp_file_get_data_and_size(file, &bytes, &size))
            guard let bytes else { return Data() }
            return Data(bytes: bytes, count: Int(size))
        }
    }

    /// Free space per storage: bytes, and images as the camera estimates them (nil where it gives none).
    public func storageInfo() throws -> [(freeBytes: UInt64?, freeImages: UInt64?, capacityBytes: UInt64?)] {
        try withCamera("reading the storage information") { camera in
            var list: UnsafeMutablePointer<CameraStorageInformation>?
            var count: Int32 = 0
            try context.check("reading the storage information", gp_camera_get_storageinfo(camera, &list, &count, context.pointer))
            defer { free(list) }
            guard let list else { return [] }
            return (0..<Int(max(0, count))).map { i in
                let s = list[i]
                func has(_ field: CameraStorageInfoFields) -> Bool { s.fields.rawValue & field.rawValue != 0 }
                return (has(GP_STORAGEINFO_FREESPACEKBYTES) ? s.freekbytes * 1024 : nil,
                        has(GP_STORAGEINFO_FREESPACEIMAGES) ? s.freeimages : nil,
                        has(GP_STORAGEINFO_MAXCAPACITY) ? s.capacitykbytes * 1024 : nil)
            }
        }
    }

    /// Files in a folder of the camera's card.
    public func listFiles(in folder: String) throws -> [String] {
        try withCamera("listing \(folder)") { camera in
            var list: OpaquePointer?
            try context.check("listing \(folder)", gp_list_new(&list))
            defer { gp_list_unref(list) }
            try context.check("listing \(folder)", gp_camera_folder_list_files(camera, folder, list, context.pointer))
            return (0..<max(0, gp_list_count(list))).map { i in
                var name: UnsafePointer<CChar>?
                gp_list_get_name(list, i, &name)
                return name.map { String(cString: $0) } ?? ""
            }
        }
    }

    private static func path(_ p: CameraFilePath_C) -> CameraFilePath {
        var p = p
        let folder = withUnsafeBytes(of: &p.folder) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let name = withUnsafeBytes(of: &p.name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return CameraFilePath(folder: folder, name: name)
    }

    private static func collect(_ widget: OpaquePointer?, path: String, into out: inout [CameraSetting]) {
        guard let widget else { return }
        var name: UnsafePointer<CChar>?
        gp_widget_get_name(widget, &name)
        let here = path + "/" + (name.map { String(cString: $0) } ?? "")
        var type = GP_WIDGET_TEXT
        gp_widget_get_type(widget, &type)
        if type == GP_WIDGET_WINDOW || type == GP_WIDGET_SECTION {
            for i in 0..<max(0, gp_widget_count_children(widget)) {
                var child: OpaquePointer?
                if gp_widget_get_child(widget, i, &child) >= 0 {
                    collect(child, path: type == GP_WIDGET_WINDOW ? "" : here, into: &out)
                }
            }
            if type == GP_WIDGET_WINDOW && path.isEmpty { return }
            return
        }
        if let setting = read(widget, path: here) { out.append(setting) }
    }

    private static func read(_ widget: OpaquePointer?, path: String) -> CameraSetting? {
        guard let widget else { return nil }
        var name: UnsafePointer<CChar>?
        var label: UnsafePointer<CChar>?
        var type = GP_WIDGET_TEXT
        var readOnly: Int32 = 0
        gp_widget_get_name(widget, &name)
        gp_widget_get_label(widget, &label)
        gp_widget_get_type(widget, &type)
        gp_widget_get_readonly(widget, &readOnly)
        var value = ""
        var kind = CameraSetting.Kind.text
        switch type {
        case GP_WIDGET_TEXT, GP_WIDGET_RADIO, GP_WIDGET_MENU:
            kind = type == GP_WIDGET_TEXT ? .text : (type == GP_WIDGET_RADIO ? .radio : .menu)
            var text: UnsafePointer<CChar>?
            if gp_widget_get_value(widget, &text) >= 0, let text { value = String(cString: text) }
        case GP_WIDGET_RANGE:
            kind = .range
            var number: Float = 0
            if gp_widget_get_value(widget, &number) >= 0 { value = String(format: "%g", number) }
        case GP_WIDGET_TOGGLE, GP_WIDGET_DATE:
            kind = type == GP_WIDGET_TOGGLE ? .toggle : .date
            var number: Int32 = 0
            if gp_widget_get_value(widget, &number) >= 0 { value = String(number) }
        case GP_WIDGET_BUTTON:
            kind = .button
        default:
            return nil
        }
        var choices: [String] = []
        if type == GP_WIDGET_RADIO || type == GP_WIDGET_MENU {
            for i in 0..<max(0, gp_widget_count_choices(widget)) {
                var choice: UnsafePointer<CChar>?
                if gp_widget_get_choice(widget, i, &choice) >= 0, let choice { choices.append(String(cString: choice)) }
            }
        }
        return CameraSetting(path: path, name: name.map { String(cString: $0) } ?? "", label: label.map { String(cString: $0) } ?? "",
                             kind: kind, value: value, choices: choices, readOnly: readOnly != 0)
    }
}

typealias CameraFilePath_C = CGPhoto2.CameraFilePath
