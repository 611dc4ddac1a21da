import Alignment
import Foundation
import Imaging
import Review
import Rig

/// One measured pair of live-view frames: the views (the deep one with the mirror undone), the figures, and the
/// line printed for it.
struct LiveViewFrame {
    var shallow: RGBImage
    var deep: RGBImage
    var measurement: LiveViewMeasurement

    var line: String {
        let m = measurement
        return String(format: "frame %d: shift %+.2f, %+.2f px  rotation %+.3f deg  scale %.4f  (correlation %.3f)",
                      m.frame, m.shiftX, m.shiftY, m.rotationDegrees, m.scale, m.correlation)
            + (m.sharpnessRatio.map { String(format: "  sharpness shallow/deep %.3f", $0) } ?? "")
    }

    /// What the --serve page shows: both views side by side and the difference overlay as JPEG, the figures as JSON.
    func snapshot() throws -> LiveViewSnapshot {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return LiveViewSnapshot(frame: measurement.frame,
                                views: try JPEGFile.encode(RigLiveView.sideBySide(shallow, deep).raster8(), quality: 85),
                                difference: try JPEGFile.encode(RigLiveView.difference(shallow, deep).raster8(), quality: 85),
                                measurement: try encoder.encode(measurement))
    }
}

/// Fetches, registers and measures live-view frames of a connected rig; used by the printing loop and the
/// --serve thread alike.
struct LiveViewSession: Sendable {
    let rig: Rig
    let mirror: Mirror
    let sensorWidth: Int?

    func measure(frame n: Int) throws -> LiveViewFrame {
        let shallow = try RigLiveView.frame(rig.shallow)
        var deep = try RigLiveView.frame(rig.deep)
        if mirror != .none { deep = RigLiveView.flipped(deep, mirror) }
        let result = try Aligner(AlignerOptions()).align(source: shallow, target: deep)
        let scale = sensorWidth.map { Double($0) / Double(shallow.width) } ?? 1
        var m = RigLiveView.measure(result.homography, width: shallow.width, height: shallow.height, frame: n,
                                    sensorScale: scale, correlation: result.quality.registrationCorrelation)
        let a = LiveViewFocus.sharpness(shallow), b = LiveViewFocus.sharpness(deep)
        m.shallowSharpness = a
        m.deepSharpness = b
        m.sharpnessRatio = b > 0 ? a / b : nil
        return LiveViewFrame(shallow: shallow, deep: deep, measurement: m)
    }
}
