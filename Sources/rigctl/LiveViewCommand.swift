import Alignment
import ArgumentParser
import Foundation
import Imaging
import PairVocabulary
import Rig

/// Shift, rotation and scale of the deep camera's view against the shallow one's, from one pair of live-view
/// frames: what a person turns the beam splitter's screws against.
struct LiveViewMeasurement: Codable {
    var frame: Int
    /// Where the shallow frame's centre lands in the deep frame (mirror undone), in full-sensor pixels.
    var shiftX: Double
    var shiftY: Double
    /// Degrees, positive counter-clockwise in x-right/y-up terms (clockwise on screen).
    var rotationDegrees: Double
    var scale: Double
    /// Registration correlation (1 is a perfect match).
    var correlation: Double
    /// Live-view frame size and the factor to full-sensor pixels.
    var liveViewWidth: Int
    var liveViewHeight: Int
    var sensorScale: Double
}

struct RigLiveView: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "liveview",
        abstract: "Stream both cameras' live views, register them and report the splitter's misalignment.",
        discussion: """
            Per frame: both live views are fetched (Canon EOS viewfinder, Nikon live view), the deep one is flipped \
            back by the rig file's mirror, registered onto the shallow one by the Alignment module, and the shift, \
            rotation and scale between them are printed in full-sensor pixels (--sensor-width gives the full width; \
            by default the frames' own pixels are reported). With --out, each frame's views side by side and a \
            difference overlay are written as PNGs, and liveview.json records every measurement.
            """
    )

    @Option(help: "The rig file (JSON, see docs/rig.md).")
    var rig: String

    @Option(help: "Folder for the side-by-side and overlay PNGs and liveview.json.")
    var out: String?

    @Option(help: "Number of frames.")
    var frames: Int = 5

    @Option(name: .customLong("sensor-width"), help: "Full sensor width in pixels, to report offsets in sensor pixels.")
    var sensorWidth: Int?

    @OptionGroup var debugLog: DebugLogOption

    func validate() throws {
        guard frames >= 1 else { throw ValidationError("--frames must be at least 1") }
        if let w = sensorWidth, w < 16 { throw ValidationError("--sensor-width must be at least 16") }
    }

    func run() throws {
        try reportingErrors { try debugLog.around {
            let file = try RigFile.load(URL(fileURLWithPath: rig))
            let mirror = Self.mirror(of: file)
            let connected = try Rig(file: file, library: try GPhotoLibrary())
            defer { connected.close() }
            let folder = out.map { URL(fileURLWithPath: $0) }
            if let folder { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
            var options = AlignerOptions()
            let aligner = Aligner(options)
            var measurements: [LiveViewMeasurement] = []
            for n in 1...frames {
                let shallow = try Self.frame(connected.shallow)
                var deep = try Self.frame(connected.deep)
                if mirror != .none { deep = Self.flipped(deep, mirror) }
                let result = try aligner.align(source: shallow, target: deep)
                let scale = sensorWidth.map { Double($0) / Double(shallow.width) } ?? 1
                let m = Self.measure(result.homography, width: shallow.width, height: shallow.height, frame: n,
                                     sensorScale: scale, correlation: result.quality.registrationCorrelation)
                measurements.append(m)
                print(String(format: "frame %d: shift %+.2f, %+.2f px  rotation %+.3f deg  scale %.4f  (correlation %.3f)",
                             n, m.shiftX, m.shiftY, m.rotationDegrees, m.scale, m.correlation))
                if let folder {
                    let stem = String(format: "frame%03d", n)
                    try PNGFile.write(Self.sideBySide(shallow, deep), to: folder.appendingPathComponent(stem + "-views.png"))
                    try PNGFile.write(Self.difference(shallow, deep), to: folder.appendingPathComponent(stem + "-difference.png"))
                }
            }
            if let folder {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                try encoder.encode(measurements).write(to: folder.appendingPathComponent("liveview.json"), options: .atomic)
            }
        } }
    }

    static func mirror(of file: RigFile) -> Mirror {
        if case .object(let o)? = file.alignment, case .string(let m)? = o["mirror"] { return Mirror(rawValue: m) ?? .none }
        return .none
    }

    static func frame(_ camera: RigCamera) throws -> RGBImage {
        let data = try camera.capturePreview()
        guard ImageFormat.sniff(data) == .jpeg else {
            throw RigError.camera(CameraFailure(role: camera.role, camera: camera.label, stage: .reading,
                                                reason: "its live-view frame is not a JPEG (\(data.count) bytes)"))
        }
        return RGBImage(raster: try JPEGFile.decode(data, path: "\(camera.label) live view"))
    }

    /// The shallow frame's centre and a unit step right of it, carried into the deep frame.
    static func measure(_ h: Homography, width: Int, height: Int, frame: Int, sensorScale: Double, correlation: Double) -> LiveViewMeasurement {
        let cx = Double(width - 1) / 2, cy = Double(height - 1) / 2, r = Double(width) / 4
        let c = h.apply(cx, cy), e = h.apply(cx + r, cy)
        let dx = e.x - c.x, dy = e.y - c.y
        return LiveViewMeasurement(frame: frame, shiftX: (c.x - cx) * sensorScale, shiftY: (c.y - cy) * sensorScale,
                                   rotationDegrees: atan2(dy, dx) * 180 / .pi, scale: (dx * dx + dy * dy).squareRoot() / r,
                                   correlation: correlation, liveViewWidth: width, liveViewHeight: height, sensorScale: sensorScale)
    }

    static func flipped(_ image: RGBImage, _ mirror: Mirror) -> RGBImage {
        var out = image
        let w = image.width, h = image.height
        for ch in 0..<3 {
            for y in 0..<h {
                for x in 0..<w {
                    let sx = mirror == .horizontal ? w - 1 - x : x, sy = mirror == .vertical ? h - 1 - y : y
                    out[ch, x, y] = image[ch, sx, sy]
                }
            }
        }
        return out
    }

    static func sideBySide(_ a: RGBImage, _ b: RGBImage) -> RGBImage {
        let h = max(a.height, b.height)
        var out = RGBImage(width: a.width + b.width, height: h, transfer: a.transfer)
        for ch in 0..<3 {
            for y in 0..<a.height { for x in 0..<a.width { out[ch, x, y] = a[ch, x, y] } }
            for y in 0..<b.height { for x in 0..<b.width { out[ch, a.width + x, y] = b[ch, x, y] } }
        }
        return out
    }

    /// |shallow - deep| per channel, brightened: edges that do not line up show as bright fringes.
    static func difference(_ a: RGBImage, _ b: RGBImage) -> RGBImage {
        let w = min(a.width, b.width), h = min(a.height, b.height)
        var out = RGBImage(width: w, height: h, transfer: a.transfer)
        for ch in 0..<3 { for y in 0..<h { for x in 0..<w { out[ch, x, y] = min(1, 4 * abs(a[ch, x, y] - b[ch, x, y])) } } }
        return out
    }
}
