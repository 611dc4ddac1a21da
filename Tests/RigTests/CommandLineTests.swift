import TestSupport
import Foundation
import Imaging
import PairVocabulary
import Rig
import Testing
import ThreadSupport
#if canImport(Glibc)
import Glibc
#endif

/// `rigctl virtual-rig`, `rigctl rig check` and `rigctl capture` as a user runs them, with a fresh HOME.
@Suite struct CommandLineTests {
    /// The rigctl executable built next to the test bundle (`swift build --build-tests` builds both).
    func rigctlExecutable() throws -> String {
        guard let url = locateProduct("rigctl") else {
            throw CLITestError("the rigctl executable was not found: build it with `swift build --build-tests`")
        }
        return url.path
    }

    struct CLITestError: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    @Test func virtualRigCheckAndCaptureFromTheCommandLine() async throws {
        let rigctl = try rigctlExecutable()
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let rig = try await startVirtualRig(rigctl, in: dir, arguments: ["--width", "320", "--height", "240", "--scene", "cards",
                                                                         "--fault", "deep:busy=1"])
        let (server, port, home, rigFile, log) = (rig.server, rig.port, rig.home, rig.rigFile, rig.log)
        defer {
            if server.isRunning { server.terminate() }
        }
        try #require(FileManager.default.fileExists(atPath: rigFile.path),
                     "virtual-rig wrote no rig file: \(String(decoding: (try? Data(contentsOf: log)) ?? Data(), as: UTF8.self))")
        let file = try RigFile.load(rigFile)
        #expect(file.camera(.shallow)?.port == "ptpip:127.0.0.1:\(port):\(port + 1)")
        #expect(file.camera(.deep)?.port == "ptpip:127.0.0.1:\(port + 2):\(port + 3)")
        #expect(file.alignment == AlignmentCalibration(mirror: .horizontal))

