import TestSupport
import Foundation
import Imaging
import Testing
import VirtualCamera

/// The stock gphoto2 command line against virtual Canon EOS and Nikon bodies: libgphoto2 2.5.30 runs its own
/// vendor code (EOS GetEvent records and remote release; Nikon SDRAM capture with DeviceReady).
@Suite struct VendorCLITests {
    /// One virtual body, a fresh HOME (libgphoto2 keeps its capture target in ~/.gphoto/settings) and a runner.
    final class Body {
        let camera: VirtualCamera
        let dir: URL
        let home: URL
        let gphoto2: String

        init(_ vendor: VirtualVendor, nikonGetEvent: Bool = true) throws {
            gphoto2 = try #require(findExecutable("gphoto2"), "the gphoto2 command line is not installed (Debian package gphoto2)")
            dir = try makeTemporaryDirectory()
            home = dir.appendingPathComponent("home")
            try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
            var configuration = VirtualCameraConfiguration(name: "solo", serialNumber: "VC-\(vendor)-7", vendor: vendor,
                                                           width: 480, height: 320)
            configuration.nikonGetEvent = nikonGetEvent
            camera = try VirtualCamera(configuration: configuration, scene: Scene.builtIn(.cards, width: 480, height: 320))
            camera.start()
        }

        func gp(_ args: String...) async throws -> ToolResult {
            try await runTool(gphoto2, ["--port", camera.portPath, "--camera", camera.configuration.vendor.libgphoto2Model] + args,
                              home: home, currentDirectory: dir)
        }

        /// Fires the shutter as a cable release would and waits (up to 30 s) until the body has stored the shot.
        func releaseAndWaitForTheFile(shots: Int) async throws {
            #expect(camera.externalRelease())
            let deadline = Date().addingTimeInterval(30)
            while camera.captureLog.count < shots && Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
            try #require(camera.captureLog.count == shots, "the body never stored the released shot")
        }

        func tearDown() {
            camera.stop()
            try? FileManager.default.removeItem(at: dir)
        }
    }

    @Test func gphoto2DrivesACanonEOSBody() async throws {
        let body = try Body(.canon)
        defer { body.tearDown() }
        let summary = try await body.gp("--summary")
        #expect(summary.status == 0, "\(summary.output)")
        #expect(summary.output.contains("Manufacturer: Canon Inc.") && summary.output.contains("Model: Canon EOS 5D Mark IV"))
        #expect(summary.output.contains("Canon EOS Capture"), "libgphoto2 took it for an EOS body: \(summary.output)")

        let config = try await body.gp("--list-config")
        #expect(config.status == 0, "\(config.output)")
        for entry in ["/main/capturesettings/aperture", "/main/capturesettings/shutterspeed", "/main/imgsettings/iso",
                      "/main/settings/capturetarget", "/main/actions/eosremoterelease", "/main/status/batterylevel",
                      "/main/capturesettings/focusmode", "/main/imgsettings/imageformat"] {
            #expect(config.output.contains(entry), "missing \(entry): \(config.output)")
        }
        #expect(!config.output.contains("/main/capturesettings/f-number"))

        let set = try await body.gp("--set-config", "aperture=5.6", "--set-config", "shutterspeed=1/250", "--set-config", "iso=400")
        #expect(set.status == 0, "\(set.output)")
        #expect(body.camera.currentSettings.fNumber == 5.6 && body.camera.currentSettings.exposureTime == 1.0 / 250
                && body.camera.currentSettings.iso == 400)
        let get = try await body.gp("--get-config", "aperture", "--get-config", "shutterspeed", "--get-config", "iso",
                                    "--get-config", "focusmode")
        for line in ["Current: 5.6", "Current: 1/250", "Current: 400", "Current: Manual"] {
            #expect(get.output.contains(line), "\(line) missing: \(get.output)")
        }
        #expect(try await body.gp("--set-config", "aperture=3.3").status != 0, "an aperture the lens does not have must be refused")

        // Live view: EVF switched to the PC output, GetViewFinderData blobs, the JPEG at half the frame size.
        #expect(config.output.contains("/main/actions/viewfinder"), "\(config.output)")
        let preview = try await body.gp("--capture-preview", "--filename", "canon-preview.jpg")
        #expect(preview.status == 0, "\(preview.output)")
        let frame = try ImageFile.read(body.dir.appendingPathComponent("thumb_canon-preview.jpg"))  // the CLI prefixes previews
        #expect(frame.width == 240 && frame.height == 160)

        // Capture to the host (libgphoto2's default "sdram" target): the file comes from the body's RAM.
        let capture = try await body.gp("--capture-image-and-download", "--filename", "ram.dng")
        #expect(capture.status == 0, "\(capture.output)")
        let (image, metadata) = try RawDecoder().decode(body.dir.appendingPathComponent("ram.dng"))
        #expect(image.width == 480 && metadata.make == "Canon" && abs((metadata.aperture ?? 0) - 5.6) < 1e-4)
        #expect(body.camera.fileCount == 0)

