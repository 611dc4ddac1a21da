import Alignment
import ArgumentParser
import Foundation
import Imaging
import PairVocabulary
import Review
import Rig
import ThreadSupport

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
    /// Focus: `LiveViewFocus.sharpness` of each view (mirror undone) and their ratio, shallow over deep (nil when
    /// the deep view is flat).
    var shallowSharpness: Double?
    var deepSharpness: Double?
    var sharpnessRatio: Double?
}

/// A focus-difference estimate from two live-view frames: how much fine detail each view holds, independent of
/// its brightness and contrast.
enum LiveViewFocus {
    /// Mean squared Laplacian of the luminance over the luminance's variance, in the central half of the frame
    /// (where the two views overlap whatever the splitter's misalignment). A blurred view loses its high
    /// frequencies first, so the figure falls with defocus; dividing by the variance cancels exposure, white
    /// balance and contrast differences between the bodies. 0 for a flat frame.
    static func sharpness(_ image: RGBImage) -> Double {
        let w = image.width, h = image.height
        let x0 = w / 4, x1 = max(x0 + 3, w - w / 4), y0 = h / 4, y1 = max(y0 + 3, h - h / 4)
        guard w >= 3, h >= 3 else { return 0 }
        func luma(_ x: Int, _ y: Int) -> Double {
            0.2126 * Double(image[0, x, y]) + 0.7152 * Double(image[1, x, y]) + 0.0722 * Double(image[2, x, y])
        }
        var sum = 0.0, sumSquares = 0.0, energy = 0.0, count = 0.0
        for y in max(1, y0)..<min(h - 1, y1) {
            for x in max(1, x0)..<min(w - 1, x1) {
                let v = luma(x, y)
                let laplacian = 4 * v - luma(x - 1, y) - luma(x + 1, y) - luma(x, y - 1) - luma(x, y + 1)
                sum += v
                sumSquares += v * v
                energy += laplacian * laplacian
                count += 1
            }
        }
        guard count > 0 else { return 0 }
        let variance = sumSquares / count - (sum / count) * (sum / count)
        return variance > 1e-12 ? energy / count / variance : 0
    }
}

