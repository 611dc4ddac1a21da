import Foundation
import Imaging
import PairVocabulary
import Rig
import Testing
import ThreadSupport
import VirtualCamera

/// The real libgphoto2 driving two virtual cameras over PTP/IP on loopback.
@Suite struct RigCaptureTests {
    @Test func connectsReadsAndSetsAperture() throws {
        let fixture = try VirtualRigFixture()
        defer { fixture.tearDown() }
        let library = try GPhotoLibrary()
        let rig = try Rig(file: fixture.file, library: library)
        defer { rig.close() }
        let shallow = try rig.shallow.status()
        #expect(shallow.aperture == "f/2")
        #expect(shallow.serialNumber == "VC-SHALLOW-0001")
        #expect(shallow.manufacturer == "rigctl")
        #expect(try rig.deep.status().aperture == "f/16")
        #expect(try rig.shallow.summary().contains("Serial Number: VC-SHALLOW-0001"))

        try rig.shallow.set("f-number", to: "5.6")
        #expect(fixture.rig.shallow.currentSettings.fNumber == 5.6)
        #expect(try rig.shallow.setting("f-number").value == "f/5.6")
        #expect(try rig.shallow.setting("f-number").choices.contains("f/1.4"))

        // A value the lens does not have: refused, and the error names the camera and the step.
        do {
            try rig.deep.set("f-number", to: "3.3")
            Issue.record("f/3.3 was accepted")
        } catch let error as RigError {
            #expect(error.failures.first?.role == .deep)
            #expect(error.failures.first?.stage == .configuring)
            #expect(error.description.contains("deep camera (ptpip:127.0.0.1:"), "\(error)")
        }

        // The rig file's settings, focus distance included. A camera serves one host at a time: disconnect first.
        rig.close()
        var file = fixture.file
        file.cameras[0].settings = RoleSettings(aperture: 2.8, shutter: 1.0 / 250, iso: 200, focusDistance: 3.2)
        let reconfigured = try Rig(file: file, library: library)
        defer { reconfigured.close() }
        try reconfigured.applySettings()
        let applied = fixture.rig.shallow.currentSettings
        #expect(applied == ExposureSettings(fNumber: 2.8, exposureTime: 1.0 / 250, iso: 200, focusDistance: 3))
    }

    @Test func aSecondHostIsRefusedWhileOneIsConnected() throws {
        let fixture = try VirtualRigFixture()
        defer { fixture.tearDown() }
        let library = try GPhotoLibrary()
        let first = try library.openCamera(port: fixture.rig.deep.portPath)
        defer { first.close() }
        let started = Date()
        let error = try #require(throws: GPhotoError.self) { try library.openCamera(port: fixture.rig.deep.portPath) }
        #expect(Date().timeIntervalSince(started) < 2, "refused at once, not after libgphoto2's 2.5 s timeout")
        #expect(error.operation.contains("connecting"), "\(error)")
        // The first host is unaffected, and once it leaves another may connect.
        #expect(try first.setting("f-number").value == "f/16")
        first.close()
        let second = try library.openCamera(port: fixture.rig.deep.portPath)
        second.close()
    }

    @Test func serialNumberMismatchIsReported() throws {
        let fixture = try VirtualRigFixture()
        defer { fixture.tearDown() }
        var file = fixture.file
        file.cameras[1].serial = "SOMEONE-ELSE"
        do {
            _ = try Rig(file: file, library: try GPhotoLibrary())
            Issue.record("the wrong camera was accepted")
        } catch let error as RigError {
            #expect(error.description.contains("VC-DEEP-0002") && error.description.contains("SOMEONE-ELSE"), "\(error)")
        }
    }

