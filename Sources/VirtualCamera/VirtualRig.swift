import Foundation

/// Two virtual cameras set up like a beam-splitter rig: a shallow depth-of-field camera looking through the
/// splitter and a deep depth-of-field camera seeing the scene in its mirror, slightly offset and with its own
/// colour response.
public final class VirtualRig: Sendable {
    public let shallow: VirtualCamera
    public let deep: VirtualCamera

    /// The camera whose frames are mirrored left-right (the reflected one).
    public let mirroredRole = "deep"

    /// Starts nothing yet. With `basePort` the shallow camera listens on P (commands) and P+1 (events) and the
    /// deep one on P+2 and P+3; without it every channel gets a free port.
    /// `shallowVendor` and `deepVendor` choose the bodies impersonated (generic PTP, Canon EOS, Nikon);
    /// `storageCapacity` sets both cards' size in bytes (default: the configuration's 32 GiB). `configure` changes
    /// each camera's configuration last (a test's battery charge, say), told apart by `name`.
    public init(basePort: UInt16? = nil, scene: Scene, width: Int = 1200, height: Int = 800, format: CaptureFormat = .dng,
                shallowVendor: VirtualVendor = .generic, deepVendor: VirtualVendor = .generic,
                storageCapacity: UInt64? = nil, configure: (inout VirtualCameraConfiguration) -> Void = { _ in }) throws {
        if let p = basePort, p > UInt16.max - 3 {
            throw VirtualCameraError.badConfiguration("base port \(p) leaves no room for four ports")
        }
        let ports: [UInt16] = basePort.map { [$0, $0 + 1, $0 + 2, $0 + 3] } ?? [0, 0, 0, 0]
        var configurations = Self.configurations(ports: ports, width: width, height: height, format: format)
        configurations[0].impersonate(shallowVendor)
        configurations[1].impersonate(deepVendor)
        if let storageCapacity {
            configurations[0].storageCapacity = storageCapacity
            configurations[1].storageCapacity = storageCapacity
        }
        configure(&configurations[0])
        configure(&configurations[1])
        shallow = try VirtualCamera(configuration: configurations[0], scene: scene)
        do {
            deep = try VirtualCamera(configuration: configurations[1], scene: scene)
        } catch {
            shallow.stop()
            throw error
        }
    }

    /// The two cameras' set-up: exposures matched (f/2 1/500 s ISO 100 against f/16 1/125 s ISO 1600), the deep
    /// camera mirrored, shifted by a few pixels, rotated 0.3 degrees, 0.4% larger and a little bluer.
    public static func configurations(ports: [UInt16], width: Int, height: Int, format: CaptureFormat) -> [VirtualCameraConfiguration] {
        var shallow = VirtualCameraConfiguration(
            name: "shallow", serialNumber: "VC-SHALLOW-0001", commandPort: ports[0], eventPort: ports[1],
            width: width, height: height, format: format,
            character: CameraCharacter(colourGains: [1.03, 1.0, 0.97], noiseSeed: 11),
            settings: ExposureSettings(fNumber: 2, exposureTime: 1.0 / 500, iso: 100, focusDistance: 2.5))
        shallow.model = "Virtual Camera"
        let deep = VirtualCameraConfiguration(
            name: "deep", serialNumber: "VC-DEEP-0002", commandPort: ports[2], eventPort: ports[3],
            width: width, height: height, format: format,
            character: CameraCharacter(offsetX: 3.5, offsetY: -2.25, rotationDegrees: 0.3, scale: 1.004, mirrored: true,
                                       colourGains: [0.96, 1.0, 1.05], noiseSeed: 22),
            settings: ExposureSettings(fNumber: 16, exposureTime: 1.0 / 125, iso: 1600, focusDistance: 2.5))
        return [shallow, deep]
    }

    public var cameras: [VirtualCamera] { [shallow, deep] }

    public func start() {
        shallow.start()
        deep.start()
    }

    public func stop() {
        shallow.stop()
        deep.stop()
    }

    /// Fires both cameras as a wired release splitter would, the deep one `skew` seconds after the shallow one.
    public func externalRelease(skew: TimeInterval = 0) {
        shallow.externalRelease()
        if skew > 0 { Thread.sleep(forTimeInterval: skew) }
        deep.externalRelease()
    }
}