        let check = try await runTool(rigctl, ["rig", "check", "--rig", rigFile.path], home: home)
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("shallow camera on ptpip:127.0.0.1:\(port):\(port + 1)"), "\(check.output)")
        #expect(check.output.contains("aperture f/2 "), "\(check.output)")
        #expect(check.output.contains("aperture f/16 "), "\(check.output)")
        #expect(check.output.contains("Serial Number: VC-DEEP-0002"), "the summary is printed: \(check.output)")

        let out = dir.appendingPathComponent("pairs")
        let capture = try await runTool(rigctl, ["capture", "--rig", rigFile.path, "--out", out.path, "--count", "2"], home: home)
        #expect(capture.status == 0, "\(capture.output)")
        #expect(capture.output.contains("2 pair(s)"), "\(capture.output)")
        // The injected busy reply is retried, and the retry is logged (swift-log, standard error, level notice).
        #expect(capture.output.contains("camera busy, retrying"), "\(capture.output)")
        let names = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        #expect(names == ["0001.json", "0001_deep.dng", "0001_shallow.dng", "0002.json", "0002_deep.dng", "0002_shallow.dng"])
        #expect(try RawDecoder().decode(out.appendingPathComponent("0002_deep.dng")).image.width == 320)
        // The injected busy reply was retried once in the first pair.
        let first = try CapturedPair.load(sidecar: out.appendingPathComponent("0001.json"))
        #expect(first.deep.busyRetries == 1 && first.shallow.busyRetries == 0)

        let missing = try await runTool(rigctl, ["capture", "--rig", dir.appendingPathComponent("nope.json").path, "--out", out.path], home: home)
        #expect(missing.status == 2, "a missing rig file is bad input: \(missing.output)")
        #expect(missing.output.contains("nope.json"))

        // A generic PTP body has no live view: a failure naming the camera and what was asked of it.
        let live = try await runTool(rigctl, ["rig", "liveview", "--rig", rigFile.path, "--frames", "1"], home: home)
        #expect(live.status == 1, "\(live.output)")
        #expect(live.output.contains("shallow camera (ptpip:127.0.0.1:\(port):\(port + 1)) failed while reading its live view"),
                "\(live.output)")

        server.interrupt()
        let stopDeadline = Date().addingTimeInterval(10)
        while server.isRunning && Date() < stopDeadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!server.isRunning)
        #expect(server.terminationStatus == 0)
        let output = String(decoding: try Data(contentsOf: log), as: UTF8.self)
        #expect(output.contains("virtual rig stopped"), "\(output)")
    }

    /// A small card that keeps its files: `rig check` reckons from the camera's estimate (no shot yet), then
    /// `capture` prints after each pair the pairs that still fit at the current file size, and warns once when
    /// fewer than 50 are left.
    @Test func captureFollowsTheCardFillingUpAndWarnsOnce() async throws {
        let rigctl = try rigctlExecutable()
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // The camera estimates a frame at width x height x 2 + 4096 bytes: a card for 52 of them.
        let frame = 320 * 240 * 2 + 4096, capacity = 52 * frame
        let rig = try await startVirtualRig(rigctl, in: dir, arguments: ["--width", "320", "--height", "240",
                                                                         "--card-mb", String(Double(capacity) / 1e6)])
        let (server, home, rigFile) = (rig.server, rig.home, rig.rigFile)
        defer { if server.isRunning { server.terminate() } }
        var file = try RigFile.load(rigFile)
        file.keepOnCamera = true
        try file.encoded().write(to: rigFile)

        let check = try await runTool(rigctl, ["rig", "check", "--rig", rigFile.path, "--brief", "--json"], home: home)
        #expect(check.status == 0, "\(check.output)")
        let report = try JSONDecoder().decode(PreflightReport.self, from: Data(check.output.utf8))
        #expect(report.pairsThatFit == 52 && report.pairsThatFitBasis == .cameraEstimate, "\(check.output)")
        let text = try await runTool(rigctl, ["rig", "check", "--rig", rigFile.path, "--brief"], home: home)
        #expect(text.output.contains("pairs that fit: 52 (shallow camera, by the camera's own estimate)"), "\(text.output)")

        let out = dir.appendingPathComponent("pairs")
        let capture = try await runTool(rigctl, ["capture", "--rig", rigFile.path, "--out", out.path, "--count", "5"], home: home)
        #expect(capture.status == 0, "\(capture.output)")
        let lines = capture.output.split(separator: "\n").map(String.init)
        var figures: [Int] = []
        var used = [0, 0]
        for n in 1...5 {
            let pair = try CapturedPair.load(sidecar: out.appendingPathComponent(String(format: "%04d.json", n)))
            used[0] += pair.shallow.bytes
            used[1] += pair.deep.bytes
            // Free space as libgphoto2 reports it (whole KiB) over the latest shot's bytes, the smaller camera's.
            let fits = zip(used, [pair.shallow.bytes, pair.deep.bytes]).map { u, b in (capacity - u) / 1024 * 1024 / b }
            figures.append(fits.min()!)
            let line = try #require(lines.first { $0.hasPrefix("pair \(n): ") }, "\(capture.output)")
            #expect(line.hasSuffix(", \(figures.last!) more pair(s) fit"), "\(line)")
        }
        #expect(figures.first! >= 50 && figures.last! < 50, "the test's card must be crossed: \(figures)")
        let warnings = lines.filter { $0.contains("more pair(s) fit on the cards") }
        let low = figures.first { $0 < 50 }!
        #expect(warnings.count == 1 && warnings[0].contains("only \(low) more pair(s) fit on the cards"), "\(capture.output)")
        #expect(warnings.first?.hasPrefix("rigctl: warning: ") == true)
        server.interrupt()
    }

    /// The whole mission from the command line: a virtual rig, pairs captured into a dataset (catalogued,
    /// aligned, scored as they arrive), evaluated from the catalogue, and exported as a test set.
    @Test func captureIntoADatasetEvaluateAndExport() async throws {
        let rigctl = try rigctlExecutable()
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let rig = try await startVirtualRig(rigctl, in: dir, arguments: ["--width", "480", "--height", "320"])
        let (server, home, rigFile) = (rig.server, rig.home, rig.rigFile)
        defer { if server.isRunning { server.terminate() } }
        let dataset = dir.appendingPathComponent("ds").path
        let capture = try await runTool(rigctl, ["capture", "--rig", rigFile.path, "--dataset", dataset, "--scene", "planes",
                                                 "--count", "2", "--split", "test", "--no-model", "--init"], home: home)
        #expect(capture.status == 0, "\(capture.output)")
        #expect(capture.output.contains("2 pair(s) processed"), "\(capture.output)")
        #expect(capture.output.contains("2 accepted"), "\(capture.output)")

        let evaluate = try await runTool(rigctl, ["evaluate", "--dataset", dataset, "--format", "csv"], home: home)
        #expect(evaluate.status == 0, "\(evaluate.output)")
        #expect(evaluate.output.contains("Input,2,"))
        let export = try await runTool(rigctl, ["export", "--dataset", dataset, "--out", dir.appendingPathComponent("testset").path], home: home)
        #expect(export.status == 0, "\(export.output)")
        let sources = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("testset/source").path)
        #expect(sources.count == 2)
        let verify = try await runTool(rigctl, ["dataset", "verify", "--dataset", dataset], home: home)
        #expect(verify.status == 0 && verify.output.contains("consistent"), "\(verify.output)")
        // Nothing is waiting: `process` finds no work.
        let process = try await runTool(rigctl, ["process", "--dataset", dataset, "--no-model"], home: home)
        #expect(process.status == 0 && process.output.contains("0 pair(s) processed"), "\(process.output)")

        // Without --split a pair joins the side its scene is on; a new scene's pair has no split yet, and the
        // capture says so. `export --split all` takes every exportable pair, whatever its split.
        let same = try await runTool(rigctl, ["capture", "--rig", rigFile.path, "--dataset", dataset, "--scene", "planes",
                                              "--count", "1", "--no-model"], home: home)
        #expect(same.status == 0 && !same.output.contains("no split yet"), "\(same.output)")
        let new = try await runTool(rigctl, ["capture", "--rig", rigFile.path, "--dataset", dataset, "--scene", "desk",
                                             "--count", "1", "--no-model"], home: home)
        #expect(new.status == 0 && new.output.contains("1 pair(s) have no split yet"), "\(new.output)")
        let test = try await runTool(rigctl, ["export", "--dataset", dataset, "--out", dir.appendingPathComponent("test3").path], home: home)
        #expect(test.status == 0 && test.output.contains("exported 3 pairs"), "\(test.output)")
        let all = try await runTool(rigctl, ["export", "--dataset", dataset, "--out", dir.appendingPathComponent("all").path,
                                             "--split", "all"], home: home)
        #expect(all.status == 0 && all.output.contains("exported 4 pairs"), "\(all.output)")
    }

    /// Ctrl-C during a capture into a dataset: the pair in hand is finished, the rest waits for `rigctl process`,
    /// and the catalogue stays consistent.
    @Test func interruptingACaptureLosesNothing() async throws {
        let rigctl = try rigctlExecutable()
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let rig = try await startVirtualRig(rigctl, in: dir, arguments: ["--width", "320", "--height", "240"])
        let (server, home, rigFile) = (rig.server, rig.home, rig.rigFile)
        defer { if server.isRunning { server.terminate() } }
        let dataset = dir.appendingPathComponent("ds").path
        let capture = Process()
        capture.executableURL = URL(fileURLWithPath: rigctl)
        capture.arguments = ["capture", "--rig", rigFile.path, "--dataset", dataset, "--scene", "planes", "--count", "50",
                             "--interval", "0.3", "--no-model", "--init"]
        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = home.path
        capture.environment = environment
        let pipe = Pipe()
        capture.standardOutput = pipe
        capture.standardError = pipe
        let output = try await ProcessSlots.shared.withSlot {
            try capture.run()
            // Interrupt once the catalogue exists and a pair has been taken.
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline && capture.isRunning
                && !FileManager.default.fileExists(atPath: dataset + "/originals") { try await Task.sleep(for: .milliseconds(50)) }
            try await Task.sleep(for: .seconds(1))
            capture.interrupt()
            return String(decoding: try await awaitExit(of: capture, reading: pipe), as: UTF8.self)
        }
        // Stopped, not finished: exit status 130 (after the clean stop, not a death by the signal).
        #expect(capture.terminationReason == .exit && capture.terminationStatus == 130, "\(output)")
        #expect(output.contains("stopping after the pair in hand"), "\(output)")
        let status = try await runTool(rigctl, ["dataset", "status", "--dataset", dataset], home: home)
        // "captures N, pairs M, ..."
        let captures = Int(status.output.split(separator: ",").first?.split(separator: " ").last ?? "") ?? 0
        #expect(captures >= 1 && captures < 50, "\(status.output)")
        let verify = try await runTool(rigctl, ["dataset", "verify", "--dataset", dataset], home: home)
        #expect(verify.status == 0 && verify.output.contains("consistent"), "\(verify.output)")
        // Whatever was captured but not processed is finished by `process`; then nothing waits.
        let process = try await runTool(rigctl, ["process", "--dataset", dataset, "--no-model"], home: home)
        #expect(process.status == 0, "\(process.output)")
        let after = try await runTool(rigctl, ["dataset", "status", "--dataset", dataset], home: home)
        #expect(after.output.contains("captures \(captures), pairs \(captures),"), "\(after.output)")
    }

    /// A Canon EOS shallow camera and a Nikon deep one from the command line: the rig file names their
    /// libgphoto2 drivers, `rig check --apply --json` reports the pre-flight, and pairs are captured.
    @Test func mixedVendorRigFromTheCommandLine() async throws {
        let rigctl = try rigctlExecutable()
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let rig = try await startVirtualRig(rigctl, in: dir, arguments: ["--width", "320", "--height", "240",
                                                                         "--vendor", "shallow=canon", "--vendor", "deep=nikon"])
        let (server, home, rigFile) = (rig.server, rig.home, rig.rigFile)
        defer { if server.isRunning { server.terminate() } }
        let file = try RigFile.load(rigFile)
        #expect(file.camera(.shallow)?.model == "Canon EOS (WLAN)" && file.camera(.deep)?.model == "Nikon DSLR (WLAN)")
        #expect(file.camera(.shallow)?.settings.focusDistance == nil && file.camera(.shallow)?.settings.focusMode == .manual)

        let check = try await runTool(rigctl, ["rig", "check", "--rig", rigFile.path, "--apply", "--json"], home: home)
        #expect(check.status == 0, "\(check.output)")
        let json = String(check.output.drop { $0 != "{" })
        let report = try JSONDecoder().decode(PreflightReport.self, from: Data(json.utf8))
        #expect(report.cameras.map(\.vendor) == [.canon, .nikon])
        #expect(report.cameras[0].applied.map(\.entry) == ["aperture", "shutterspeed", "iso", "focusmode"])
        #expect(report.cameras[1].applied.first?.readBack == "f/16")
        #expect(report.cameras.allSatisfy { $0.batteryPercent == 100 && $0.focusMode == "Manual" })
        // f/2 1/500 s ISO 100 against f/16 1/125 s ISO 1600: balanced to within a stop.
        #expect(abs((report.exposureDifferenceStops ?? 9)) < 1, "\(report)")
        // The virtual rig's file says its scenes are static: its own balanced defaults are not warned about.
        #expect(file.staticScenes && report.sameShutter == false, "\(report)")
        #expect(!report.warnings.contains { $0.message.contains("shutter") }, "\(report.warnings)")
        // The same rig without that statement: the warning, in one notation (the Nikon reports "0.0080s").
        var moving = file
        moving.staticScenes = false
        let movingFile = dir.appendingPathComponent("moving.rig.json")
        try moving.write(to: movingFile)
        let warned = try await runTool(rigctl, ["rig", "check", "--rig", movingFile.path, "--json"], home: home)
        let movingReport = try JSONDecoder().decode(PreflightReport.self, from: Data(String(warned.output.drop { $0 != "{" }).utf8))
        #expect(movingReport.warnings.contains { $0.message.contains("different shutter speeds (1/500 s and 1/125 s)") }, "\(movingReport.warnings)")

        let debugLog = dir.appendingPathComponent("gphoto2-debug.log")
        let text = try await runTool(rigctl, ["rig", "check", "--rig", rigFile.path, "--brief", "--verbose", debugLog.path], home: home)
        #expect(text.status == 0 && text.output.contains("(canon driver)") && text.output.contains("pre-flight: ready"), "\(text.output)")
        // --verbose: libgphoto2's own log, with the EOS event polls in it.
        #expect(String(decoding: try Data(contentsOf: debugLog), as: UTF8.self).contains("EOS_GetEvent"))

        // Identity: detect lists both bodies by port (PTP/IP cameras are opened, not detected); init writes a starter
        // file, and a serial that matches nothing lists what was found.
        let ports = [file.camera(.shallow)?.port ?? "", file.camera(.deep)?.port ?? ""]
        let detect = try await runTool(rigctl, ["rig", "detect", "--json", "--port", ports[0], "--port", ports[1]], home: home)
        #expect(detect.status == 0, "\(detect.output)")
        let detected = try JSONDecoder().decode([DetectedCamera].self, from: Data(String(detect.output.drop { $0 != "[" }).utf8))
        #expect(detected.map(\.driver) == ["Canon EOS (WLAN)", "Nikon DSLR (WLAN)"])
        #expect(detected.map(\.serialNumber) == ["VC-SHALLOW-0001", "VC-DEEP-0002"] && detected[0].battery == "100%")
        let starter = dir.appendingPathComponent("starter.json")
        let wrong = try await runTool(rigctl, ["rig", "init", "--port", ports[0], "--port", ports[1], "--shallow", "VC-SHALLOW-0001",
                                               "--deep", "NO-SUCH-SERIAL", "-o", starter.path], home: home)
        #expect(wrong.status == 2 && wrong.output.contains("NO-SUCH-SERIAL") && wrong.output.contains("serial VC-DEEP-0002"), "\(wrong.output)")
        let made = try await runTool(rigctl, ["rig", "init", "--port", ports[0], "--port", ports[1], "--shallow", "VC-SHALLOW-0001",
                                              "--deep", "VC-DEEP-0002", "-o", starter.path], home: home)
        #expect(made.status == 0, "\(made.output)")
        let initial = try RigFile.load(starter)
        #expect(initial.camera(.shallow)?.model == "Canon EOS (WLAN)" && initial.camera(.deep)?.port == ports[1])
        #expect(initial.camera(.deep)?.settings.aperture == 16 && initial.camera(.shallow)?.settings.shutter == 1.0 / 500)
        // The splitter's mirror, found from the live views (the virtual deep camera sees the scene mirrored).
        #expect(made.output.contains("wrote alignment.mirror horizontal"), "\(made.output)")
        let alignment = try #require(initial.alignment, "rig init wrote no alignment")
        #expect(alignment.mirror == .horizontal)
        // ... and the reference homography, measured between the live views and scaled to the photographs: with the
        // mirror undone, it puts the shallow frame's centre where the virtual rig's geometry does (deep camera
        // offset +3.5, -2.25 px, rotated 0.3 degrees, scale 1.004), within a pixel.
        #expect(made.output.contains("reference homography"), "\(made.output)")
        let frame = FrameSize(width: 320, height: 240)
        let reference = try #require(alignment.reference(source: frame, target: frame), "\(alignment)")
        let unmirrored = try Homography([-1, 0, Double(frame.width - 1), 0, 1, 0, 0, 0, 1]) * reference
        let cx = Double(frame.width - 1) / 2, cy = Double(frame.height - 1) / 2
        let centre = unmirrored.apply(cx, cy), step = unmirrored.apply(cx + 80, cy)
        let rotation = atan2(step.y - centre.y, step.x - centre.x) * 180 / .pi
        #expect(abs(centre.x - cx - 3.5) < 1 && abs(centre.y - cy + 2.25) < 1, "\(centre) \(alignment)")
        #expect(abs(rotation - 0.3) < 0.15, "\(rotation)")

        let out = dir.appendingPathComponent("pairs")
        let capture = try await runTool(rigctl, ["capture", "--rig", starter.path, "--out", out.path, "--count", "2"], home: home)
        #expect(capture.status == 0, "\(capture.output)")
        let names = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        #expect(names == ["0001.json", "0001_deep.dng", "0001_shallow.dng", "0002.json", "0002_deep.dng", "0002_shallow.dng"])
        let pair = try CapturedPair.load(sidecar: out.appendingPathComponent("0002.json"))
        #expect(pair.shallow.metadata.make == "Canon" && pair.deep.metadata.make == "Nikon")
        // `rigctl convert` says which body took each file, from the DNG's own Make/Model.
        for (role, file) in [("shallow", pair.shallow), ("deep", pair.deep)] {
            let png = dir.appendingPathComponent("\(role).png").path
            let converted = try await runTool(rigctl, ["convert", out.appendingPathComponent(file.fileName).path, png], home: home)
            #expect(converted.status == 0, "\(converted.output)")
            let m = file.metadata
            #expect(!m.model.isEmpty && !m.serialNumber.isEmpty, "\(m)")
            #expect(converted.output.contains("camera: \(m.make) \(m.model) #\(m.serialNumber), f/"), "\(converted.output)")
        }
        server.interrupt()
    }

    /// `rig liveview` on the virtual rig measures the deep camera's known offsets from the two live views.
    @Test func liveViewMeasuresTheVirtualRigsKnownOffsets() async throws {
        let rigctl = try rigctlExecutable()
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let rig = try await startVirtualRig(rigctl, in: dir, arguments: ["--width", "640", "--height", "400",
                                                                         "--vendor", "shallow=canon", "--vendor", "deep=nikon"])
        let (server, home, rigFile) = (rig.server, rig.home, rig.rigFile)
        defer { if server.isRunning { server.terminate() } }
        struct M: Decodable {
            var shiftX, shiftY, rotationDegrees, scale, sensorScale: Double
            var liveViewWidth: Int
            var sensorScaleSource: String?
        }
        // No --sensor-width: the Nikon (deep) says its image size (640x400), its live view is 320 wide, so offsets
        // are in full-sensor pixels, scaled by 2. The Canon says none through libgphoto2.
        let out = dir.appendingPathComponent("lv")
        let run = try await runTool(rigctl, ["rig", "liveview", "--rig", rigFile.path, "--out", out.path, "--frames", "2"], home: home)
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("offsets in full-sensor pixels (deep camera's imagesize 640x400)"), "\(run.output)")
        let measured = try JSONDecoder().decode([M].self, from: Data(contentsOf: out.appendingPathComponent("liveview.json")))
        #expect(measured.count == 2)
        // The deep camera: shifted (3.5, -2.25) px, rotated 0.3 degrees, 0.4 % larger (VirtualRig.configurations),
        // in full-frame pixels. Registered coarsely (at most 240 px across), measured within 0.05 px here.
        for m in measured {
            #expect(m.liveViewWidth == 320 && m.sensorScale == 2 && m.sensorScaleSource == "deep camera's imagesize 640x400")
            #expect(abs(m.shiftX - 3.5) < 0.5 && abs(m.shiftY + 2.25) < 0.5, "shift \(m.shiftX), \(m.shiftY)")
            #expect(abs(m.rotationDegrees - 0.3) < 0.05, "rotation \(m.rotationDegrees)")
            #expect(abs(m.scale - 1.004) < 0.002, "scale \(m.scale)")
        }
        for name in ["frame001-views.png", "frame001-difference.png", "frame002-views.png"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(name).path), "\(name)")
        }
        // A rig file without the splitter's mirror (as starter files were): the live views say which mirror
        // registers, the file is named as wrong, and the offsets are still the true ones, not a 70 px false reading.
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: rigFile)) as? [String: Any])
        object["alignment"] = nil
        let unmirrored = dir.appendingPathComponent("unmirrored.rig.json")
        try JSONSerialization.data(withJSONObject: object).write(to: unmirrored)
        let corrected = dir.appendingPathComponent("lv-corrected")
        let told = try await runTool(rigctl, ["rig", "liveview", "--rig", unmirrored.path, "--out", corrected.path, "--frames", "1"], home: home)
        #expect(told.status == 0, "\(told.output)")
        #expect(told.output.contains("register with mirror horizontal") && told.output.contains("the rig file says no mirror"),
                "\(told.output)")
        let fixed = try JSONDecoder().decode([M].self, from: Data(contentsOf: corrected.appendingPathComponent("liveview.json")))
        #expect(fixed.count == 1 && abs(fixed[0].shiftX - 3.5) < 0.5 && abs(fixed[0].shiftY + 2.25) < 0.5, "\(fixed.map(\.shiftX))")
        // --sensor-width overrides what the camera says: a sensor twice as wide doubles the offsets.
        let wide = dir.appendingPathComponent("lv-wide")
        let override = try await runTool(rigctl, ["rig", "liveview", "--rig", rigFile.path, "--out", wide.path, "--frames", "1",
                                                  "--sensor-width", "1280", "--overlay", "checkerboard"], home: home)
        #expect(override.status == 0 && override.output.contains("offsets in full-sensor pixels (--sensor-width)"), "\(override.output)")
        // --overlay checkerboard writes that overlay instead of the difference.
        #expect(try FileManager.default.contentsOfDirectory(atPath: wide.path).sorted()
                == ["frame001-checkerboard.png", "frame001-views.png", "liveview.json"])
        let board = try ImageFile.read(wide.appendingPathComponent("frame001-checkerboard.png"))
        #expect(board.width == 320 && board.height == 200)
        let unknown = try await runTool(rigctl, ["rig", "liveview", "--rig", rigFile.path, "--overlay", "stripes"], home: home)
        #expect(unknown.status == 64 && unknown.output.contains("stripes"), "\(unknown.output)")
        let doubled = try JSONDecoder().decode([M].self, from: Data(contentsOf: wide.appendingPathComponent("liveview.json")))
        #expect(doubled.first?.sensorScale == 4 && doubled.first?.sensorScaleSource == "--sensor-width")
        if let d = doubled.first, let m = measured.first {
            #expect(abs(d.shiftX - 2 * m.shiftX) < 1e-6 && abs(d.shiftY - 2 * m.shiftY) < 1e-6, "\(d.shiftX), \(d.shiftY)")
            #expect(abs(d.shiftX - 7) < 1 && abs(d.shiftY + 4.5) < 1)
            #expect(abs(d.rotationDegrees - m.rotationDegrees) < 1e-9)
        }
        server.interrupt()
    }

    /// `rig liveview --serve`: the page, the figures and the images over HTTP on loopback, against a Canon + Nikon
    /// virtual rig whose offsets are known; other hosts and methods are refused; Ctrl-C stops it cleanly.
    @Test func liveViewServesThePageAndFiguresOnLoopback() async throws {
        let rigctl = try rigctlExecutable()
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let rig = try await startVirtualRig(rigctl, in: dir, arguments: ["--width", "640", "--height", "400", "--scene", "cards",
                                                                         "--vendor", "shallow=canon", "--vendor", "deep=nikon"])
        let (server, home, rigFile) = (rig.server, rig.home, rig.rigFile)
        defer { if server.isRunning { server.terminate() } }
        let live = Process()
        live.executableURL = URL(fileURLWithPath: rigctl)
        live.arguments = ["rig", "liveview", "--rig", rigFile.path, "--serve", "--port", "0", "--frames", "3",
                          "--sensor-width", "640", "--overlay", "checkerboard"]
        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = home.path
        live.environment = environment
        let pipe = Pipe()
        live.standardOutput = pipe
        live.standardError = pipe
        try live.run()
        defer { if live.isRunning { live.terminate() } }
        // Reads the command's output until `text` appears (or it exits): no clock, however loaded the machine.
        // The reads wait on a thread of their own, off Swift's cooperative threads.
        var output = ""
        func read(until text: String) async throws -> Bool {
            let (found, seen) = try await JoinableThread.awaiting(name: "liveview-read") { [output] () -> (Bool, String) in
                var seen = output
                while !seen.contains(text) {
                    let chunk = pipe.fileHandleForReading.availableData
                    if chunk.isEmpty { return (false, seen) }
                    seen += String(decoding: chunk, as: UTF8.self)
                }
                return (true, seen)
            }
            output = seen
            return found
        }
        // The address is printed once the first frame is measured and the server listens.
        _ = try await read(until: "rigctl rig liveview: Ctrl-C stops")
        let port = output.range(of: "serving at http://127.0.0.1:").flatMap { Int(output[$0.upperBound...].prefix { $0.isNumber }) }
        let p = try #require(port, "no address printed: \(output)")

        let page = try await liveViewRequest(port: p, path: "/")
        #expect(page.status == 200 && page.header("content-type")?.hasPrefix("text/html") == true, "\(page.status)")
        for text in ["rigctl live view", "sharpness ratio, shallow / deep", "/static/liveview.js", "/liveview/views.jpg",
                     "squares taken alternately from the shallow and the deep view"] {
            #expect(page.text.contains(text), "missing \(text)")
        }
        #expect(page.header("content-security-policy")?.contains("script-src 'self'") == true)
        for asset in ["/static/liveview.js", "/static/liveview.css", "/static/review.css"] {
            #expect(try await liveViewRequest(port: p, path: asset).status == 200, "\(asset)")
        }

        struct Figures: Decodable {
            struct M: Decodable { var shiftX, shiftY, rotationDegrees, scale, shallowSharpness, deepSharpness, sharpnessRatio: Double }
            var frame: Int
            var measurement: M
        }
        // Frames keep coming on the grabbing thread until --frames is reached; a frame's line is printed once the
        // page has it, so after "frame 3:" the figures are the third frame's.
        #expect(try await read(until: "frame 3:"), "\(output)")
        let figures = try JSONDecoder().decode(Figures.self, from: await liveViewRequest(port: p, path: "/api/liveview").body)
        #expect(figures.frame == 3)
        let m = figures.measurement
        #expect(abs(m.shiftX - 3.5) < 0.5 && abs(m.shiftY + 2.25) < 0.5, "shift \(m.shiftX), \(m.shiftY)")
        #expect(abs(m.rotationDegrees - 0.3) < 0.05 && abs(m.scale - 1.004) < 0.002, "\(m)")
        // The shallow camera (f/2) blurs the cards off its focus plane; the deep one (f/16) does not. Measured on this
        // rig: 0.613 in every frame of every run (live view is rendered without noise); swapped views would give
        // about 1.6, a constant figure 1.
        #expect(m.sharpnessRatio < 0.75 && abs(m.sharpnessRatio - m.shallowSharpness / m.deepSharpness) < 1e-9, "\(m)")

        let views = try await liveViewRequest(port: p, path: "/liveview/views.jpg")
        #expect(views.status == 200 && views.header("content-type") == "image/jpeg")
        let image = try JPEGFile.decode(views.body, path: "views.jpg")
        #expect(image.width == 640 && image.height == 200, "\(image.width)x\(image.height)")
        let difference = try JPEGFile.decode(try await liveViewRequest(port: p, path: "/liveview/difference.jpg").body, path: "d.jpg")
        #expect(difference.width == 320 && difference.height == 200)

        // Loopback and this server's own name only; GET only; nothing else is there.
        #expect(try await liveViewRequest(port: p, path: "/", host: "rebound.example:\(p)").status == 403)
        #expect(try await liveViewRequest(port: p, path: "/api/liveview", host: "127.0.0.1:1").status == 403)
        #expect(try await liveViewRequest("POST", port: p, path: "/").status == 405)
        #expect(try await liveViewRequest(port: p, path: "/etc/passwd").status == 404)

        live.interrupt()
        let rest = String(decoding: try await awaitExit(of: live, reading: pipe), as: UTF8.self)
        #expect(live.terminationStatus == 0, "\(output)\(rest)")
        #expect((output + rest).contains("frame 3:"), "\(output)\(rest)")
        server.interrupt()
    }

    /// The focus difference follows the shallow camera's aperture: at f/2 against f/16 the shallow view is much
    /// softer; stopped down to the deep camera's f/16 (with its shutter and ISO, so the exposures match) it is not.
    @Test func liveViewSharpnessRatioFollowsTheApertures() async throws {
        let rigctl = try rigctlExecutable()
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Generic virtual cameras have no live view; Canon and Nikon bodies have.
        let rig = try await startVirtualRig(rigctl, in: dir, arguments: ["--width", "640", "--height", "400", "--scene", "cards",
                                                                         "--vendor", "shallow=canon", "--vendor", "deep=nikon"])
        let (server, home, rigFile) = (rig.server, rig.home, rig.rigFile)
        defer { if server.isRunning { server.terminate() } }
        func ratio() async throws -> Double {
            let out = dir.appendingPathComponent("lv-\(UUID().uuidString)")
            let run = try await runTool(rigctl, ["rig", "liveview", "--rig", rigFile.path, "--out", out.path, "--frames", "1"], home: home)
            #expect(run.status == 0, "\(run.output)")
            #expect(run.output.contains("sharpness shallow/deep"), "\(run.output)")
            struct M: Decodable { var sharpnessRatio: Double? }
            let measured = try JSONDecoder().decode([M].self, from: Data(contentsOf: out.appendingPathComponent("liveview.json")))
            return try #require(measured.first?.sharpnessRatio, "\(run.output)")
        }
        let wide = try await ratio()
        // The shallow camera takes the deep one's aperture, shutter and ISO (its other settings stay).
        var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: rigFile)) as? [String: Any])
        var cameras = try #require(json["cameras"] as? [[String: Any]])
        let shallowIndex = try #require(cameras.firstIndex { $0["role"] as? String == "shallow" })
        let deepSettings = try #require(cameras[1 - shallowIndex]["settings"] as? [String: Any])
        var settings = try #require(cameras[shallowIndex]["settings"] as? [String: Any])
        for key in ["aperture", "shutter", "iso"] { settings[key] = deepSettings[key] }
        #expect((settings["aperture"] as? NSNumber)?.doubleValue == 16)
        cameras[shallowIndex]["settings"] = settings
        json["cameras"] = cameras
        let stopped = dir.appendingPathComponent("f16.rig.json")
        try JSONSerialization.data(withJSONObject: json).write(to: stopped)
        let apply = try await runTool(rigctl, ["rig", "check", "--rig", stopped.path, "--apply", "--brief"], home: home)
        #expect(apply.status == 0, "\(apply.output)")
        let same = try await ratio()
        // Measured on this rig (every run; live view has no noise): 0.613 at f/2 against f/16, 1.279 with both at
        // f/16. Not 1 at equal apertures: the virtual deep camera's view is resampled to its viewpoint (rotation,
        // scale, sub-pixel shift), which softens it a little; a real rig has no such step.
        #expect(wide < 0.75, "f/2 against f/16: \(wide)")
        #expect(same > 1.6 * wide, "f/16 against f/16: \(same), f/2 against f/16: \(wide)")
        #expect(same > 0.9 && same < 1.6, "f/16 against f/16: \(same)")
        server.interrupt()
    }
}

/// One request to the live view server (TestSupport's loopback client, so a test can send any Host).
private func liveViewRequest(_ method: String = "GET", port: Int, path: String, host: String? = nil) async throws -> HTTPReply {
    try await HTTPClient.send(method: method, port: port, path: path, host: host ?? "127.0.0.1:\(port)", headers: [:],
                                body: method == "POST" ? Data() : nil)
}
