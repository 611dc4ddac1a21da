import Alignment
import Foundation
import Imaging
import PairVocabulary
import Review
import Rig

/// One measured pair of live-view frames: the views (the deep one with the mirror undone), the figures, and the
/// line printed for it.
struct LiveViewFrame {
    var shallow: RGBImage
    var deep: RGBImage
    var measurement: LiveViewMeasurement
    var overlay: LiveViewImages.Overlay

    var line: String {
        let m = measurement
        return String(format: "frame %d: shift %+.2f, %+.2f px  rotation %+.3f deg  scale %.4f  (correlation %.3f)",
                      m.frame, m.shiftX, m.shiftY, m.rotationDegrees, m.scale, m.correlation)
            + (m.sharpnessRatio.map { String(format: "  sharpness shallow/deep %.3f", $0) } ?? "")
    }

    /// What the --serve page shows: both views side by side and the chosen overlay as JPEG, the figures as JSON.
    func snapshot() throws -> LiveViewSnapshot {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return LiveViewSnapshot(frame: measurement.frame,
                                views: try JPEGFile.encode(LiveViewImages.sideBySide(shallow, deep).raster8(), quality: 85),
                                difference: try JPEGFile.encode(LiveViewImages.overlay(overlay, shallow, deep).raster8(), quality: 85),
                                overlay: overlay,
                                measurement: try encoder.encode(measurement))
    }
}

/// Fetches, registers and measures live-view frames of a connected rig; used by the printing loop and the
/// --serve thread alike.
struct LiveViewSession: Sendable {
    let rig: Rig
    let mirror: Mirror
    let sensor: SensorScale?
    var overlay: LiveViewImages.Overlay = .difference

    var registration = LiveViewRegistration()

    func measure(frame n: Int) throws -> LiveViewFrame {
        let shallow = try RigLiveView.frame(rig.shallow)
        let deep = LiveViewImages.flipped(try RigLiveView.frame(rig.deep), mirror)
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
}

/// How live-view pixels become full-sensor pixels: the full image width over the live view's width, the full
/// width from `--sensor-width` or else from what a camera says of its image size.
struct SensorScale: Sendable, Equatable {
    /// Full image width in pixels.
    var width: Int
    /// The camera whose live view `width` belongs to (nil: `--sensor-width`, applied to the shallow view).
    var role: CameraRole?
    /// Said in liveview.json and printed once: "--sensor-width", "deep camera's imagesize 1200x800".
    var source: String

    func factor(shallow: RGBImage, deep: RGBImage) -> Double {
        Double(width) / Double(role == .deep ? deep.width : shallow.width)
    }

    /// `--sensor-width` when given; else the deep camera's image size (the shift is measured in the deep view), then
    /// the shallow camera's. libgphoto2 2.5.30 drops the Nikon live-view header (which carries the sensor's size)
    /// before handing the JPEG over, so the `imagesize` entry is what a body can tell; a Canon EOS has none.
    static func resolve(rig: Rig, override: Int?) -> SensorScale? {
        if let override { return SensorScale(width: override, role: nil, source: "--sensor-width") }
        for camera in [rig.deep, rig.shallow] {
            if let size = camera.imageSize() {
                return SensorScale(width: size.width, role: camera.role, source: "\(camera.role) camera's imagesize \(size.width)x\(size.height)")
            }
        }
        return nil
    }

    static func note(_ scale: SensorScale?) -> String {
        scale.map { "offsets in full-sensor pixels (\($0.source))" }
            ?? "offsets in live-view pixels: neither camera reports its image size (give --sensor-width for sensor pixels)"
    }
}
