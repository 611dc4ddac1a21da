import Foundation
import Logging
import Imaging
import ThreadSupport

/// A camera on the loopback interface that speaks PTP/IP the way libgphoto2's generic "PTP/IP Camera" driver
/// expects: the init handshake on two channels, operations with data phases both ways, and events.
///
/// Each capture renders a new frame of the scene for the camera's current aperture, shutter, ISO and focus, so a
/// rig of two virtual cameras behaves like the real beam-splitter rig it stands in for. One host session at a
/// time; when it ends the camera waits for the next. Faults can be injected while it runs.
public final class VirtualCamera: Sendable {
    public let configuration: VirtualCameraConfiguration
    public let scene: Scene
    public var commandPort: UInt16 { commandListener.port }
    public var eventPort: UInt16 { eventListener.port }
    /// The libgphoto2 port string for this camera.
    public var portPath: String { "ptpip:127.0.0.1:\(commandPort):\(eventPort)" }

    let commandListener: TCPListener
    let eventListener: TCPListener
    let renderer: FrameRenderer
    /// Session threads, joined by `stop()`; finished ones are joined and dropped as new ones start.
    let workers = LockedValue<[(thread: JoinableThread, done: LockedValue<Bool>)]>([])
    /// Everything the session, capture and host-facing threads share, behind one lock.
    let state: LockedValue<State>

    struct State: Sendable {
        var stopped = false
        var serverThread: JoinableThread?
        var settings: ExposureSettings
        var dateOffset: TimeInterval = 0
        var sessionOpen = false
        var commandConnection: TCPConnection?
        var eventConnection: TCPConnection?
        var objects: [UInt32: StoredObject] = [:]
        var nextHandle: UInt32 = 3
        var fileCounter = 0
        var capturing = false
        var busyReplies = 0
        var dropOnNextCapture = false
        /// Shots still taken before the link drops (`dropConnectionAfter`).
        var shotsBeforeDrop: Int?
        var bytesPerSecond: Int?
        var suppressObjectAdded = false
        var log: [VirtualCaptureRecord] = []
        var sessions = 0
        var keepOldSettings = false
        /// The focus-mode switch: manual, or autofocus.
        var manualFocus: Bool
        /// PTP ExposureProgramMode and StillCaptureMode as set now (see the configuration).
        var exposureProgram: UInt16 = 1
        var stillCaptureMode: UInt16 = 1
        /// The Canon EOS personality's session state (remote mode, queued GetEvent records, capture destination).
        var eos = EOSState()
        /// The Nikon personality's live view.
        var nikonLiveView = false
        /// The latest live-view JPEG and the settings it was rendered with: the scene is still and live view is
        /// rendered without noise, so the frame only changes with a setting (rendering costs a full frame's defocus).
        var liveViewCache: (settings: ExposureSettings, jpeg: [UInt8])?
        /// Nikon GetEvent (0x90C7): events waiting for the host's next poll, and how many polls handed one out.
        var nikonEvents: [(code: UInt16, param: UInt32)] = []
        var nikonEventPolls = 0
        /// GetStorageInfo requests answered (generic and Canon EOS alike).
        var storageInfoReads = 0

        /// Bytes of files that are not this session's on the card (`fillCard`).
        var foreignBytes: UInt64 = 0

        /// Bytes stored on the card.
        var cardBytes: UInt64 { foreignBytes + objects.values.reduce(0) { $0 + ($1.inRAM ? 0 : UInt64($1.data.count)) } }

        /// Why a shot cannot start now (an injected busy reply or dropped link, a shot still being written, a full
        /// card when it goes to the card), consuming the one-shot faults; nil when it can. Shared by InitiateCapture
        /// and the Canon half press, which starts a shot.
        mutating func refusalOfShot(toCard: Bool, frameBytes: UInt64, capacity: UInt64) -> Reply? {
            if busyReplies > 0 {
                busyReplies -= 1
                return .code(PTPResponse.deviceBusy)
            }
            if dropOnNextCapture || shotsBeforeDrop == 0 {
                dropOnNextCapture = false
                shotsBeforeDrop = nil
                return .drop
            }
            if capturing { return .code(PTPResponse.deviceBusy) }
            if toCard, cardBytes + frameBytes > capacity { return .code(PTPResponse.storeFull) }
            shotsBeforeDrop = shotsBeforeDrop.map { $0 - 1 }
            return nil
        }
    }