    @Test func capturesSynchronizedPairs() throws {
        let fixture = try VirtualRigFixture()
        defer { fixture.tearDown() }
        let rig = try Rig(file: fixture.file, library: try GPhotoLibrary())
        defer { rig.close() }
        try rig.applySettings()
        let pairs = try rig.capture(count: 3, into: fixture.output)
        #expect(pairs.map(\.index) == [1, 2, 3])
        #expect(fixture.outputFiles == ["0001.json", "0001_deep.dng", "0001_shallow.dng", "0002.json", "0002_deep.dng",
                                        "0002_shallow.dng", "0003.json", "0003_deep.dng", "0003_shallow.dng"])
        for pair in pairs {
            for role in CameraRole.allCases {
                let (image, metadata) = try RawDecoder().decode(pair.url(role))
                #expect(image.width == 480 && image.height == 320)
                #expect(metadata == pair.file(role).metadata)
            }
            #expect(abs((pair.shallow.metadata.aperture ?? 0) - 2) < 1e-4)
            #expect(abs((pair.deep.metadata.aperture ?? 0) - 16) < 1e-4)
            #expect(pair.deep.metadata.iso == 1600)
            let skew = try #require(pair.triggerSkew)
            #expect(abs(skew) < 0.25, "software trigger skew \(skew) s on loopback")
            let shallowTrigger = try #require(pair.shallow.triggerStart)
            #expect(shallowTrigger <= pair.shallow.arrival && pair.shallow.arrival <= pair.shallow.downloaded)
            let loaded = try CapturedPair.load(sidecar: pair.sidecarURL)
            #expect(loaded.index == pair.index && loaded.directory.standardizedFileURL.path == pair.directory.standardizedFileURL.path)
            #expect(loaded.shallow.fileName == pair.shallow.fileName && loaded.deep.fileName == pair.deep.fileName)
            #expect(loaded.shallow.metadata == pair.shallow.metadata && loaded.deep.metadata == pair.deep.metadata)
            #expect(abs((loaded.triggerSkew ?? 1) - skew) < 1e-5)
            #expect(abs(loaded.deep.arrival.timeIntervalSince(pair.deep.arrival)) < 1e-5)
        }
        // Files were deleted from the cards after download; each camera exposed three times.
        #expect(fixture.rig.shallow.fileCount == 0 && fixture.rig.deep.fileCount == 0)
        #expect(fixture.rig.shallow.captureLog.count == 3 && fixture.rig.deep.captureLog.count == 3)
        // Numbering continues after the pairs already there.
        #expect(Rig.nextIndex(in: fixture.output) == 4)
    }

    @Test func capturesJPEGPairsWhenTheCamerasRecordJPEG() throws {
        let fixture = try VirtualRigFixture(format: .jpeg)
        defer { fixture.tearDown() }
        let rig = try Rig(file: fixture.file, library: try GPhotoLibrary())
        defer { rig.close() }
        let pair = try rig.capturePair(index: 7, into: fixture.output)
        #expect(fixture.outputFiles == ["0007.json", "0007_deep.jpg", "0007_shallow.jpg"])
        let image = try ImageFile.read(pair.url(.deep))
        #expect(image.width == 480 && image.height == 320)
    }

    @Test func busyRepliesAreRetriedWithBackOff() throws {
        let fixture = try VirtualRigFixture()
        defer { fixture.tearDown() }
        let rig = try Rig(file: fixture.file, library: try GPhotoLibrary())
        defer { rig.close() }
        fixture.rig.deep.inject(.busy(count: 2))
        let pair = try rig.capturePair(index: 1, into: fixture.output)
        #expect(pair.deep.busyRetries == 2)
        #expect(pair.shallow.busyRetries == 0)
        // Two pauses of 50 and 100 ms delay the deep trigger.
        #expect(try #require(pair.triggerSkew) > 0.14)
    }

    @Test func persistentBusyAbortsThePairCleanly() throws {
        let fixture = try VirtualRigFixture(busyRetries: 1)
        defer { fixture.tearDown() }
        let rig = try Rig(file: fixture.file, library: try GPhotoLibrary())
        defer { rig.close() }
        fixture.rig.deep.inject(.busy(count: 5))
        let error = try #require(throws: RigError.self) { try rig.capturePair(index: 1, into: fixture.output) }
        #expect(error.failures.map(\.role) == [.deep])
        #expect(error.failures.first?.stage == .triggering)
        #expect(error.description.contains("busy"), "\(error)")
        #expect(error.description.contains("nothing of it was written"))
        #expect(fixture.outputFiles.isEmpty, "no half pair: \(fixture.outputFiles)")
    }

    @Test func droppedConnectionAbortsThePairAndReconnectRecovers() throws {
        let fixture = try VirtualRigFixture()
        defer { fixture.tearDown() }
        let rig = try Rig(file: fixture.file, library: try GPhotoLibrary())
        defer { rig.close() }
        fixture.rig.shallow.inject(.dropConnection)
        let error = try #require(throws: RigError.self) { try rig.capturePair(index: 1, into: fixture.output) }
        #expect(error.failures.map(\.role) == [.shallow], "\(error)")
        #expect(error.failures.first?.stage == .triggering, "\(error)")
        #expect(error.description.contains("shallow camera (ptpip:127.0.0.1:"), "\(error)")
        #expect(fixture.outputFiles.isEmpty, "no half pair: \(fixture.outputFiles)")
        try rig.shallow.reconnect()
        let pair = try rig.capturePair(index: 1, into: fixture.output)
        #expect(FileManager.default.fileExists(atPath: pair.url(.shallow).path))
        #expect(fixture.rig.shallow.sessionCount == 2)
    }

    @Test func slowDownloadStillCompletes() throws {
        let fixture = try VirtualRigFixture()
        defer { fixture.tearDown() }
        let rig = try Rig(file: fixture.file, library: try GPhotoLibrary())
        defer { rig.close() }
        // 480x320 DNGs are about 310 kB: at 600 kB/s the download takes about half a second.
        fixture.rig.deep.inject(.slowDownload(bytesPerSecond: 600_000))
        let pair = try rig.capturePair(index: 1, into: fixture.output)
        #expect(pair.deep.downloaded.timeIntervalSince(pair.deep.arrival) > 0.4)
        #expect(pair.shallow.downloaded.timeIntervalSince(pair.shallow.arrival) < 0.4)
        _ = try RawDecoder().decode(pair.url(.deep))
    }

    @Test func missingObjectAddedEndsInATimeoutNamingTheCamera() throws {
        let fixture = try VirtualRigFixture(fileTimeout: 1.5)
        defer { fixture.tearDown() }
        let rig = try Rig(file: fixture.file, library: try GPhotoLibrary())
        defer { rig.close() }
        fixture.rig.deep.inject(.noObjectAdded)
        let started = Date()
        let error = try #require(throws: RigError.self) { try rig.capturePair(index: 1, into: fixture.output) }
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(error.failures.map(\.role) == [.deep])
        #expect(error.failures.first?.stage == .waitingForFile)
        #expect(error.description.contains("no file announced within 1.5 s"), "\(error)")
        #expect(fixture.outputFiles.isEmpty, "no half pair: \(fixture.outputFiles)")
        // The shallow camera's file was downloaded and removed from its card, not left behind.
        #expect(fixture.rig.shallow.fileCount == 0)
    }

    @Test func externalReleasePairsByArrivalTime() throws {
        let fixture = try VirtualRigFixture(trigger: .external, fileTimeout: 30)
        defer { fixture.tearDown() }
        fixture.file.pairingWindow = 0.4
        let rig = try Rig(file: fixture.file, library: try GPhotoLibrary())
        defer { rig.close() }
        let virtual = fixture.rig
        // A stray shot of the shallow camera alone, then a proper release of both.
        let releases = try JoinableThread(name: "releases") {
            Thread.sleep(forTimeInterval: 0.3)
            virtual.shallow.externalRelease()
            Thread.sleep(forTimeInterval: 1.5)
            virtual.externalRelease(skew: 0.01)
        }
        defer { releases.join() }
        let pair = try rig.waitForExternalPair(index: 1, into: fixture.output)
        #expect(pair.trigger == .external)
        #expect(pair.triggerSkew == nil)
        #expect(abs(pair.arrivalSkew) <= 0.4)
        #expect(pair.discarded.count == 1 && pair.discarded[0].hasPrefix("shallow:"), "\(pair.discarded)")
        #expect(fixture.outputFiles == ["0001.json", "0001_deep.dng", "0001_shallow.dng"])
    }
}