struct RigLiveView: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "liveview",
        abstract: "Stream both cameras' live views, register them and report the splitter's misalignment.",
        discussion: """
            Per frame: both live views are fetched (Canon EOS viewfinder, Nikon live view), the deep one is flipped \
            back by the rig file's mirror, registered onto the shallow one by the Alignment module, and the shift, \
            rotation and scale between them are printed in full-sensor pixels (--sensor-width gives the full width; \
            by default the frames' own pixels are reported), with each view's sharpness and their ratio (the \
            focus difference). With --out, each frame's views side by side and a difference overlay are written as \
            PNGs, and liveview.json records every measurement. With --serve, a page on 127.0.0.1 shows the views, \
            the overlay and the figures as frames arrive, until Ctrl-C (--frames then limits the frames taken).
            """
    )

    @Option(help: "The rig file (JSON, see docs/rig.md).")
    var rig: String

    @Option(help: "Folder for the side-by-side and overlay PNGs and liveview.json.")
    var out: String?

    @Option(help: "Number of frames (default 5; with --serve, until Ctrl-C).")
    var frames: Int?

    @Flag(help: "Show the live views and figures in a browser page on 127.0.0.1 (loopback only).")
    var serve = false

    @Option(help: "Port of the --serve page (0: any free port).")
    var port: Int = 8418

    @Option(name: .customLong("sensor-width"), help: "Full sensor width in pixels, to report offsets in sensor pixels.")
    var sensorWidth: Int?

    @OptionGroup var debugLog: DebugLogOption

    func validate() throws {
        if let frames, frames < 1 { throw ValidationError("--frames must be at least 1") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
        if serve && out != nil { throw ValidationError("--out and --serve: choose one") }
        if let w = sensorWidth, w < 16 { throw ValidationError("--sensor-width must be at least 16") }
    }

    func run() async throws {
        if serve {
            try await runServing()
            return
        }
        try reportingErrors { try debugLog.around {
            let file = try RigFile.load(URL(fileURLWithPath: rig))
            let connected = try Rig(file: file, library: try GPhotoLibrary())
            defer { connected.close() }
            let folder = out.map { URL(fileURLWithPath: $0) }
            if let folder { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
            let session = LiveViewSession(rig: connected, mirror: Self.mirror(of: file), sensorWidth: sensorWidth)
            var measurements: [LiveViewMeasurement] = []
            for n in 1...(frames ?? 5) {
                let frame = try session.measure(frame: n)
                measurements.append(frame.measurement)
                print(frame.line)
                if let folder {
                    let stem = String(format: "frame%03d", n)
                    try PNGFile.write(Self.sideBySide(frame.shallow, frame.deep), to: folder.appendingPathComponent(stem + "-views.png"))
                    try PNGFile.write(Self.difference(frame.shallow, frame.deep), to: folder.appendingPathComponent(stem + "-difference.png"))
                }
            }
            if let folder {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                try encoder.encode(measurements).write(to: folder.appendingPathComponent("liveview.json"), options: .atomic)
            }
        } }
    }

    /// `--serve`: the first frame is measured before the page is served (so it never opens empty), the rest on a
    /// thread of their own while the server answers; Ctrl-C or SIGTERM stops both.
    func runServing() async throws {
        let log = try reportingErrors { try debugLog.verbose.map { try GPhotoDebugLog(path: $0) } }
        let (connected, session, feed) = try reportingErrors { () throws -> (Rig, LiveViewSession, LiveViewFeed) in
            let file = try RigFile.load(URL(fileURLWithPath: rig))
            let connected = try Rig(file: file, library: try GPhotoLibrary())
            let session = LiveViewSession(rig: connected, mirror: Self.mirror(of: file), sensorWidth: sensorWidth)
            let feed = LiveViewFeed()
            do {
                let first = try session.measure(frame: 1)
                print(first.line)
                feed.publish(try first.snapshot())
            } catch {
                connected.close()
                log?.stop()
                throw error
            }
            return (connected, session, feed)
        }
        let stop = LockedValue(false)
        let limit = frames
        let grabber = try JoinableThread(name: "liveview") {
            var n = 2
            while !stop.value, limit.map({ n <= $0 }) ?? true {
                do {
                    let frame = try session.measure(frame: n)
                    // Published before its line is printed: a frame that is printed is on the page.
                    feed.publish(try frame.snapshot())
                    print(frame.line)
                    fflush(nil)
                } catch {
                    // A camera that fails once (busy, a dropped frame) is tried again; the page shows why.
                    feed.fail("frame \(n): \(error)")
                    FileHandle.standardError.write(Data("rigctl: frame \(n): \(error)\n".utf8))
                    Thread.sleep(forTimeInterval: 0.5)
                }
                n += 1
            }
        }
        defer {
            stop.withLock { $0 = true }
            grabber.join()
            connected.close()
            log?.stop()
        }
        do {
            try await LiveViewServer(feed: feed, port: port).run(stopOnSignals: true) { url in
                print("rigctl rig liveview: serving at \(url)\nrigctl rig liveview: Ctrl-C stops")
                fflush(nil)  // the address must reach a pipe at once, not at exit
            }
        } catch {
            FileHandle.standardError.write(Data("rigctl: error: cannot serve on 127.0.0.1:\(port): \(error)\n".utf8))
            throw ExitCode(ExitStatus.failure)
        }
    }

    static func mirror(of file: RigFile) -> Mirror {
        if case .object(let o)? = file.alignment, case .string(let m)? = o["mirror"] { return Mirror(rawValue: m) ?? .none }
        return .none
    }

    static func frame(_ camera: RigCamera) throws -> RGBImage {
        let data = try camera.capturePreview()
        guard ImageFormat.sniff(data) == .jpeg else {
            throw RigError.camera(CameraFailure(role: camera.role, camera: camera.label, stage: .liveView,
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
                                   correlation: correlation, liveViewWidth: width, liveViewHeight: height, sensorScale: sensorScale,
                                   shallowSharpness: nil, deepSharpness: nil, sharpnessRatio: nil)
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
