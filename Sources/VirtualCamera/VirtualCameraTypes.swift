import Foundation
import Imaging

/// Why a virtual camera could not start or render.
public enum VirtualCameraError: Error, Equatable, CustomStringConvertible {
    case badScene(name: String, reason: String)
    case cannotListen(camera: String, reason: String)
    case badConfiguration(String)

    public var description: String {
        switch self {
        case .badScene(let name, let reason): "scene \(name): \(reason)"
        case .cannotListen(let camera, let reason): "virtual camera \(camera) cannot listen: \(reason)"
        case .badConfiguration(let reason): "virtual camera: \(reason)"
        }
    }
}

/// The file type a virtual camera records.
public enum CaptureFormat: String, Sendable, Codable, CaseIterable {
    /// Bayer DNG, so that the RAW path of the pipeline is exercised.
    case dng
    /// Baseline JPEG of the demosaiced, display-encoded frame.
    case jpeg
}

/// Which real body a virtual camera impersonates, so that libgphoto2 drives it through that vendor's code.
public enum VirtualVendor: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// A plain PTP camera (VendorExtensionID 0): libgphoto2's generic paths.
    case generic
    /// A Canon EOS body: EOS operations, the GetEvent record stream, remote release.
    case canon
    /// A Nikon DSLR: capture into SDRAM polled with DeviceReady.
    case nikon

    public var description: String { rawValue }

    /// The libgphoto2 driver to open the camera with over PTP/IP.
    public var libgphoto2Model: String {
        switch self {
        case .generic: "PTP/IP Camera"
        case .canon: "Canon EOS (WLAN)"
        case .nikon: "Nikon DSLR (WLAN)"
        }
    }

    /// PTP's VendorExtensionID in the device info (what libgphoto2 decides the vendor code from).
    var vendorExtensionID: UInt32 {
        switch self {
        case .generic: 0
        case .canon: 0x0000_000B
        case .nikon: 0x0000_000A
        }
    }

    /// Manufacturer and model as the body reports them, and as its files' metadata names them.
    var identity: (manufacturer: String, model: String, make: String, fileModel: String) {
        switch self {
        case .generic: ("rigctl", "Virtual Camera", "rigctl", "Virtual Camera")
        case .canon: ("Canon Inc.", "Canon EOS 5D Mark IV", "Canon", "Canon EOS 5D Mark IV")
        case .nikon: ("Nikon Corporation", "D850", "NIKON CORPORATION", "NIKON D850")
        }
    }
}

/// Faults a test or a rehearsal can inject into a running virtual camera.
public enum VirtualCameraFault: Sendable, Equatable {
    /// The next `count` InitiateCapture requests are answered DeviceBusy (0x2019).
    case busy(count: Int)
    /// The next InitiateCapture request closes both channels without an answer, like a cable pulled.
    case dropConnection
    /// As `dropConnection`, once `shots` more shots have been taken: a cable pulled in the middle of a session.
    case dropConnectionAfter(shots: Int)
    /// Other files take the card's space until only `frames` more frames fit (by the camera's own estimate of a
    /// frame), until cleared: a card filling up, or one shared with another body.
    case fillCard(leavingFrames: Int)
    /// Object data is sent at this rate until cleared, like a slow card or link.
    case slowDownload(bytesPerSecond: Int)
    /// Captures complete (CaptureComplete is sent) but ObjectAdded never comes, until cleared.
    case noObjectAdded
    /// Setting a property is answered OK but the camera keeps its old value, until cleared (a body whose mode dial
    /// overrides the host).
    case ignoreSettings
}

