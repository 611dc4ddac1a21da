import TestSupport
import Foundation
import Imaging
import Testing
import ThreadSupport
import VirtualCamera

/// The stock gphoto2 command line (libgphoto2's generic PTP/IP driver) against one virtual camera.
@Suite struct GPhotoCLITests {
    @Test func gphoto2CommandLineDrivesVirtualCamera() async throws {
        let gphoto2 = try #require(findExecutable("gphoto2"), "the gphoto2 command line is not installed (Debian package gphoto2)")
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // A fresh HOME: libgphoto2 writes ~/.gphoto/settings on the first PTP/IP connect.
        let home = dir.appendingPathComponent("home")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)

        // 800x720 DNGs are over 1 MiB, so libgphoto2 downloads them with GetPartialObject in pieces.
        let scene = Scene.builtIn(.cards, width: 400, height: 360)
        let configuration = VirtualCameraConfiguration(name: "solo", serialNumber: "VC-TEST-42", width: 800, height: 720)
        let camera = try VirtualCamera(configuration: configuration, scene: scene)
        camera.start()
        defer { camera.stop() }
        let base = ["--port", camera.portPath, "--camera", "PTP/IP Camera"]
        func gp(_ args: String...) async throws -> ToolResult { try await runTool(gphoto2, base + args, home: home, currentDirectory: dir) }

        let summary = try await gp("--summary")
        #expect(summary.status == 0, "\(summary.output)")
        #expect(summary.output.contains("Manufacturer: rigctl"))
        #expect(summary.output.contains("Serial Number: VC-TEST-42"))
        #expect(summary.output.contains("F-Number(0x5007)"))
        #expect(FileManager.default.fileExists(atPath: home.appendingPathComponent(".gphoto/settings").path))

        let config = try await gp("--list-config")
        #expect(config.status == 0, "\(config.output)")
        for entry in ["/main/capturesettings/f-number", "/main/capturesettings/shutterspeed", "/main/imgsettings/iso",
                      "/main/status/batterylevel", "/main/settings/datetime"] {
            #expect(config.output.contains(entry), "missing \(entry)")
        }

        let set = try await gp("--set-config", "f-number=5.6")
        #expect(set.status == 0, "\(set.output)")
        #expect(camera.currentSettings.fNumber == 5.6)
        let get = try await gp("--get-config", "f-number")
        #expect(get.output.contains("Current: f/5.6"), "\(get.output)")
        let bad = try await gp("--set-config", "f-number=3.3")
        #expect(bad.status != 0, "an aperture the lens does not have must be refused")

        let capture = try await gp("--capture-image-and-download", "--filename", "shot.dng")
        #expect(capture.status == 0, "\(capture.output)")
        let (image, metadata) = try RawDecoder().decode(dir.appendingPathComponent("shot.dng"))
        #expect(image.width == 800 && image.height == 720)
        #expect(abs((metadata.aperture ?? 0) - 5.6) < 1e-4)
        #expect(metadata.serialNumber == "VC-TEST-42")
        #expect(camera.fileCount == 0, "capture-image-and-download deletes the file on the camera")

        let keep = try await gp("--capture-image")
        #expect(keep.status == 0, "\(keep.output)")
        let list = try await gp("--list-files")
        #expect(list.output.contains("IMG_0002.DNG"), "\(list.output)")
        let fetch = try await gp("--get-file", "1", "--filename", "fetched.dng")
        #expect(fetch.status == 0, "\(fetch.output)")
        #expect(abs((try RawDecoder().metadata(dir.appendingPathComponent("fetched.dng")).aperture ?? 0) - 5.6) < 1e-4)

        // An external release while gphoto2 waits for events.
        let release = try JoinableThread(name: "release") {
            Thread.sleep(forTimeInterval: 1.0)
            camera.externalRelease()
        }
        // gphoto2 starts at once, not when one of the ProcessSlots is free: the release, a second after its thread
        // started, must find gphoto2 waiting.
        let wait = try await JoinableThread.awaiting(name: "gphoto2-wait-event") {
            try runTool(gphoto2, base + ["--wait-event-and-download=4s", "--filename", "released.dng"], home: home, currentDirectory: dir)
        }
        release.join()
        #expect(wait.status == 0, "\(wait.output)")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("released.dng").path), "\(wait.output)")
    }
}
