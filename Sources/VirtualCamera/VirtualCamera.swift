import Foundation
import Logging
import Imaging

/// A camera on the loopback interface that speaks PTP/IP the way libgphoto2's generic "PTP/IP Camera" driver
/// expects: the init handshake on two channels, operations with data phases both ways, and events.
///
/// Each capture renders a new frame of the scene for the camera's current aperture, shutter, ISO and focus, so a
/// rig of two virtual cameras behaves like the real beam-splitter rig it stands in for. One host session at a
/// time; when it ends the camera waits for the next. Faults can be injected while it runs.
public final class VirtualCamera: @unchecked Sendable {
    public let configuration: VirtualCameraConfiguration
    public let scene: Scene
    public var commandPort: UInt16 { commandListener.port }
    public var eventPort: UInt16 { eventListener.port }
    /// The libgphoto2 port string for this camera.
    public var portPath: String { "ptpip:127.0.0.1:\(commandPort):\(eventPort)" }

    private let commandListener: TCPListener
    private let eventListener: TCPListener
    private let renderer: FrameRenderer
    private let lock = NSLock()
    private var stopped = false
    private var serverThread: Thread?
    private let serverDone = DispatchSemaphore(value: 0)
    private var workerThreads = 0
    private let workersIdle = NSCondition()

    // State below is guarded by `lock`.
    private var settings: ExposureSettings
    private var dateOffset: TimeInterval = 0
    private var sessionOpen = false
    private var commandConnection: TCPConnection?
    private var eventConnection: TCPConnection?
    private var objects: [UInt32: StoredObject] = [:]
    private var nextHandle: UInt32 = 3
    private var fileCounter = 0
    private var capturing = false
    private var busyReplies = 0
    private var dropOnNextCapture = false
    private var bytesPerSecond: Int?
    private var suppressObjectAdded = false
    private var log: [VirtualCaptureRecord] = []
    private var sessions = 0

    static let storageID: UInt32 = 0x0001_0001
    static let dcimHandle: UInt32 = 1
    static let folderHandle: UInt32 = 2

    private struct StoredObject {
        var handle: UInt32
        var parent: UInt32
        var format: UInt16
        var name: String
        var data: [UInt8]
        var captureDate: Date
        var width: Int
        var height: Int
    }

    /// Binds both channels (free ports when the configuration says 0). Call `start()` to serve.
    public init(configuration: VirtualCameraConfiguration, scene: Scene) throws {
        try configuration.validate()
        self.configuration = configuration
        self.scene = scene
        do {
            commandListener = try TCPListener(port: configuration.commandPort)
        } catch {
            throw VirtualCameraError.cannotListen(camera: configuration.name, reason: "\(error)")
        }
        do {
            eventListener = try TCPListener(port: configuration.eventPort)
        } catch {
            commandListener.close()
            throw VirtualCameraError.cannotListen(camera: configuration.name, reason: "\(error)")
        }
        renderer = FrameRenderer(character: configuration.character, width: configuration.width, height: configuration.height)
        settings = configuration.settings
        let now = Date()
        objects[Self.dcimHandle] = StoredObject(handle: Self.dcimHandle, parent: 0, format: PTPFormat.association,
                                                name: "DCIM", data: [], captureDate: now, width: 0, height: 0)
        objects[Self.folderHandle] = StoredObject(handle: Self.folderHandle, parent: Self.dcimHandle, format: PTPFormat.association,
                                                  name: "100RIGCT", data: [], captureDate: now, width: 0, height: 0)
    }

    deinit {
        commandListener.close()
        eventListener.close()
    }

    public func start() {
        lock.lock()
        defer { lock.unlock() }
        guard serverThread == nil, !stopped else { return }
        let thread = Thread { [self] in
            serve()
            serverDone.signal()
        }
        thread.name = "virtual-camera-\(configuration.name)"
        serverThread = thread
        thread.start()
    }