        // To the card, RAW+JPEG: two files announced through GetEvent, both downloaded.
        let card = try await body.gp("--set-config", "capturetarget=Memory card", "--set-config", "imageformat=RAW + Large Fine JPEG",
                                     "--capture-image-and-download", "--filename", "card.%C")
        #expect(card.status == 0, "\(card.output)")
        #expect(card.output.contains("/store_00010001/DCIM/100RIGCT/IMG_0002.DNG"), "\(card.output)")
        _ = try RawDecoder().decode(body.dir.appendingPathComponent("card.DNG"))
        #expect(try ImageFile.read(body.dir.appendingPathComponent("card.JPG")).width == 480)
    }

    @Test func gphoto2DrivesANikonBody() async throws {
        let body = try Body(.nikon)
        defer { body.tearDown() }
        let summary = try await body.gp("--summary")
        #expect(summary.status == 0, "\(summary.output)")
        #expect(summary.output.contains("Manufacturer: Nikon Corporation") && summary.output.contains("Vendor Extension ID: 0xa"))

        let config = try await body.gp("--list-config")
        #expect(config.status == 0, "\(config.output)")
        for entry in ["/main/capturesettings/f-number", "/main/capturesettings/shutterspeed", "/main/imgsettings/iso",
                      "/main/settings/capturetarget", "/main/capturesettings/focusmode"] {
            #expect(config.output.contains(entry), "missing \(entry): \(config.output)")
        }
        #expect(!config.output.contains("/main/capturesettings/focusdistance"))

        // The CLI reads a bare whole number as a choice index, so Nikon's f-numbers are given with "f/".
        let set = try await body.gp("--set-config", "f-number=f/8", "--set-config", "shutterspeed=1/250", "--set-config", "iso=400")
        #expect(set.status == 0, "\(set.output)")
        #expect(body.camera.currentSettings.fNumber == 8 && body.camera.currentSettings.exposureTime == 1.0 / 250
                && body.camera.currentSettings.iso == 400)
        let get = try await body.gp("--get-config", "f-number", "--get-config", "shutterspeed", "--get-config", "iso")
        for line in ["Current: f/8", "Current: 0.0040s", "Current: 400"] {
            #expect(get.output.contains(line), "\(line) missing: \(get.output)")
        }

        // Live view: StartLiveView, DeviceReady, GetLiveViewImg (header, then the JPEG libgphoto2 cuts out).
        #expect(config.output.contains("/main/actions/viewfinder"), "\(config.output)")
        let preview = try await body.gp("--capture-preview", "--filename", "nikon-preview.jpg")
        #expect(preview.status == 0, "\(preview.output)")
        let frame = try ImageFile.read(body.dir.appendingPathComponent("thumb_nikon-preview.jpg"))
        #expect(frame.width == 240 && frame.height == 160)

        // Busy while the previous shot is written: libgphoto2's Nikon capture waits on DeviceReady.
        body.camera.inject(.busy(count: 3))
        let capture = try await body.gp("--capture-image-and-download", "--filename", "n.dng")
        #expect(capture.status == 0, "\(capture.output)")
        let metadata = try RawDecoder().metadata(body.dir.appendingPathComponent("n.dng"))
        #expect(metadata.make == "Nikon" && metadata.model == "D850" && abs((metadata.aperture ?? 0) - 8) < 1e-4)
        #expect(body.camera.fileCount == 0 && body.camera.captureLog.count == 1)
        // The body lists Nikon's GetEvent (0x90C7), so libgphoto2 polled it for the capture's events.
        #expect(body.camera.nikonEventPollsWithEvents >= 1)

        // A release while no host is connected: its events wait in the body for the next host's GetEvent.
        try await body.releaseAndWaitForTheFile(shots: 2)
        let wait = try await body.gp("--wait-event-and-download=5s", "--filename", "released.dng")
        #expect(wait.status == 0, "\(wait.output)")
        #expect(FileManager.default.fileExists(atPath: body.dir.appendingPathComponent("released.dng").path), "\(wait.output)")
    }

    /// A Nikon without GetEvent (older firmware): libgphoto2 reads the PTP/IP event channel instead.
    @Test func aNikonWithoutGetEventUsesTheEventChannel() async throws {
        let body = try Body(.nikon, nikonGetEvent: false)
        defer { body.tearDown() }
        let capture = try await body.gp("--capture-image-and-download", "--filename", "n.dng")
        #expect(capture.status == 0, "\(capture.output)")
        #expect(try RawDecoder().metadata(body.dir.appendingPathComponent("n.dng")).make == "Nikon")
        #expect(body.camera.nikonEventPollsWithEvents == 0)
    }
}
