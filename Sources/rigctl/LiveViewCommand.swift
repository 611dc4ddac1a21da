import Alignment
import ArgumentParser
import AtomicFiles
import Foundation
import Imaging
import LiveViewing
import PairVocabulary
import Rig
import ThreadSupport
import WebServing

struct RigLiveView: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "liveview",
        abstract: "Stream both cameras' live views, register them and report the splitter's misalignment.",
        discussion: """
            Per frame: both live views are fetched (Canon EOS viewfinder, Nikon live view), the deep one is flipped \
            back by the rig file's mirror, registered onto the shallow one by the Alignment module, and the shift, \
            rotation and scale between them are printed in full-sensor pixels (the full width from the deep or else the \
            shallow camera's image size, or --sensor-width, which overrides it; live-view pixels when neither is known), with each view's sharpness and their ratio (the \
            focus difference). With --out, each frame's views side by side and an overlay (--overlay) are written as \
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

    @Option(name: .customLong("sensor-width"), help: "Full sensor width in pixels (default: from the cameras' image size), to report offsets in sensor pixels.")
    var sensorWidth: Int?

    @Option(help: "The overlay image: difference (|shallow - deep| x4) or checkerboard (tiles of each view).")
    var overlay: LiveViewImages.Overlay = .difference

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
            let sensor = SensorScale.resolve(rig: connected, override: sensorWidth)
            print(SensorScale.note(sensor))
            let session = LiveViewSession(rig: connected, mirror: Self.measuringMirror(file: file, rig: connected),
                                          sensor: sensor, overlay: overlay)
            var measurements: [LiveViewMeasurement] = []
            for n in 1...(frames ?? 5) {
                let frame = try session.measure(frame: n)
                measurements.append(frame.measurement)
                print(frame.line)
                if let folder {
                    let stem = String(format: "frame%03d", n)
                    try PNGFile.write(LiveViewImages.sideBySide(frame.shallow, frame.deep), to: folder.appendingPathComponent(stem + "-views.png"))
                    try PNGFile.write(LiveViewImages.overlay(overlay, frame.shallow, frame.deep),
                                      to: folder.appendingPathComponent(stem + "-\(overlay.rawValue).png"))
                }
            }
            if let folder {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                try AtomicFile.write(try encoder.encode(measurements), to: folder.appendingPathComponent("liveview.json"))
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
            let sensor = SensorScale.resolve(rig: connected, override: sensorWidth)
            print(SensorScale.note(sensor))
            let session = LiveViewSession(rig: connected, mirror: Self.measuringMirror(file: file, rig: connected),
                                          sensor: sensor, overlay: overlay)
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
            let reason = ListenFailure(error)?.explanation(host: "127.0.0.1", port: port) ?? "\(error)"
            FileHandle.standardError.write(Data("rigctl: error: cannot serve on 127.0.0.1:\(port): \(reason)\n".utf8))
            throw ExitCode(ExitStatus.failure)
        }
    }

    static func mirror(of file: RigFile) -> Mirror? { file.alignment?.mirror }

    /// The mirror to measure with: the rig file's, unless the live views clearly register with another one, which
    /// is then used and the file's named as wrong (a reading taken with the wrong mirror is a false one).
    static func measuringMirror(file: RigFile, rig connected: Rig) -> Mirror {
        let configured = mirror(of: file)
        guard let finding = try? MirrorProbe().find(rig: connected) else { return configured ?? .none }
        if finding.isCertain, finding.mirror != (configured ?? .none) {
            note("the live views register with \(finding.description), but the rig file says "
                 + (configured.map { "mirror \($0.rawValue)" } ?? "no mirror") + "; measuring with mirror \(finding.mirror.rawValue). "
                 + "Set \"alignment\": {\"mirror\": \"\(finding.mirror.rawValue)\"} in the rig file, or every pair will be rejected")
            return finding.mirror
        }
        return configured ?? .none
    }
}

extension LiveViewImages.Overlay: ExpressibleByArgument {}
