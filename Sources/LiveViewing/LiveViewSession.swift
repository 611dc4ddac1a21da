import Alignment
import Foundation
import Imaging
import PairVocabulary
import Rig

/// One measured pair of live-view frames: the views (the deep one with the mirror undone), the figures, and the
/// line printed for it.
public struct LiveViewFrame: Sendable {
    public var shallow: RGBImage
    public var deep: RGBImage
    public var measurement: LiveViewMeasurement
    public var overlay: LiveViewImages.Overlay

    public init(shallow: RGBImage, deep: RGBImage, measurement: LiveViewMeasurement, overlay: LiveViewImages.Overlay) {
        self.shallow = shallow
        self.deep = deep
        self.measurement = measurement
        self.overlay = overlay
    }

    /// The line `rigctl rig liveview` prints for the frame. A registration too weak to mean anything is explained,
    /// not printed as an offset a person would turn the splitter's screws by.
    public var line: String {
        let m = measurement
        guard m.correlation >= MirrorProbe.meaningfulCorrelation else {
            return String(format: "frame %d: no reliable offset (correlation %.3f, at least %.1f needed): the views do not "
                          + "register - check the mirror (alignment.mirror in the rig file), that both cameras see the "
                          + "same scene, and focus", m.frame, m.correlation, MirrorProbe.meaningfulCorrelation)
        }
        return String(format: "frame %d: shift %+.2f, %+.2f px  rotation %+.3f deg  scale %.4f  (correlation %.3f)",
                      m.frame, m.shiftX, m.shiftY, m.rotationDegrees, m.scale, m.correlation)
            + (m.sharpnessRatio.map { String(format: "  sharpness shallow/deep %.3f", $0) } ?? "")
    }
}

/// Fetches, registers and measures live-view frames of a connected rig; used by the printing loop and the
/// --serve thread alike.
public struct LiveViewSession: Sendable {
    public let rig: Rig
    public let mirror: Mirror
    public let sensor: SensorScale?
    public var overlay: LiveViewImages.Overlay

    public init(rig: Rig, mirror: Mirror, sensor: SensorScale?, overlay: LiveViewImages.Overlay = .difference) {
        self.rig = rig
        self.mirror = mirror
        self.sensor = sensor
        self.overlay = overlay
    }

    public var registration = LiveViewRegistration()

    public func measure(frame n: Int) throws -> LiveViewFrame {
        let shallow = try Self.frame(rig.shallow)
        let deep = LiveViewImages.flipped(try Self.frame(rig.deep), mirror)
        let result = try registration.register(source: shallow, target: deep)
        var m = LiveViewMeasurement(result.homography, width: shallow.width, height: shallow.height, frame: n,
                                    sensorScale: sensor?.factor(shallow: shallow, deep: deep) ?? 1, correlation: result.correlation)
        m.sensorScaleSource = sensor?.source
        let a = LiveViewFocus.sharpness(shallow), b = LiveViewFocus.sharpness(deep)
        m.shallowSharpness = a
        m.deepSharpness = b
        m.sharpnessRatio = b > 0 ? a / b : nil
        return LiveViewFrame(shallow: shallow, deep: deep, measurement: m, overlay: overlay)
    }

    /// One live-view frame of a camera, decoded; a frame that is not a JPEG is that camera's error.
    public static func frame(_ camera: RigCamera) throws -> RGBImage {
        let data = try camera.capturePreview()
        guard ImageFormat.sniff(data) == .jpeg else {
            throw RigError.camera(CameraFailure(role: camera.role, camera: camera.label, stage: .liveView,
                                                reason: "its live-view frame is not a JPEG (\(data.count) bytes)"))
        }
        return RGBImage(raster: try JPEGFile.decode(data, path: "\(camera.label) live view"))
    }
}

/// How live-view pixels become full-sensor pixels: the full image width over the live view's width, the full
/// width from `--sensor-width` or else from what a camera says of its image size.
public struct SensorScale: Sendable, Equatable {
    /// Full image width in pixels.
    public var width: Int
    /// The camera whose live view `width` belongs to (nil: `--sensor-width`, applied to the shallow view).
    public var role: CameraRole?
    /// Said in liveview.json and printed once: "--sensor-width", "deep camera's imagesize 1200x800".
    public var source: String

    public init(width: Int, role: CameraRole?, source: String) {
        self.width = width
        self.role = role
        self.source = source
    }

    public func factor(shallow: RGBImage, deep: RGBImage) -> Double {
        Double(width) / Double(role == .deep ? deep.width : shallow.width)
    }

    /// `--sensor-width` when given; else the deep camera's image size (the shift is measured in the deep view), then
    /// the shallow camera's. libgphoto2 2.5.30 drops the Nikon live-view header (which carries the sensor's size)
    /// before handing the JPEG over, so the `imagesize` entry is what a body can tell; a Canon EOS has none.
    public static func resolve(rig: Rig, override: Int?) -> SensorScale? {
        if let override { return SensorScale(width: override, role: nil, source: "--sensor-width") }
        for camera in [rig.deep, rig.shallow] {
            if let size = camera.imageSize() {
                return SensorScale(width: size.width, role: camera.role, source: "\(camera.role) camera's imagesize \(size.width)x\(size.height)")
            }
        }
        return nil
    }

    public static func note(_ scale: SensorScale?) -> String {
        scale.map { "offsets in full-sensor pixels (\($0.source))" }
            ?? "offsets in live-view pixels: neither camera reports its image size (give --sensor-width for sensor pixels)"
    }
}
