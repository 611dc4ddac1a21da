import Foundation
import Imaging
import Rig
import Testing
import VirtualCamera

/// Settings by meaning and capture through libgphoto2's own Canon EOS and Nikon code, against virtual bodies.
@Suite struct VendorRigTests {
    @Test func vendorTablesNameEachVendorsEntriesAndFormats() {
        #expect(VendorTable.of(.canon).entry(.aperture)?.entry == "aperture")
        #expect(VendorTable.of(.canon).entry(.aperture)?.example == "5.6")
        #expect(VendorTable.of(.nikon).entry(.aperture)?.entry == "f-number")
        #expect(VendorTable.of(.generic).entry(.aperture)?.example == "f/5.6")
        #expect(VendorTable.of(.sony).entry(.captureTarget)?.entry == "capturetarget")
        #expect(VendorTable.of(.canon).entry(.focusDistance) == nil)
        #expect(CameraVendor.detect(entries: ["eosremoterelease", "aperture"], manufacturer: "Canon Inc.") == .canon)
        #expect(CameraVendor.detect(entries: ["f-number"], manufacturer: "Nikon Corporation") == .nikon)
        #expect(CameraVendor.detect(entries: ["f-number"], manufacturer: "rigctl") == .generic)
    }

    @Test func choicesAreMatchedByMeaningNotSpelling() {
        #expect(SettingChoice.aperture(5.6, in: ["f/4", "f/5.6", "f/8"]) == "f/5.6")
        #expect(SettingChoice.aperture(5.6, in: ["4", "5.6", "8"]) == "5.6")
        #expect(SettingChoice.aperture(11, in: ["f/8", "f/11.3", "f/16"]) == "f/11.3")
        #expect(SettingChoice.aperture(3.3, in: ["2.8", "4"]) == nil)
        #expect(SettingChoice.shutter(1.0 / 500, in: ["0.0010s", "0.0020s", "0.0040s"]) == "0.0020s")
        #expect(SettingChoice.shutter(1.0 / 4000, in: ["0.0003s", "0.0005s"]) == "0.0003s")
        #expect(SettingChoice.shutter(1.0 / 500, in: ["bulb", "1/400", "1/500", "1/640"]) == "1/500")
        #expect(SettingChoice.shutter(1.0 / 3, in: ["1/4", "0.5"]) == nil)
        #expect(SettingChoice.iso(1600, in: ["Auto", "800", "1600"]) == "1600")
        #expect(SettingChoice.captureTarget(.ram, in: ["Internal RAM", "Memory card"]) == "Internal RAM")
        #expect(SettingChoice.captureTarget(.card, in: ["sdram", "card", "card+sdram"]) == "card")
        #expect(SettingChoice.imageFormat(.rawPlusJPEG, in: ["RAW", "RAW + Medium Fine JPEG", "RAW + Large Fine JPEG"])
                == "RAW + Large Fine JPEG")
        #expect(SettingChoice.imageFormat(.raw, in: ["Large Fine JPEG", "RAW", "RAW + Large Fine JPEG"]) == "RAW")
        #expect(SettingChoice.focusMode(.manual, in: ["One Shot", "AI Servo", "Manual"]) == "Manual")
    }

    @Test func canonAndNikonTakeTheirSettingsByMeaning() throws {
        let fixture = try VirtualRigFixture(shallowVendor: .canon, deepVendor: .nikon)
        defer { fixture.tearDown() }
        fixture.file.cameras[0].settings = RoleSettings(aperture: 2.8, shutter: 1.0 / 250, iso: 200, focusMode: .manual)
        fixture.file.cameras[1].settings = RoleSettings(aperture: 11, shutter: 1.0 / 60, iso: 800, focusMode: .manual)
        let rig = try Rig(file: fixture.file, library: try GPhotoLibrary())
        defer { rig.close() }
        #expect(rig.shallow.vendor == .canon && rig.deep.vendor == .nikon)
        let applied = try rig.applySettings()
        let canon = try #require(applied[.shallow])
        #expect(canon.map(\.entry) == ["aperture", "shutterspeed", "iso", "focusmode"])
        #expect(canon.map(\.choice) == ["2.8", "1/250", "200", "Manual"])
        #expect(canon.map(\.readBack) == canon.map(\.choice))
        let nikon = try #require(applied[.deep])
        #expect(nikon.map(\.entry) == ["f-number", "shutterspeed", "iso", "focusmode"])
        #expect(nikon.first?.choice == "f/11")
        #expect(fixture.rig.shallow.currentSettings == ExposureSettings(fNumber: 2.8, exposureTime: 1.0 / 250, iso: 200, focusDistance: 2.5))
        #expect(fixture.rig.deep.currentSettings == ExposureSettings(fNumber: 11, exposureTime: 1.0 / 60, iso: 800, focusDistance: 2.5))
        let status = try rig.shallow.status()
        #expect(status.vendor == .canon && status.aperture == "2.8" && status.manufacturer == "Canon Inc.", "\(status)")
        #expect(try rig.deep.status().aperture == "f/11")
    }

    @Test func aValueTheCameraDoesNotOfferIsRefusedBeforeAnythingIsWritten() throws {
        let fixture = try VirtualRigFixture(shallowVendor: .canon, deepVendor: .nikon)
        defer { fixture.tearDown() }
        fixture.file.cameras[0].settings = RoleSettings(shutter: 1.0 / 1000, iso: 3000)
        let rig = try Rig(file: fixture.file, library: try GPhotoLibrary())
        defer { rig.close() }
        let error = try #require(throws: RigError.self) { try rig.shallow.applySettings() }
        #expect(error.failures.first?.stage == .configuring)
        #expect(error.description.contains("iso: ISO 3000 is not offered by the camera's iso entry; its choices: 100, 200, 400"), "\(error)")
        // The shutter speed, valid on its own, was not written either.
        #expect(fixture.rig.shallow.currentSettings.exposureTime == 1.0 / 500)
    }

    @Test func aFocusDistanceOnABodyWithoutOneIsRefused() throws {
        let fixture = try VirtualRigFixture(shallowVendor: .canon, deepVendor: .nikon)
        defer { fixture.tearDown() }
        fixture.file.cameras[1].settings = RoleSettings(focusDistance: 3)
        let rig = try Rig(file: fixture.file, library: try GPhotoLibrary())
        defer { rig.close() }
        let focus = try #require(throws: RigError.self) { try rig.deep.applySettings() }
        #expect(focus.description.contains("offers no focus distance setting"), "\(focus)")
    }

    @Test func aSettingTheCameraIgnoresIsAnError() throws {
        let fixture = try VirtualRigFixture(shallowVendor: .canon, deepVendor: .nikon)
        defer { fixture.tearDown() }
        fixture.file.cameras[0].settings = RoleSettings(aperture: 4)
        fixture.file.cameras[1].settings = RoleSettings(iso: 400)
        fixture.rig.shallow.inject(.ignoreSettings)
        fixture.rig.deep.inject(.ignoreSettings)
        let rig = try Rig(file: fixture.file, library: try GPhotoLibrary())
        defer { rig.close() }
        for camera in rig.cameras {
            let error = try #require(throws: RigError.self) { try camera.applySettings() }
            #expect(error.description.contains("it ignored the setting"), "\(error)")
        }
    }

    @Test func capturesPairsWithACanonShallowAndANikonDeepCamera() throws {
        let fixture = try VirtualRigFixture(shallowVendor: .canon, deepVendor: .nikon)
        defer { fixture.tearDown() }
        let rig = try Rig(file: fixture.file, library: try GPhotoLibrary())
        defer { rig.close() }
        try rig.applySettings()
        let pairs = try rig.capture(count: 2, into: fixture.output)
        #expect(fixture.outputFiles == ["0001.json", "0001_deep.dng", "0001_shallow.dng", "0002.json", "0002_deep.dng", "0002_shallow.dng"])
        for pair in pairs {
            // The DNGs carry the bodies' own Make/Model; libraw reports them normalised.
            #expect(pair.shallow.metadata.make == "Canon" && pair.shallow.metadata.model == "EOS 5D Mark IV", "\(pair.shallow.metadata)")
            #expect(pair.deep.metadata.make == "Nikon" && pair.deep.metadata.model == "D850", "\(pair.deep.metadata)")
            let deepBytes = try Data(contentsOf: pair.url(.deep))
            #expect(deepBytes.range(of: Data("NIKON CORPORATION".utf8)) != nil && deepBytes.range(of: Data("NIKON D850".utf8)) != nil)
            #expect(abs((pair.shallow.metadata.aperture ?? 0) - 2) < 1e-4 && abs((pair.deep.metadata.aperture ?? 0) - 16) < 1e-4)
            #expect(pair.triggerSkew != nil)
            // The Canon fires at the full press, the last request of its trigger call; the Nikon at its first.
            #expect(pair.shallow.fireFraction == 1 && pair.deep.fireFraction == 0)
            let (image, _) = try RawDecoder().decode(pair.url(.shallow))
            #expect(image.width == 480 && image.height == 320)
        }
        // Neither body keeps a file: the Canon's went from its RAM to the host, the Nikon's was deleted.
        #expect(fixture.rig.shallow.fileCount == 0 && fixture.rig.deep.fileCount == 0)
        #expect(fixture.rig.shallow.captureLog.count == 2 && fixture.rig.deep.captureLog.count == 2)
        // The Nikon's files were announced through its GetEvent (0x90C7), polled by libgphoto2's Nikon event path.
        #expect(fixture.rig.deep.nikonEventPollsWithEvents >= 2)
    }

    @Test func rawPlusJPEGIsOneShotWithBothFilesInThePair() throws {
        let fixture = try VirtualRigFixture(shallowVendor: .canon, deepVendor: .nikon)
        defer { fixture.tearDown() }
        fixture.file.cameras[0].settings.imageFormat = .rawPlusJPEG
        let rig = try Rig(file: fixture.file, library: try GPhotoLibrary())
        defer { rig.close() }
        let applied = try rig.applySettings()
        #expect(applied[.shallow]?.last?.choice == "RAW + Large Fine JPEG")
        #expect(rig.shallow.filesPerShot == 2 && rig.deep.filesPerShot == 1)
        let pairs = try rig.capture(count: 2, into: fixture.output)
        #expect(fixture.outputFiles == ["0001.json", "0001_deep.dng", "0001_shallow.dng", "0001_shallow.jpg",
                                        "0002.json", "0002_deep.dng", "0002_shallow.dng", "0002_shallow.jpg"])
        #expect(pairs[1].shallow.companions == ["0002_shallow.jpg"] && pairs[1].deep.companions == nil)
        #expect(try CapturedPair.load(sidecar: pairs[1].sidecarURL).shallow.companions == ["0002_shallow.jpg"])
        #expect(try ImageFile.read(fixture.output.appendingPathComponent("0002_shallow.jpg")).width == 480)
        // Two exposures, not four: each RAW+JPEG shot counted once.
        #expect(fixture.rig.shallow.captureLog.count == 2)
    }

    @Test func preflightWarnsAboutAutofocusAndSettingsNotYetApplied() throws {
        let fixture = try VirtualRigFixture(deepVendor: .nikon)
        defer { fixture.tearDown() }
        fixture.file.cameras[0].settings.iso = 200
        let rig = try Rig(file: fixture.file, library: try GPhotoLibrary())
        defer { rig.close() }
        try rig.deep.set("focusmode", to: "Automatic")
        let report = try rig.preflight(apply: false)
        #expect(report.ok, "\(report.errors)")
        #expect(report.warnings.contains { $0.kind == .focusMode && $0.role == .deep && $0.message.contains("deep camera") && $0.message.contains("autofocus") }, "\(report.warnings)")
        #expect(report.warnings.contains { $0.kind == .settingDiffers && $0.message.contains("ISO is 100, the rig file asks for 200") }, "\(report.warnings)")
        #expect(report.cameras[0].vendor == .generic && report.cameras[0].freeImages ?? 0 > 1000 && report.cameras[0].capturesToHost == false)
        // Generic capture goes to the card: the cards' own estimate says how many pairs fit.
        #expect((report.pairsThatFit ?? 0) > 1000)
        let applied = try rig.preflight(apply: true)
        #expect(applied.ok && !applied.warnings.contains { $0.kind == .settingDiffers || $0.message.contains("rig file asks for") }, "\(applied)")
        #expect(applied.cameras[0].applied.contains { $0.setting == .iso && $0.readBack == "200" })
    }

    /// The full image size, for live-view offsets in sensor pixels: PTP ImageSize through libgphoto2's `imagesize`
    /// entry on the Nikon and the generic body; a Canon EOS has no such entry in libgphoto2 2.5.30.
    @Test func nikonAndGenericBodiesSayTheirImageSize() throws {
        let fixture = try VirtualRigFixture(width: 480, height: 320, shallowVendor: .canon, deepVendor: .nikon)
        defer { fixture.tearDown() }
        let rig = try Rig(file: fixture.file, library: try GPhotoLibrary())
        defer { rig.close() }
        #expect(rig.shallow.imageSize() == nil)
        #expect(rig.deep.imageSize().map { [$0.width, $0.height] } == [480, 320])
        let generic = try VirtualRigFixture(width: 320, height: 240)
        defer { generic.tearDown() }
        let genericRig = try Rig(file: generic.file, library: try GPhotoLibrary())
        defer { genericRig.close() }
        #expect(genericRig.shallow.imageSize().map { [$0.width, $0.height] } == [320, 240])
        #expect(RigCamera.parseImageSize("8256 x 5504").map { [$0.width, $0.height] } == [8256, 5504])
        #expect(RigCamera.parseImageSize("Large") == nil && RigCamera.parseImageSize("0x10") == nil)
    }

    @Test(arguments: [VirtualVendor.canon, .nikon])
    func everyFaultOfTheGenericCameraEndsAsBefore(vendor: VirtualVendor) throws {
        let fixture = try VirtualRigFixture(fileTimeout: 1.5, shallowVendor: vendor, deepVendor: vendor)
        defer { fixture.tearDown() }
        let rig = try Rig(file: fixture.file, library: try GPhotoLibrary())
        defer { rig.close() }
        // Busy: retried (by the rig for Canon, inside libgphoto2's Nikon capture for Nikon), then the pair is taken.
        fixture.rig.deep.inject(.busy(count: 2))
        _ = try rig.capturePair(index: 1, into: fixture.output)
        // No file announced: a timeout naming the camera, and no half pair.
        fixture.rig.deep.inject(.noObjectAdded)
        let silent = try #require(throws: RigError.self) { try rig.capturePair(index: 2, into: fixture.output) }
        #expect(silent.failures.map(\.role) == [.deep] && silent.failures.first?.stage == .waitingForFile, "\(silent)")
        fixture.rig.deep.clearFaults()
        // A dropped link: the pair is aborted, a reconnect recovers.
        fixture.rig.shallow.inject(.dropConnection)
        let dropped = try #require(throws: RigError.self) { try rig.capturePair(index: 2, into: fixture.output) }
        #expect(dropped.failures.map(\.role) == [.shallow], "\(dropped)")
        try rig.shallow.reconnect()
        // Slow downloads still complete.
        fixture.rig.deep.inject(.slowDownload(bytesPerSecond: 2_000_000))
        _ = try rig.capturePair(index: 2, into: fixture.output)
        #expect(fixture.outputFiles == ["0001.json", "0001_deep.dng", "0001_shallow.dng", "0002.json", "0002_deep.dng", "0002_shallow.dng"])
    }
}
