import Foundation
import PairVocabulary
import Rig
import Testing
import TestSupport
import ThreadSupport
import VirtualCamera

/// Capture fired through a trigger box: the virtual rig's cameras wired to a virtual TriggerBox on a
/// pseudo-terminal, each released after its own latency.
@Suite struct TriggerBoxCaptureTests {
    /// As a lab runs it: `virtual-rig --trigger trigger-box` in one process, `rig check` and `capture` in others.
    /// The check sets the box up and reads it back; every pair is fired by the box, recorded as such, with the
    /// arrival skew the release latencies make.
    @Test func captureThroughTheBoxRecordsItAndTheSkewTheLatenciesMake() async throws {
        guard let rigctl = locateProduct("rigctl")?.path else {
            Issue.record("the rigctl executable was not found: build it with `swift build --build-tests`")
            return
        }
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Inside the rig file's 0.5 s pairing window, and long against the difference of the two cameras' render
        // times, which shortens the skew: the shallow camera's wide blur renders longest, on a loaded machine
        // (AddressSanitizer in CI) by a tenth of a second or more.
        let latency = 0.35
        let rig = try await startVirtualRig(rigctl, in: dir, arguments: ["--width", "320", "--height", "240", "--trigger", "trigger-box",
                                                                         "--release-latency", "deep=\(latency)"])
        defer { if rig.server.isRunning { rig.server.terminate() } }
        let file = try RigFile.load(rig.rigFile)
        let box = try #require(file.triggerBox, "no triggerBox in the rig file: \(rig.logText)")
        #expect(file.trigger == .triggerBox && box.device.hasPrefix("/dev/pts/"))
        #expect(box.shallowOutput == 1 && box.deepOutput == 2)

        let check = try await runTool(rigctl, ["rig", "check", "--rig", rig.rigFile.path, "--json"], home: rig.home)
        #expect(check.status == 0, "\(check.output)")
        let json = try #require(check.output.firstIndex(of: "{").flatMap { start in
            check.output.lastIndex(of: "}").map { String(check.output[start...$0]) } }, "\(check.output)")
        let report = try JSONDecoder().decode(PreflightReport.self, from: Data(json.utf8))
        let state = try #require(report.triggerBox)
        #expect(state.device == box.device && state.name == "rigctl virtual TriggerBox")
        #expect(state.shutterOutputs == [1, 2] && state.focusOutputs == [1, 2] && state.bulbMilliseconds == 0)
        let text = try await runTool(rigctl, ["rig", "check", "--rig", rig.rigFile.path, "--brief"], home: rig.home)
        #expect(text.output.contains("trigger box on \(box.device): \"rigctl virtual TriggerBox\""), "\(text.output)")

        let out = dir.appendingPathComponent("pairs")
        let capture = try await runTool(rigctl, ["capture", "--rig", rig.rigFile.path, "--out", out.path, "--count", "3", "--json"],
                                        home: rig.home)
        #expect(capture.status == 0, "\(capture.output)\n\(rig.logText)")
        #expect(capture.output.contains("trigger box, arrival skew"), "\(capture.output)")
        let reported = capture.output.split(separator: "\n").filter { $0.contains("\"trigger\"") }
        #expect(reported.count == 3 && reported.allSatisfy { $0.contains("\"trigger-box\"") }, "\(capture.output)")
        for index in 1...3 {
            let pair = try CapturedPair.load(sidecar: out.appendingPathComponent(String(format: "%04d.json", index)))
            #expect(pair.trigger == .triggerBox && pair.triggerSkew == nil)
            // The deep camera releases `latency` after the shallow one; arrival adds each camera's own delay.
            #expect(abs(pair.arrivalSkew - latency) < 0.25, "pair \(index): arrival skew \(pair.arrivalSkew)")
        }
    }

    /// The box's side of a pair: set up once (enable arrays, bulb), then focus, shutter and focus released, with
    /// the shutter firing the rig's two outputs once.
    @Test func theBoxIsSetUpAndFiredWithTheFocusLead() throws {
        let fired = LockedValue<[[Int]]>([])
        let virtual = try VirtualTriggerBox { outputs in fired.withLock { $0.append(outputs) } }
        defer { virtual.stop() }
        let box = try TriggerBox(settings: TriggerBoxSettings(device: virtual.device, shallowOutput: 2, deepOutput: 4,
                                                              focusLead: 0.05, bulbMilliseconds: 120))
        let state = try box.configure()
        #expect(state.shutterOutputs == [2, 4] && state.focusOutputs == [2, 4] && state.bulbMilliseconds == 120)
        let before = Date()
        try box.fire()
        #expect(Date().timeIntervalSince(before) >= 0.05, "focus is held for the lead before the shutter")
        let deadline = Date().addingTimeInterval(5)
        while fired.value.isEmpty && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        #expect(fired.value == [[1, 3]])
        #expect(virtual.instructions == ["N", "f010100", "s010100", "b120", "N", "M", "V", "G", "B", "F1", "S", "F0"],
                "\(virtual.instructions)")
    }

    /// A box that answers only a while after its port opened (an Arduino in its bootloader) is waited for; one
    /// that never answers is an error naming the device once the wait is over.
    @Test func theSetUpWaitsForABoxThatIsStillStarting() throws {
        let virtual = try VirtualTriggerBox { _ in }
        defer { virtual.stop() }
        virtual.fault = .silent
        let box = try TriggerBox(settings: TriggerBoxSettings(device: virtual.device), timeout: 0.3)
        let wake = try JoinableThread(name: "box wakes") {
            Thread.sleep(forTimeInterval: 0.8)
            virtual.fault = .none
        }
        defer { wake.join() }
        let state = try box.configure(startup: 3)
        #expect(state.shutterOutputs == [1, 2])
        #expect(virtual.instructions.filter { $0 == "N" }.count >= 3, "asked again while it was silent: \(virtual.instructions)")

        virtual.fault = .silent
        let started = Date()
        #expect(throws: TriggerBoxError.self) { try box.configure(startup: 0.5) }
        #expect(Date().timeIntervalSince(started) < 3)
    }

    /// A box that stops answering is an error naming its device at `rig check`; one pulled out before a pair
    /// aborts that pair with the device named, and nothing of the pair is written.
    @Test func aSilentOrUnpluggedBoxIsAnErrorNamingTheDevice() throws {
        let fixture = try VirtualRigFixture(width: 320, height: 240, trigger: .triggerBox)
        defer { fixture.tearDown() }
        let box = try fixture.rig.wiredTriggerBox()
        defer { box.stop() }
        fixture.file.triggerBox = TriggerBoxSettings(device: box.device, focusLead: 0.01)
        let rig = try Rig(file: fixture.file, library: try GPhotoLibrary())
        defer { rig.close() }
        box.fault = .silent
        let report = try rig.preflight(apply: false)
        #expect(!report.ok && report.triggerBox == nil)
        #expect(report.errors.contains { $0.contains(box.device) && $0.contains("did not answer") }, "\(report.errors)")

        box.fault = .none
        box.unplug()
        do {
            _ = try rig.capture(count: 1, into: fixture.output)
            Issue.record("a pair was captured without the box")
        } catch let error as RigError {
            guard case .triggerBox(let index, _) = error else { Issue.record("wrong error \(error)"); return }
            #expect(index == 1)
            #expect(error.description.contains(box.device) && error.description.contains("nothing of it was written"), "\(error)")
        }
        #expect(fixture.outputFiles.filter { !$0.hasPrefix(".") }.isEmpty)
    }

    /// A body whose release lags the other's by more than the rig file's pairing window: its partner's file is
    /// discarded, and when no other comes the pair's error says so, with the lag and the window, instead of only
    /// "no file announced".
    @Test func aReleaseLagBeyondThePairingWindowIsSaidSo() throws {
        let fixture = try VirtualRigFixture(width: 320, height: 240, trigger: .triggerBox)
        defer { fixture.tearDown() }
        let box = try fixture.rig.wiredTriggerBox(deepLatency: 0.8)
        defer { box.stop() }
        fixture.file.triggerBox = TriggerBoxSettings(device: box.device, focusLead: 0.01)
        fixture.file.pairingWindow = 0.3
        fixture.file.fileTimeout = 2
        let rig = try Rig(file: fixture.file, library: try GPhotoLibrary())
        defer { rig.close() }
        do {
            _ = try rig.capture(count: 1, into: fixture.output)
            Issue.record("a pair was made of files 0.8 s apart with a 0.3 s window")
        } catch let error as RigError {
            guard case .pairAborted(let index, let failures) = error else { Issue.record("wrong error \(error)"); return }
            #expect(index == 1 && failures.map(\.role) == [.shallow], "\(error)")
            let text = error.description
            #expect(text.contains("no file announced") && text.contains("was discarded: the deep camera's came"), "\(text)")
            #expect(text.contains("pairingWindow of 0.30 s"), "\(text)")
        }
        #expect(fixture.outputFiles.filter { !$0.hasPrefix(".") }.isEmpty)
    }

    /// A rig file naming a device that is not there, or not a terminal, fails when the rig connects, naming it.
    @Test func aMissingBoxFailsAtConnectNamingTheDevice() throws {
        let fixture = try VirtualRigFixture(width: 320, height: 240, trigger: .triggerBox)
        defer { fixture.tearDown() }
        for (device, words) in [("/dev/rigctl-no-such-box", "cannot open the trigger box"), ("/dev/null", "is not a serial port")] {
            fixture.file.triggerBox = TriggerBoxSettings(device: device)
            do {
                let rig = try Rig(file: fixture.file, library: try GPhotoLibrary())
                rig.close()
                Issue.record("connected with \(device)")
            } catch let error as RigError {
                #expect(error.description.contains(device) && error.description.contains(words), "\(error)")
            }
        }
    }
}