    static let storageID: UInt32 = 0x0001_0001
    static let dcimHandle: UInt32 = 1
    static let folderHandle: UInt32 = 2


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
        var initial = State(settings: configuration.settings, manualFocus: configuration.manualFocus)
        initial.eos.rawPlusJPEG = configuration.rawPlusJPEG
        initial.exposureProgram = configuration.exposureProgram
        initial.stillCaptureMode = configuration.stillCaptureMode
        let now = Date()
        initial.objects[Self.dcimHandle] = StoredObject(handle: Self.dcimHandle, parent: 0, format: PTPFormat.association,
                                                        name: "DCIM", data: [], captureDate: now, width: 0, height: 0)
        initial.objects[Self.folderHandle] = StoredObject(handle: Self.folderHandle, parent: Self.dcimHandle,
                                                          format: PTPFormat.association, name: "100RIGCT", data: [],
                                                          captureDate: now, width: 0, height: 0)
        state = LockedValue(initial)
    }

    deinit {
        commandListener.close()
        eventListener.close()
    }

    public func start() {
        state.withLock { s in
            guard s.serverThread == nil, !s.stopped else { return }
            do {
                s.serverThread = try JoinableThread(name: "vcam-\(configuration.name)") { [self] in serve() }
            } catch {
                virtualCameraLog.error("cannot serve", metadata: ["camera": "\(configuration.name)", "error": "\(error)"])
            }
        }
    }

    /// Stops serving, closes every connection and waits for the camera's threads to finish.
    public func stop() {
        let (server, connections) = state.withLock { s in
            s.stopped = true
            return (s.serverThread, [s.commandConnection, s.eventConnection])
        }
        // Wake the session thread; it closes the connections itself.
        for c in connections { c?.shutdown() }
        server?.join()
        for worker in workers.withLock({ w in defer { w = [] }; return w }) { worker.thread.join() }
        commandListener.close()
        eventListener.close()
    }

    public func inject(_ fault: VirtualCameraFault) {
        virtualCameraLog.notice("fault injected", metadata: ["camera": "\(configuration.name)", "fault": "\(fault)"])
        state.withLock { s in
            switch fault {
            case .busy(let count): s.busyReplies += max(0, count)
            case .dropConnection: s.dropOnNextCapture = true
            case .dropConnectionAfter(let shots): s.shotsBeforeDrop = max(0, shots)
            case .fillCard(let frames):
                let frame = UInt64(configuration.width * configuration.height * 2 + 4096)
                let own = s.cardBytes - s.foreignBytes, room = own + UInt64(max(0, frames)) * frame
                s.foreignBytes = configuration.storageCapacity > room ? configuration.storageCapacity - room : 0
            case .slowDownload(let rate): s.bytesPerSecond = max(1, rate)
            case .noObjectAdded: s.suppressObjectAdded = true
            case .ignoreSettings: s.keepOldSettings = true
            }
        }
    }

    public func clearFaults() {
        state.withLock { s in
            s.busyReplies = 0
            s.dropOnNextCapture = false
            s.shotsBeforeDrop = nil
            s.foreignBytes = 0
            s.bytesPerSecond = nil
            s.suppressObjectAdded = false
            s.keepOldSettings = false
        }
    }

    /// Fires the shutter as an external release (a cable or a remote) would: no request from the host, just the
    /// ObjectAdded event when the file is stored. Returns false while a capture is still in progress.
    @discardableResult
    public func externalRelease() -> Bool {
        beginCapture(external: true)
    }

    public var currentSettings: ExposureSettings {
        state.withLock { s in s.settings }
    }

    /// Every exposure so far, oldest first.
    public var captureLog: [VirtualCaptureRecord] {
        state.withLock { s in s.log }
    }

    /// Number of image files on the card.
    public var fileCount: Int {
        state.withLock { s in s.objects.values.filter { $0.format != PTPFormat.association && !$0.inRAM }.count }
    }

    /// Nikon GetEvent (0x90C7) requests that returned at least one event: libgphoto2 took the Nikon event path.
    public var nikonEventPollsWithEvents: Int {
        state.withLock { s in s.nikonEventPolls }
    }

    /// How many times a host read the card's free space (GetStorageInfo), so a test can tell a reading repeated.
    public var storageInfoReads: Int {
        state.withLock { s in s.storageInfoReads }
    }

    /// Number of host sessions accepted so far (a reconnect starts a new one).
    public var sessionCount: Int {
        state.withLock { s in s.sessions }
    }

    var isStopped: Bool {
        state.withLock { s in s.stopped }
    }
}

/// Connections, refusals and injected faults, for rehearsals and for debugging a rig set-up.
let virtualCameraLog = Logger(label: "rigctl.virtual-camera")