/// How one virtual camera is set up.
public struct VirtualCameraConfiguration: Sendable {
    /// A short name used in logs and the camera's model string ("shallow", "deep").
    public var name: String
    /// The body impersonated; sets manufacturer and model unless they are changed afterwards.
    public var vendor: VirtualVendor
    public var manufacturer: String
    public var model: String
    public var serialNumber: String
    /// 0 picks a free port.
    public var commandPort: UInt16
    public var eventPort: UInt16
    public var width: Int
    public var height: Int
    public var format: CaptureFormat
    public var character: CameraCharacter
    /// Settings at power-on.
    public var settings: ExposureSettings
    public var apertures: [Double]
    public var exposureTimes: [Double]
    public var isoValues: [Int]
    /// Focus distances offered, in millimetres; 0xFFFF means infinity.
    public var focusDistances: [UInt16]
    /// Lists GetPartialObject, so that libgphoto2 fetches large files in 1 MiB pieces.
    public var supportsPartialObject: Bool
    /// Card size; captures beyond it are answered StoreFull.
    public var storageCapacity: UInt64
    /// Manual focus at power-on (the lens switch); autofocus otherwise. Hosts cannot change it on a Canon EOS.
    public var manualFocus: Bool
    /// RAW+JPEG at power-on (Canon EOS): every shot stores a DNG and a JPEG.
    public var rawPlusJPEG: Bool
    /// Battery charge in percent at power-on; it drops by one every 20 shots.
    public var batteryPercent: Int
    /// The mode dial at power-on, as PTP ExposureProgramMode (0x500E): 1 manual, 2 program, 3 aperture priority,
    /// 4 shutter priority. A wired release fires with whatever the camera meters unless it is manual.
    public var exposureProgram: UInt16
    /// The drive mode at power-on, as PTP StillCaptureMode (0x5013): 1 single shot, 2 burst, 3 timelapse.
    public var stillCaptureMode: UInt16
    /// Nikon: offer GetEvent (0x90C7), as Nikon DSLRs do: events wait in the camera until the host polls for
    /// them, and none are sent on the PTP/IP event channel. Off: events go on the event channel.
    public var nikonGetEvent: Bool

    public init(name: String, serialNumber: String, vendor: VirtualVendor = .generic, commandPort: UInt16 = 0, eventPort: UInt16 = 0,
                width: Int = 1200, height: Int = 800, format: CaptureFormat = .dng,
                character: CameraCharacter = CameraCharacter(),
                settings: ExposureSettings = ExposureSettings(fNumber: 4, exposureTime: 1.0 / 125, iso: 100, focusDistance: 2.5)) {
        self.name = name
        self.vendor = vendor
        self.manufacturer = vendor.identity.manufacturer
        self.model = vendor.identity.model
        self.serialNumber = serialNumber
        self.commandPort = commandPort
        self.eventPort = eventPort
        self.width = width
        self.height = height
        self.format = format
        self.character = character
        self.settings = settings
        self.apertures = [1.4, 2, 2.8, 4, 5.6, 8, 11, 16, 22]
        self.exposureTimes = [1.0 / 4000, 1.0 / 2000, 1.0 / 1000, 1.0 / 500, 1.0 / 250, 1.0 / 125, 1.0 / 60, 1.0 / 30,
                              1.0 / 15, 1.0 / 8, 1.0 / 4, 0.5, 1]
        self.isoValues = [100, 200, 400, 800, 1600, 3200, 6400]
        self.focusDistances = [300, 500, 700, 1000, 1500, 2000, 2500, 3000, 4000, 5000, 7000, 10000, 0xFFFF]
        self.supportsPartialObject = true
        self.storageCapacity = 32 << 30
        self.manualFocus = true
        self.rawPlusJPEG = false
        self.batteryPercent = 100
        self.exposureProgram = 1
        self.stillCaptureMode = 1
        self.nikonGetEvent = true
    }

    /// Becomes a body of `vendor`: its manufacturer and model (the settings and lists stay).
    public mutating func impersonate(_ vendor: VirtualVendor) {
        self.vendor = vendor
        manufacturer = vendor.identity.manufacturer
        model = vendor.identity.model
    }

    func validate() throws {
        guard width >= 16, height >= 16, width <= 16384, height <= 16384, width % 2 == 0, height % 2 == 0 else {
            throw VirtualCameraError.badConfiguration("camera \(name): frame size \(width)x\(height) must be even and between 16 and 16384")
        }
        guard apertures.contains(settings.fNumber) else {
            throw VirtualCameraError.badConfiguration("camera \(name): f/\(settings.fNumber) is not one of its apertures")
        }
        guard character.colourGains.count == 3 else {
            throw VirtualCameraError.badConfiguration("camera \(name): colour gains need three values")
        }
    }
}

/// One exposure as the camera saw it, on the host's clock (the camera runs in-process or on the same host).
public struct VirtualCaptureRecord: Sendable, Equatable {
    /// When the InitiateCapture request (or the external release) reached the camera.
    public var triggered: Date
    /// When the file was stored and announced.
    public var stored: Date
    public var fileName: String
    public var settings: ExposureSettings
    /// True when released externally rather than by an InitiateCapture request.
    public var external: Bool
}