/// What a wired release needs and rigctl cannot set: `rig check` reads each body's exposure program and drive mode
/// (libgphoto2's `expprogram` and `capturemode` on the virtual generic body) and warns, by kind, when either would
/// spoil a wired release. Under a software trigger they are reported but not judged.
@Suite struct WiredReleasePreflightTests {
    @Test func aMeteringOrBurstBodyIsAWarningForAWiredRelease() throws {
        let fixture = try VirtualRigFixture(width: 320, height: 240, trigger: .external)
        defer { fixture.tearDown() }
        let library = try GPhotoLibrary()
        do {
            let rig = try Rig(file: fixture.file, library: library)
            defer { rig.close() }
            let ready = try rig.preflight(apply: false)
            #expect(ready.cameras.allSatisfy { $0.exposureProgram == "M" && $0.driveMode == "Single Shot" }, "\(ready.cameras)")
            #expect(!ready.warnings.contains { $0.kind == .exposureProgram || $0.kind == .driveMode }, "\(ready.warnings)")
            // The deep body's dial turned to aperture priority and its drive to burst (set as a person would, here
            // through libgphoto2).
            try rig.deep.set("expprogram", to: "A")
            try rig.deep.set("capturemode", to: "Burst")
            let risky = try rig.preflight(apply: false)
            let wired = risky.warnings.filter { $0.kind == .exposureProgram || $0.kind == .driveMode }
            #expect(wired.map(\.kind).sorted { $0.rawValue < $1.rawValue } == [.driveMode, .exposureProgram], "\(risky.warnings)")
            #expect(wired.allSatisfy { $0.role == .deep && $0.message.contains("deep camera") })
            #expect(wired.contains { $0.message.contains("exposure program \"A\" is not manual") })
            #expect(wired.contains { $0.message.contains("drive mode \"Burst\" is not single shot") })
            #expect(risky.ok, "warnings, not errors")
        }
        // The same bodies under a software trigger: reported, not judged.
        var software = fixture.file
        software.trigger = .software
        let rig = try Rig(file: software, library: library)
        defer { rig.close() }
        let report = try rig.preflight(apply: false)
        #expect(report.cameras.first { $0.role == .deep }?.exposureProgram == "A")
        #expect(!report.warnings.contains { $0.kind == .exposureProgram || $0.kind == .driveMode }, "\(report.warnings)")
    }
}