    /// Stops serving, closes every connection and waits for the camera's threads to finish.
    public func stop() {
        lock.lock()
        let wasRunning = serverThread != nil && !stopped
        stopped = true
        let connections = [commandConnection, eventConnection]
        lock.unlock()
        // Wake the session thread; it closes the connections itself.
        for c in connections { c?.shutdown() }
        if wasRunning { serverDone.wait() }
        workersIdle.lock()
        while workerThreads > 0 { workersIdle.wait() }
        workersIdle.unlock()
        commandListener.close()
        eventListener.close()
    }

    public func inject(_ fault: VirtualCameraFault) {
        virtualCameraLog.notice("fault injected", metadata: ["camera": "\(configuration.name)", "fault": "\(fault)"])
        lock.lock()
        defer { lock.unlock() }
        switch fault {
        case .busy(let count): busyReplies += max(0, count)
        case .dropConnection: dropOnNextCapture = true
        case .slowDownload(let rate): bytesPerSecond = max(1, rate)
        case .noObjectAdded: suppressObjectAdded = true
        }
    }

    public func clearFaults() {
        lock.lock()
        defer { lock.unlock() }
        busyReplies = 0
        dropOnNextCapture = false
        bytesPerSecond = nil
        suppressObjectAdded = false
    }

    /// Fires the shutter as an external release (a cable or a remote) would: no request from the host, just the
    /// ObjectAdded event when the file is stored. Returns false while a capture is still in progress.
    @discardableResult
    public func externalRelease() -> Bool {
        beginCapture(external: true)
    }

    public var currentSettings: ExposureSettings {
        lock.lock()
        defer { lock.unlock() }
        return settings
    }

    /// Every exposure so far, oldest first.
    public var captureLog: [VirtualCaptureRecord] {
        lock.lock()
        defer { lock.unlock() }
        return log
    }

