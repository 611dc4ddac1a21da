import ArgumentParser
import Foundation
import PairVocabulary
import Rig
import VirtualCamera

struct VirtualRigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "virtual-rig",
        abstract: "Run two virtual PTP/IP cameras (shallow and deep) on 127.0.0.1 for rehearsals, demos and tests.",
        discussion: """
            The shallow camera listens on PORT (commands) and PORT+1 (events), the deep one on PORT+2 and PORT+3. \
            The rig file written points at them; use it with `rigctl rig check` and `rigctl capture`, or use the \
            ports with gphoto2 (--port ptpip:127.0.0.1:PORT:PORT+1 --camera "PTP/IP Camera", or the camera model \
            the rig file names for a Canon or Nikon body). Runs until SIGINT or SIGTERM; SIGUSR1 fires both cameras \
            as an external release would.
            Bodies: --vendor generic|canon|nikon for both, or --vendor shallow=canon --vendor deep=nikon per role; \
            libgphoto2 then drives each through that vendor's code ("Canon EOS (WLAN)", "Nikon DSLR (WLAN)").
            Faults for tests: --fault ROLE:busy=N (next N captures answered DeviceBusy), ROLE:drop (next capture \
            drops the connection), ROLE:drop-after=N (the same after N more shots), ROLE:slow=BYTES_PER_SECOND (slow \
            downloads), ROLE:no-object-added (files never announced), ROLE:ignore-settings (settings answered OK but \
            not kept), ROLE:card-left=N (other files fill the card until N more frames fit). --armed-fault takes the \
            same and injects it when SIGUSR2 arrives: a fault planted at a moment a test or a rehearsal chooses.
            --trigger trigger-box also opens a virtual trigger box on a pseudo-terminal (its device goes into the \
            rig file): it answers the ESPER TriggerBox instructions, and its outputs 1 and 2 release the shallow and \
            deep cameras, each --release-latency ROLE=SECONDS after the box fires.
            """
    )

    @Option(help: "Command port of the shallow camera; the rig uses PORT to PORT+3.")
    var port: UInt16

    @Option(name: .customLong("rig-file"), help: "The rig file to write.")
    var rigFile: String

    @Option(help: "Built-in scene: \(BuiltInScene.allCases.map(\.rawValue).joined(separator: ", ")).")
    var scene: String = BuiltInScene.planes.rawValue

    @Option(name: .customLong("scene-image"), help: "Photograph the given image instead (needs --scene-depth).")
    var sceneImage: String?

    @Option(name: .customLong("scene-depth"), help: "Depth map of --scene-image: grey levels 0...1 map to --near...--far metres.")
    var sceneDepth: String?

    @Option(help: "Distance in metres of depth value 0.")
    var near: Float = 1

    @Option(help: "Distance in metres of depth value 1.")
    var far: Float = 10

    @Option(help: "Frame width in pixels.")
    var width: Int = 1200

    @Option(help: "Frame height in pixels.")
    var height: Int = 800

    @Option(help: "File type the cameras record: dng or jpeg.")
    var format: String = CaptureFormat.dng.rawValue

    @Option(help: "Trigger mode written into the rig file: software, external or trigger-box.")
    var trigger: String = TriggerMode.software.rawValue

    @Option(name: .customLong("release-latency"), help: "With --trigger trigger-box: ROLE=SECONDS from the box firing to that camera releasing (default 0); repeatable.")
    var releaseLatencies: [String] = []

    @Option(name: .customLong("vendor"), help: "Body to impersonate: generic, canon or nikon, for both cameras or as ROLE=VENDOR.")
    var vendors: [String] = []

    @Option(name: .customLong("card-mb"), help: "Size of each camera's card in megabytes (10^6 bytes; default 32 GiB).")
    var cardMB: Double?

    @Option(name: .customLong("fault"), help: "Inject a fault: ROLE:busy=N, ROLE:drop, ROLE:drop-after=SHOTS, ROLE:slow=BYTES_PER_SECOND, ROLE:no-object-added, ROLE:ignore-settings, ROLE:card-left=FRAMES.")
    var faults: [String] = []

    @Option(name: .customLong("armed-fault"), help: "A fault (as --fault) injected when SIGUSR2 arrives; repeatable.")
    var armedFaults: [String] = []

    func validate() throws {
        guard port > 0, port <= UInt16.max - 3 else { throw ValidationError("--port must be between 1 and \(UInt16.max - 3)") }
        guard BuiltInScene(rawValue: scene) != nil || sceneImage != nil else {
            throw ValidationError("unknown scene \"\(scene)\" (built-in: \(BuiltInScene.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard (sceneImage == nil) == (sceneDepth == nil) else { throw ValidationError("--scene-image and --scene-depth go together") }
        guard CaptureFormat(rawValue: format) != nil else { throw ValidationError("--format must be dng or jpeg") }
        guard let mode = TriggerMode(rawValue: trigger) else {
            throw ValidationError("--trigger must be \(TriggerMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let latencies = try Self.parseLatencies(releaseLatencies)
        if !latencies.isEmpty && mode != .triggerBox { throw ValidationError("--release-latency needs --trigger trigger-box") }
        guard width >= 16, height >= 16, width % 2 == 0, height % 2 == 0 else {
            throw ValidationError("--width and --height must be even and at least 16")
        }
        for f in faults + armedFaults { _ = try Self.parseFault(f) }
        _ = try Self.parseVendors(vendors)
        if let cardMB, !(cardMB > 0 && cardMB < 1e9) { throw ValidationError("--card-mb must be a positive number of megabytes") }
    }

    /// "canon" sets both roles; "shallow=canon" one. Later options override earlier ones.
    static func parseVendors(_ options: [String]) throws -> (shallow: VirtualVendor, deep: VirtualVendor) {
        var result = (shallow: VirtualVendor.generic, deep: VirtualVendor.generic)
        let names = VirtualVendor.allCases.map(\.rawValue).joined(separator: ", ")
        for option in options {
            let parts = option.split(separator: "=", maxSplits: 1).map(String.init)
            guard let vendor = VirtualVendor(rawValue: parts.last ?? "") else {
                throw ValidationError("--vendor \(option): unknown vendor \"\(parts.last ?? "")\" (expected \(names))")
            }
            if parts.count == 1 {
                result = (vendor, vendor)
                continue
            }
            switch CameraRole(rawValue: parts[0]) {
            case .shallow: result.shallow = vendor
            case .deep: result.deep = vendor
            case nil: throw ValidationError("--vendor \(option): expected VENDOR or ROLE=VENDOR with ROLE shallow or deep")
            }
        }
        return result
    }

    /// "deep=0.03": seconds from the box firing to that role's camera releasing.
    static func parseLatencies(_ options: [String]) throws -> [CameraRole: Double] {
        var result: [CameraRole: Double] = [:]
        for option in options {
            let parts = option.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let role = CameraRole(rawValue: parts[0]), let seconds = Double(parts[1]),
                  seconds >= 0, seconds <= 10 else {
                throw ValidationError("--release-latency \(option): expected ROLE=SECONDS with ROLE shallow or deep and 0 to 10 seconds")
            }
            result[role] = seconds
        }
        return result
    }

    static func parseFault(_ text: String) throws -> (role: CameraRole, fault: VirtualCameraFault) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, let role = CameraRole(rawValue: parts[0]) else {
            throw ValidationError("--fault \(text): expected ROLE:KIND with ROLE shallow or deep")
        }
        let kind = parts[1].split(separator: "=", maxSplits: 1).map(String.init)
        switch kind[0] {
        case "busy":
            guard kind.count == 2, let n = Int(kind[1]), n > 0 else { throw ValidationError("--fault \(text): busy=N needs a count") }
            return (role, .busy(count: n))
        case "drop": return (role, .dropConnection)
        case "drop-after":
            guard kind.count == 2, let n = Int(kind[1]), n >= 0 else {
                throw ValidationError("--fault \(text): drop-after=N needs a number of shots")
            }
            return (role, .dropConnectionAfter(shots: n))
        case "slow":
            guard kind.count == 2, let n = Int(kind[1]), n > 0 else {
                throw ValidationError("--fault \(text): slow=N needs bytes per second")
            }
            return (role, .slowDownload(bytesPerSecond: n))
        case "card-left":
            guard kind.count == 2, let n = Int(kind[1]), n >= 0 else {
                throw ValidationError("--fault \(text): card-left=N needs a number of frames")
            }
            return (role, .fillCard(leavingFrames: n))
        case "no-object-added": return (role, .noObjectAdded)
        case "ignore-settings": return (role, .ignoreSettings)
        default: throw ValidationError("--fault \(text): unknown fault \"\(kind[0])\"")
        }
    }

    func run() throws {
        try reportingErrors {
            let theScene: Scene
            if let sceneImage, let sceneDepth {
                theScene = try Scene.load(image: URL(fileURLWithPath: sceneImage), depth: URL(fileURLWithPath: sceneDepth), near: near, far: far)
            } else {
                theScene = Scene.builtIn(BuiltInScene(rawValue: scene) ?? .planes, width: width, height: height)
            }
            let bodies = try Self.parseVendors(vendors)
            let rig = try VirtualRig(basePort: port, scene: theScene, width: width, height: height,
                                     format: CaptureFormat(rawValue: format) ?? .dng,
                                     shallowVendor: bodies.shallow, deepVendor: bodies.deep,
                                     storageCapacity: cardMB.map { UInt64(($0 * 1e6).rounded()) })
            for f in faults {
                let (role, fault) = try Self.parseFault(f)
                (role == .shallow ? rig.shallow : rig.deep).inject(fault)
            }
            rig.start()
            defer { rig.stop() }
            let mode = TriggerMode(rawValue: trigger) ?? .software
            var file = VirtualRigFile.make(rig: rig, trigger: mode)
            var box: VirtualTriggerBox?
            if mode == .triggerBox {
                let latencies = try Self.parseLatencies(releaseLatencies)
                let opened = try rig.wiredTriggerBox(shallowLatency: latencies[.shallow] ?? 0, deepLatency: latencies[.deep] ?? 0)
                file.triggerBox = TriggerBoxSettings(device: opened.device)
                box = opened
                print("trigger box: \(opened.device)  outputs 1 (shallow, \(latencies[.shallow] ?? 0) s) and 2 (deep, \(latencies[.deep] ?? 0) s)")
            }
            defer { box?.stop() }
            try file.write(to: URL(fileURLWithPath: rigFile))
            for camera in rig.cameras {
                let s = camera.currentSettings
                print("\(camera.configuration.name): \(camera.portPath)  \(camera.configuration.model)  f/\(String(format: "%g", s.fNumber)) "
                      + "\(RoleSettings.shutterText(s.exposureTime)) s ISO \(s.iso)  serial \(camera.configuration.serialNumber)")
            }
            print("rig file: \(rigFile)  scene: \(theScene.name) \(width)x\(height)  (SIGUSR1 fires both"
                  + (armedFaults.isEmpty ? "" : "; SIGUSR2 injects \(armedFaults.joined(separator: ", "))") + "; Ctrl-C stops)")
            fflush(nil)
            // Ignore the default actions and take the signals through dispatch sources: the command may run on any
            // thread, so a per-thread signal mask would not cover them all.
            let stop = DispatchSemaphore(value: 0)
            let queue = DispatchQueue(label: "virtual-rig-signals")
            var sources: [DispatchSourceSignal] = []
            let armed = try armedFaults.map(Self.parseFault)
            for number in [SIGINT, SIGTERM, SIGUSR1, SIGUSR2] {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
                source.setEventHandler {
                    switch number {
                    case SIGUSR1: rig.externalRelease()
                    case SIGUSR2:
                        for (role, fault) in armed { (role == .shallow ? rig.shallow : rig.deep).inject(fault) }
                        print("armed fault(s) injected: \(armedFaults.joined(separator: ", "))")
                        fflush(nil)
                    default: stop.signal()
                    }
                }
                source.resume()
                sources.append(source)
            }
            stop.wait()
            for source in sources { source.cancel() }
            print("virtual rig stopped")
        }
    }
}

/// The rig file that points at a virtual rig.
enum VirtualRigFile {
    static func make(rig: VirtualRig, trigger: TriggerMode) -> RigFile {
        func spec(_ camera: VirtualCamera, _ role: CameraRole) -> RigCameraSpec {
            let s = camera.configuration.settings
            return RigCameraSpec(role: role, port: camera.portPath, serial: camera.configuration.serialNumber,
                                 model: camera.configuration.vendor.libgphoto2Model,
                                 settings: RoleSettings(aperture: s.fNumber, shutter: s.exposureTime, iso: s.iso,
                                                        // Canon and Nikon bodies have no host-set focus distance.
                                                        focusDistance: camera.configuration.vendor == .generic ? s.focusDistance : nil,
                                                        focusMode: .manual))
        }
        return RigFile(name: "virtual rig", trigger: trigger,
                       cameras: [spec(rig.shallow, .shallow), spec(rig.deep, .deep)],
                       alignment: AlignmentCalibration(mirror: .horizontal),
                       // Rendered scenes do not move: its f/2 1/500 s and f/16 1/125 s (exposures balanced by
                       // shutter, not by a noisy ISO 6400) blur nothing differently.
                       staticScenes: true)
    }
}