    /// Number of image files on the card.
    public var fileCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return objects.values.filter { $0.format != PTPFormat.association }.count
    }

    /// Number of host sessions accepted so far (a reconnect starts a new one).
    public var sessionCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return sessions
    }

    private var isStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }

    // MARK: - Connections

    /// Accepts hosts: the first gets a session on its own thread. A host arriving during a session waits up to a
    /// second for it to end (a host that disconnects and reconnects at once races its own old session), then is
    /// refused with Init Fail (libgphoto2 reports an error) instead of being left to time out.
    private func serve() {
        while !isStopped {
            guard let connection = try? commandListener.accept(timeoutMs: 100) else { continue }
            lock.lock()
            let busy = commandConnection != nil
            if !busy { commandConnection = connection }
            lock.unlock()
            if busy {
                spawnWorker("waiting-host") { [self] in
                    let deadline = Date().addingTimeInterval(1)
                    while Date() < deadline && !isStopped {
                        lock.lock()
                        let free = commandConnection == nil
                        if free { commandConnection = connection }
                        lock.unlock()
                        if free {
                            runSession(connection)
                            endSession()
                            return
                        }
                        Thread.sleep(forTimeInterval: 0.01)
                    }
                    refuse(connection)
                }
            } else {
                virtualCameraLog.info("host connected", metadata: ["camera": "\(configuration.name)"])
                spawnWorker("session") { [self] in
                    runSession(connection)
                    endSession()
                    virtualCameraLog.info("host disconnected", metadata: ["camera": "\(configuration.name)"])
                }
            }
        }
    }

    private func spawnWorker(_ role: String, _ body: @escaping @Sendable () -> Void) {
        workersIdle.lock()
        workerThreads += 1
        workersIdle.unlock()
        let thread = Thread { [self] in
            body()
            workersIdle.lock()
            workerThreads -= 1
            workersIdle.broadcast()
            workersIdle.unlock()
        }
        thread.name = "virtual-camera-\(configuration.name)-\(role)"
        thread.start()
    }

    private func refuse(_ connection: TCPConnection) {
        virtualCameraLog.warning("second host refused: the camera serves one host at a time",
                                 metadata: ["camera": "\(configuration.name)"])
        let deadline = Date().addingTimeInterval(2)
        _ = try? connection.read(count: 8, shouldStop: { [self] in isStopped || Date() > deadline })
        var w = PTPWriter()
        w.u32(0x2019)  // reason: the camera is busy with another host
        try? connection.write(Self.packet(.initFail, w.bytes))
        connection.close()
    }

    private func endSession() {
        lock.lock()
        let connections = [commandConnection, eventConnection]
        commandConnection = nil
        eventConnection = nil
        sessionOpen = false
        lock.unlock()
        for c in connections { c?.close() }
    }

    private func readPacket(_ connection: TCPConnection) throws -> (type: UInt32, payload: [UInt8])? {
        guard let header = try connection.read(count: 8, shouldStop: { isStopped }) else { return nil }
        var reader = PTPReader(header)
        let length = Int(try reader.u32())
        let type = try reader.u32()
        guard length >= 8, length <= 64 << 20 else { throw PTPDecodingError(description: "bad packet length \(length)") }
        if length == 8 { return (type, []) }
        guard let payload = try connection.read(count: length - 8, shouldStop: { isStopped }) else { return nil }
        return (type, payload)
    }

    private static func packet(_ type: PTPIPPacket, _ payload: [UInt8]) -> [UInt8] {
        var w = PTPWriter()
        w.u32(UInt32(8 + payload.count))
        w.u32(type.rawValue)
        w.bytes += payload
        return w.bytes
    }

    private func runSession(_ command: TCPConnection) {
        do {
            guard let request = try readPacket(command), request.type == PTPIPPacket.initCommandRequest.rawValue else { return }
            var ack = PTPWriter()
            ack.u32(1)  // connection number
            ack.bytes += guid
            ack.terminatedString("\(configuration.model) \(configuration.name)")
            ack.u32(0x0001_0000)
            try command.write(Self.packet(.initCommandAck, ack.bytes))

            var eventSocket: TCPConnection?
            let deadline = Date().addingTimeInterval(5)
            while eventSocket == nil, Date() < deadline, !isStopped {
                eventSocket = try eventListener.accept(timeoutMs: 100)
            }
            guard let events = eventSocket else { return }
            lock.lock()
            eventConnection = events
            sessions += 1
            lock.unlock()
            guard let eventRequest = try readPacket(events), eventRequest.type == PTPIPPacket.initEventRequest.rawValue else { return }
            try events.write(Self.packet(.initEventAck, []))

            while let packet = try readPacket(command) {
                guard packet.type == PTPIPPacket.operationRequest.rawValue else { continue }
                var r = PTPReader(packet.payload)
                let dataPhase = try r.u32()
                let code = try r.u16()
                let transaction = try r.u32()
                var params: [UInt32] = []
                while r.remaining >= 4, params.count < 5 { params.append(try r.u32()) }
                var incoming: [UInt8]?
                if dataPhase == 2 {
                    guard let data = try receiveData(command) else { return }
                    incoming = data
                }
                let reply = handle(code: code, params: params, data: incoming)
                switch reply {
                case .drop:
                    return
                case .answer(let response, let responseParams, let data, let after):
                    if let data { try sendData(command, transaction: transaction, bytes: data) }
                    var w = PTPWriter()
                    w.u16(response)
                    w.u32(transaction)
                    for p in responseParams { w.u32(p) }
                    try command.write(Self.packet(.operationResponse, w.bytes))
                    after?()
                }
            }
        } catch {
            // A broken or malformed connection ends the session; the camera waits for the next host.
        }
    }

    private var guid: [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 16)
        for (i, b) in configuration.serialNumber.utf8.enumerated() { bytes[i % 16] ^= b &+ UInt8(i) }
        return bytes
    }

    private func receiveData(_ connection: TCPConnection) throws -> [UInt8]? {
        guard let start = try readPacket(connection), start.type == PTPIPPacket.startData.rawValue else { return nil }
        var r = PTPReader(start.payload)
        _ = try r.u32()
        let total = Int(try r.u32())
        var data: [UInt8] = []
        data.reserveCapacity(total)
        while true {
            guard let packet = try readPacket(connection) else { return nil }
            guard packet.type == PTPIPPacket.data.rawValue || packet.type == PTPIPPacket.endData.rawValue else { continue }
            data += packet.payload.dropFirst(4)
            if packet.type == PTPIPPacket.endData.rawValue || data.count >= total { break }
        }
        return data
    }

    private func sendData(_ connection: TCPConnection, transaction: UInt32, bytes: [UInt8]) throws {
        var start = PTPWriter()
        start.u32(transaction)
        start.u64(UInt64(bytes.count))
        try connection.write(Self.packet(.startData, start.bytes))
        lock.lock()
        let rate = bytesPerSecond
        lock.unlock()
        let chunk = rate == nil ? 1 << 20 : 16 << 10
        var offset = 0
        repeat {
            let end = min(offset + chunk, bytes.count)
            var w = PTPWriter()
            w.u32(transaction)
            w.bytes += bytes[offset..<end]
            if let rate { Thread.sleep(forTimeInterval: Double(end - offset) / Double(rate)) }
            try connection.write(Self.packet(end == bytes.count ? .endData : .data, w.bytes))
            offset = end
        } while offset < bytes.count
    }

    private func sendEvent(_ code: UInt16, _ params: [UInt32]) {
        lock.lock()
        let connection = eventConnection
        lock.unlock()
        var w = PTPWriter()
        w.u16(code)
        w.u32(0xFFFF_FFFF)
        for p in params { w.u32(p) }
        try? connection?.write(Self.packet(.event, w.bytes))
    }

    // MARK: - Operations

    private enum Reply {
        case answer(UInt16, [UInt32], [UInt8]?, (() -> Void)?)
        case drop

        static func code(_ c: UInt16) -> Reply { .answer(c, [], nil, nil) }
        static func data(_ d: [UInt8]) -> Reply { .answer(PTPResponse.ok, [], d, nil) }
    }

    private func handle(code: UInt16, params: [UInt32], data: [UInt8]?) -> Reply {
        func param(_ i: Int) -> UInt32 { i < params.count ? params[i] : 0 }
        if code == PTPOperation.getDeviceInfo { return .data(deviceInfo()) }
        if code == PTPOperation.openSession {
            lock.lock()
            sessionOpen = true
            lock.unlock()
            return .code(PTPResponse.ok)
        }
        lock.lock()
        let open = sessionOpen
        lock.unlock()
        guard open else { return .code(PTPResponse.sessionNotOpen) }

        switch code {
        case PTPOperation.closeSession:
            lock.lock()
            sessionOpen = false
            lock.unlock()
            return .code(PTPResponse.ok)
        case PTPOperation.getStorageIDs:
            var w = PTPWriter()
            w.array32([Self.storageID])
            return .data(w.bytes)
        case PTPOperation.getStorageInfo:
            guard param(0) == Self.storageID else { return .code(PTPResponse.invalidStorageID) }
            return .data(storageInfo())
        case PTPOperation.getObjectHandles:
            return objectHandles(storage: param(0), format: param(1), parent: param(2))
        case PTPOperation.getObjectInfo:
            guard let info = objectInfo(param(0)) else { return .code(PTPResponse.invalidObjectHandle) }
            return .data(info)
        case PTPOperation.getObject:
            lock.lock()
            let object = objects[param(0)]
            lock.unlock()
            guard let object, object.format != PTPFormat.association else { return .code(PTPResponse.invalidObjectHandle) }
            return .data(object.data)
        case PTPOperation.getPartialObject where configuration.supportsPartialObject:
            lock.lock()
            let object = objects[param(0)]
            lock.unlock()
            guard let object, object.format != PTPFormat.association else { return .code(PTPResponse.invalidObjectHandle) }
            let start = min(Int(param(1)), object.data.count)
            let end = min(start + Int(param(2)), object.data.count)
            return .answer(PTPResponse.ok, [UInt32(end - start)], Array(object.data[start..<end]), nil)
        case PTPOperation.deleteObject:
            return deleteObject(param(0))
        case PTPOperation.initiateCapture:
            return initiateCapture()
        case PTPOperation.getDevicePropDesc:
            guard let desc = propertyDescription(UInt16(truncatingIfNeeded: param(0))) else {
                return .code(PTPResponse.devicePropNotSupported)
            }
            return .data(desc)
        case PTPOperation.getDevicePropValue:
            guard let property = property(UInt16(truncatingIfNeeded: param(0))) else {
                return .code(PTPResponse.devicePropNotSupported)
            }
            var w = PTPWriter()
            property.write(property.current, &w)
            return .data(w.bytes)
        case PTPOperation.setDevicePropValue:
            let code = UInt16(truncatingIfNeeded: param(0))
            let response = setProperty(code, data ?? [])
            if response == PTPResponse.ok {
                return .answer(PTPResponse.ok, [], nil, { [self] in sendEvent(PTPEvent.devicePropChanged, [UInt32(code)]) })
            }
            return .code(response)
        default:
            return .code(PTPResponse.operationNotSupported)
        }
    }

    private func deviceInfo() -> [UInt8] {
        var w = PTPWriter()
        w.u16(100)
        w.u32(0)  // no vendor extension: libgphoto2 takes its generic code paths
        w.u16(0)
        w.string("")
        w.u16(0)
        var operations = PTPOperation.supported
        if configuration.supportsPartialObject { operations.append(PTPOperation.getPartialObject) }
        w.array16(operations)
        w.array16(PTPEvent.supported)
        w.array16(Self.propertyCodes)
        w.array16([configuration.format == .dng ? PTPFormat.dng : PTPFormat.jpeg])
        w.array16([PTPFormat.association, PTPFormat.dng, PTPFormat.jpeg])
        w.string(configuration.manufacturer)
        w.string(configuration.model)
        w.string("1.0")
        w.string(configuration.serialNumber)
        return w.bytes
    }

    private func storageInfo() -> [UInt8] {
        lock.lock()
        let used = objects.values.reduce(0) { $0 + UInt64($1.data.count) }
        lock.unlock()
        let free = configuration.storageCapacity > used ? configuration.storageCapacity - used : 0
        let frameBytes = UInt64(configuration.width * configuration.height * 2 + 4096)
        var w = PTPWriter()
        w.u16(4)  // removable RAM (a memory card)
        w.u16(2)  // generic hierarchical
        w.u16(0)  // read-write
        w.u64(configuration.storageCapacity)
        w.u64(free)
        w.u32(UInt32(min(free / frameBytes, UInt64(UInt32.max - 1))))
        w.string("Virtual card")
        w.string("RIGCTL_\(configuration.name.uppercased())")
        return w.bytes
    }

    private func objectHandles(storage: UInt32, format: UInt32, parent: UInt32) -> Reply {
        guard storage == 0xFFFF_FFFF || storage == Self.storageID else { return .code(PTPResponse.invalidStorageID) }
        lock.lock()
        let all = objects.values.sorted { $0.handle < $1.handle }
        lock.unlock()
        let selected: [StoredObject]
        switch parent {
        case 0: selected = all
        case 0xFFFF_FFFF: selected = all.filter { $0.parent == 0 }
        default:
            guard all.contains(where: { $0.handle == parent && $0.format == PTPFormat.association }) else {
                return .code(PTPResponse.invalidObjectHandle)
            }
            selected = all.filter { $0.parent == parent }
        }
        var w = PTPWriter()
        w.array32(selected.filter { format == 0 || UInt32($0.format) == format }.map(\.handle))
        return .data(w.bytes)
    }

    private static func ptpDate(_ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(format: "%04d%02d%02dT%02d%02d%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }

    private func objectInfo(_ handle: UInt32) -> [UInt8]? {
        lock.lock()
        let object = objects[handle]
        lock.unlock()
        guard let object else { return nil }
        let isFolder = object.format == PTPFormat.association
        var w = PTPWriter()
        w.u32(Self.storageID)
        w.u16(object.format)
        w.u16(0)  // no protection
        w.u32(UInt32(object.data.count))
        w.u16(0)  // no thumbnail
        w.u32(0)
        w.u32(0)
        w.u32(0)
        w.u32(UInt32(object.width))
        w.u32(UInt32(object.height))
        w.u32(isFolder ? 0 : 16)
        w.u32(object.parent)
        w.u16(isFolder ? 1 : 0)  // generic folder
        w.u32(0)
        w.u32(0)
        w.string(object.name)
        w.string(Self.ptpDate(object.captureDate))
        w.string(Self.ptpDate(object.captureDate))
        w.string("")
        return w.bytes
    }

    private func deleteObject(_ handle: UInt32) -> Reply {
        lock.lock()
        defer { lock.unlock() }
        if handle == 0xFFFF_FFFF {
            objects = objects.filter { $0.value.format == PTPFormat.association }
            return .code(PTPResponse.ok)
        }
        guard let object = objects[handle] else { return .code(PTPResponse.invalidObjectHandle) }
        guard object.format != PTPFormat.association else { return .code(PTPResponse.accessDenied) }
        objects[handle] = nil
        return .code(PTPResponse.ok)
    }

    // MARK: - Capture

    private func initiateCapture() -> Reply {
        lock.lock()
        if busyReplies > 0 {
            busyReplies -= 1
            lock.unlock()
            return .code(PTPResponse.deviceBusy)
        }
        if dropOnNextCapture {
            dropOnNextCapture = false
            lock.unlock()
            return .drop
        }
        if capturing {
            lock.unlock()
            return .code(PTPResponse.deviceBusy)
        }
        let used = objects.values.reduce(0) { $0 + UInt64($1.data.count) }
        if used + UInt64(configuration.width * configuration.height * 2) > configuration.storageCapacity {
            lock.unlock()
            return .code(PTPResponse.storeFull)
        }
        lock.unlock()
        let triggered = Date()
        return .answer(PTPResponse.ok, [], nil, { [self] in _ = beginCapture(external: false, triggered: triggered) })
    }

    private func beginCapture(external: Bool, triggered: Date = Date()) -> Bool {
        lock.lock()
        if capturing || stopped {
            lock.unlock()
            return false
        }
        capturing = true
        let shotSettings = settings
        fileCounter += 1
        let number = fileCounter
        lock.unlock()
        spawnWorker("capture") { [self] in
            expose(settings: shotSettings, number: number, triggered: triggered, external: external)
        }
        return true
    }

    private func expose(settings shot: ExposureSettings, number: Int, triggered: Date, external: Bool) {
        // The shutter is open for the exposure time (capped, so a long exposure does not stall tests).
        Thread.sleep(forTimeInterval: min(shot.exposureTime, 1))
        lock.lock()
        let captureDate = Date().addingTimeInterval(dateOffset)
        lock.unlock()
        let metadata = CaptureMetadata(make: configuration.manufacturer, model: "\(configuration.model) \(configuration.name)",
                                       serialNumber: configuration.serialNumber, aperture: shot.fNumber,
                                       exposureTime: shot.exposureTime, iso: shot.iso,
                                       focalLength: configuration.character.focalLength, captureTime: captureDate)
        let bytes: [UInt8]
        let name: String
        switch configuration.format {
        case .dng:
            let frame = renderer.renderBayer(scene, settings: shot, shot: UInt64(number))
            bytes = [UInt8](DNGWriter.encode(frame, metadata: metadata))
            name = String(format: "IMG_%04d.DNG", number % 10000)
        case .jpeg:
            let linear = renderer.renderLinear(scene, settings: shot).displayEncoded()
            bytes = (try? JPEGFile.encode(linear.raster8(), quality: 92)).map { [UInt8]($0) } ?? []
            name = String(format: "IMG_%04d.JPG", number % 10000)
        }
        lock.lock()
        let handle = nextHandle
        nextHandle += 1
        objects[handle] = StoredObject(handle: handle, parent: Self.folderHandle,
                                       format: configuration.format == .dng ? PTPFormat.dng : PTPFormat.jpeg,
                                       name: name, data: bytes, captureDate: captureDate,
                                       width: configuration.width, height: configuration.height)
        let quiet = suppressObjectAdded
        log.append(VirtualCaptureRecord(triggered: triggered, stored: Date(), fileName: name, settings: shot, external: external))
        capturing = false
        lock.unlock()
        // ObjectAdded must come before CaptureComplete: libgphoto2 gives up on ObjectAdded soon after it.
        if !quiet { sendEvent(PTPEvent.objectAdded, [handle]) }
        sendEvent(PTPEvent.captureComplete, [])
    }

    // MARK: - Properties

    static let battery: UInt16 = 0x5001
    static let fNumber: UInt16 = 0x5007
    static let focalLength: UInt16 = 0x5008
    static let focusDistance: UInt16 = 0x5009
    static let exposureTime: UInt16 = 0x500D
    static let exposureIndex: UInt16 = 0x500F
    static let dateTime: UInt16 = 0x5011
    static let propertyCodes: [UInt16] = [battery, fNumber, focalLength, focusDistance, exposureTime, exposureIndex, dateTime]

    private struct Property {
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

    private static func hundredths(_ v: Double) -> UInt64 { UInt64((v * 100).rounded()) }
    private static func tenThousandths(_ v: Double) -> UInt64 { UInt64((v * 10000).rounded()) }

    private func property(_ code: UInt16) -> Property? {
        lock.lock()
        let s = settings
        let shots = log.count
        let offset = dateOffset
        lock.unlock()
        let c = configuration
        switch code {
        case Self.battery:
            return Property(code: code, dataType: PTPDataType.uint8, settable: false,
                            current: UInt64(max(5, 100 - shots / 20)), form: .range(0, 100, 1))
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
        case Self.dateTime:
            return Property(code: code, dataType: PTPDataType.string, settable: true, current: 0,
                            text: Self.ptpDate(Date().addingTimeInterval(offset)), form: .none)
        default:
            return nil
        }
    }

    private func propertyDescription(_ code: UInt16) -> [UInt8]? {
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

    private func setProperty(_ code: UInt16, _ data: [UInt8]) -> UInt16 {
        guard let p = property(code) else { return PTPResponse.devicePropNotSupported }
        guard p.settable else { return PTPResponse.accessDenied }
        var r = PTPReader(data)
        if p.dataType == PTPDataType.string {
            guard let text = try? r.string() else { return PTPResponse.invalidDevicePropFormat }
            guard let date = Self.parsePTPDate(text) else { return PTPResponse.invalidDevicePropValue }
            lock.lock()
            dateOffset = date.timeIntervalSinceNow
            lock.unlock()
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
        lock.lock()
        defer { lock.unlock() }
        switch code {
        case Self.fNumber: settings.fNumber = Double(value) / 100
        case Self.exposureTime: settings.exposureTime = Double(value) / 10000
        case Self.exposureIndex: settings.iso = Int(value)
        case Self.focusDistance: settings.focusDistance = value == 0xFFFF ? 1000 : Double(value) / 1000
        default: return PTPResponse.accessDenied
        }
        return PTPResponse.ok
    }

    private static func parsePTPDate(_ text: String) -> Date? {
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

/// Connections, refusals and injected faults, for rehearsals and for debugging a rig set-up.
let virtualCameraLog = Logger(label: "rigctl.virtual-camera")
