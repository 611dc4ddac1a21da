import CaptureDashboard
import Foundation
import PairVocabulary
import Pipeline
import Rig
import Testing

/// The state's warnings: each fault the page must show loud, raised from the rig's and the pipeline's own values.
struct DashboardStateTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func state(maxSkew: Double? = nil) -> DashboardState {
        DashboardState(destination: "/data/set", scene: "desk", planned: 10, trigger: .software, maxSkew: maxSkew)
    }

    static func pair(_ index: Int, skew: Double = 0.0002, discarded: [String] = []) -> CapturedPair {
        func file(_ role: CameraRole) -> CapturedFile {
            let t = t0.addingTimeInterval(Double(index))
            return CapturedFile(role: role, fileName: String(format: "%04d_%@.dng", index, role.rawValue), cameraPath: "/store/\(index)",
                                cameraPort: "ptpip:127.0.0.1:\(role == .shallow ? 15740 : 15742)", bytes: 1000,
                                triggerStart: t, triggerEnd: t.addingTimeInterval(0.01), arrival: t.addingTimeInterval(0.2),
                                downloaded: t.addingTimeInterval(0.3))
        }
        return CapturedPair(index: index, trigger: .software, shallow: file(.shallow), deep: file(.deep), triggerSkew: skew,
                            arrivalSkew: 0.001, discarded: discarded, directory: URL(fileURLWithPath: "/tmp"))
    }

    /// A pre-flight as the rig reports it (decoded, as `rig check --json` writes it).
    static func preflight(battery: Int, freeImages: UInt64) throws -> PreflightReport {
        func camera(_ role: CameraRole) -> String {
            """
            {"role": "\(role)", "port": "ptpip:127.0.0.1:1", "vendor": "generic", "model": "Virtual \(role)",
             "battery": "\(battery)%", "batteryPercent": \(battery), "capturesToHost": false, "freeImages": \(freeImages),
             "shotsThatFit": \(freeImages), "fitBasis": "cameraEstimate", "filesPerShot": 1, "aperture": "f/2.8",
             "focusMode": "Manual", "applied": []}
            """
        }
        let json = """
            {"cameras": [\(camera(.shallow)), \(camera(.deep))], "pairsThatFit": \(freeImages), "pairsThatFitBasis": "cameraEstimate",
             "warnings": [{"kind": "focusMode", "role": "deep", "message": "deep camera: focus mode is autofocus"}], "errors": []}
            """
        return try JSONDecoder().decode(PreflightReport.self, from: Data(json.utf8))
    }

    static func kinds(_ s: DashboardState) -> [DashboardWarning.Kind] { s.warnings.map(\.kind) }

    @Test func aDroppedLinkSaysWhichCameraIsGone() throws {
        var s = Self.state()
        s.apply(.preflight(try Self.preflight(battery: 90, freeImages: 900)))
        s.apply(.capturing)
        s.apply(.captured(number: 1, captureID: 7, pair: Self.pair(1), scene: "desk"))
        #expect(s.warnings.isEmpty, "\(s.warnings)")
        let lost = CameraFailure(role: .deep, camera: "deep camera (ptpip:127.0.0.1:15742)", stage: .triggering,
                                 reason: "the link failed", code: -7)
        let other = CameraFailure(role: .shallow, camera: "shallow camera", stage: .triggering, reason: "the other failed",
                                  becauseTheOtherFailed: true)
        s.apply(.ended(CaptureFailure(RigError.pairAborted(index: 2, failures: [lost, other]))))
        #expect(s.phase == .failed)
        #expect(Self.kinds(s) == [.cameraGone], "\(s.warnings)")
        #expect(s.warnings[0].role == .deep)
        #expect(s.cameras.first { $0.role == .deep }?.connected == false)
        #expect(s.cameras.first { $0.role == .shallow }?.connected == true)
        // A later reading of the cameras does not bring the gone one back.
        s.apply(.cameras(try Self.preflight(battery: 90, freeImages: 900).cameras))
        #expect(s.cameras.first { $0.role == .deep }?.connected == false)
    }

    /// Over PTP/IP a dropped link and a full card both fail with libgphoto2's general error: what the camera says
    /// when asked again decides.
    @Test func aGeneralErrorIsJudgedByWhatTheCameraSaysAfterwards() {
        func failure(_ role: CameraRole) -> CaptureFailure {
            CaptureFailure(RigError.pairAborted(index: 5, failures: [
                CameraFailure(role: role, camera: "\(role) camera", stage: .triggering, reason: "PTP General Error", code: -1)]))
        }
        var gone = Self.state()
        gone.apply(.askedAfterFailure([.shallow: .gone]))
        gone.apply(.ended(failure(.shallow)))
        #expect(Self.kinds(gone) == [.cameraGone] && gone.warnings[0].role == .shallow)
        var full = Self.state()
        full.apply(.askedAfterFailure([.deep: .cardFull]))
        full.apply(.ended(failure(.deep)))
        #expect(Self.kinds(full) == [.lowCard] && full.warnings[0].message.hasPrefix("pair 5: the deep camera's card is full"),
                "\(full.warnings)")
        var refused = Self.state()
        refused.apply(.askedAfterFailure([.deep: .answering]))
        refused.apply(.ended(failure(.deep)))
        #expect(Self.kinds(refused) == [.captureFailed])
    }

    @Test func aFrameThatNeverCameIsAMissingFrame() {
        var s = Self.state()
        let late = CameraFailure(role: .shallow, camera: "shallow camera", stage: .waitingForFile, reason: "no file in 10 s")
        s.apply(.ended(CaptureFailure(RigError.pairAborted(index: 4, failures: [late]))))
        #expect(Self.kinds(s) == [.missingFrame])
        #expect(s.warnings[0].role == .shallow)
        #expect(s.warnings[0].message.hasPrefix("pair 4: the shallow camera's frame never arrived"), "\(s.warnings[0].message)")
    }

    @Test func filesLeftWithoutAPartnerAreAMissingFrame() {
        var s = Self.state()
        s.apply(.captured(number: 3, captureID: nil, pair: Self.pair(3, discarded: ["IMG_0042.JPG"]), scene: nil))
        #expect(Self.kinds(s) == [.missingFrame])
        #expect(s.warnings[0].message.contains("IMG_0042.JPG"))
    }

    @Test func otherFailuresStopTheCaptureLoudly() {
        var s = Self.state()
        s.apply(.ended(CaptureFailure(RigError.output(path: "/data/set/incoming", reason: "No space left on device"))))
        #expect(Self.kinds(s) == [.captureFailed])
        #expect(s.warnings[0].message.contains("No space left on device"))
        var finished = Self.state()
        finished.apply(.ended(nil))
        #expect(finished.phase == .finished)
        #expect(finished.warnings.isEmpty)
    }

    @Test func lowBatteryAndAFillingCardAreWarnings() throws {
        var s = Self.state()
        s.apply(.preflight(try Self.preflight(battery: 80, freeImages: 400)))
        #expect(s.warnings.isEmpty)
        #expect(s.notices == ["deep camera: focus mode is autofocus"])
        s.apply(.fit(PairsThatFit(pairs: 12, basis: .fileSize, role: .deep)))
        #expect(Self.kinds(s) == [.lowCard])
        #expect(s.warnings[0].role == .deep)
        s.apply(.fit(PairsThatFit(pairs: 0, basis: .fileSize, role: .deep)))
        #expect(s.warnings.count == 1)
        #expect(s.warnings[0].message.contains("card is full"), "\(s.warnings[0].message)")
        s.apply(.cameras(try Self.preflight(battery: 15, freeImages: 0).cameras))
        #expect(Set(Self.kinds(s)) == [.lowCard, .lowBattery])
        #expect(s.warnings.filter { $0.kind == .lowBattery }.compactMap(\.role).sorted { $0.rawValue < $1.rawValue } == [.deep, .shallow])
    }

    /// The dashboard warns at the pre-flight's threshold (`CameraPreflight.lowBatteryPercent`), not a figure of its own.
    @Test func theBatteryWarningStartsUnderThePreflightsThreshold() throws {
        var s = Self.state()
        s.apply(.preflight(try Self.preflight(battery: CameraPreflight.lowBatteryPercent, freeImages: 400)))
        #expect(s.warnings.isEmpty, "\(s.warnings)")
        s.apply(.cameras(try Self.preflight(battery: CameraPreflight.lowBatteryPercent - 1, freeImages: 400).cameras))
        #expect(Self.kinds(s) == [.lowBattery, .lowBattery], "\(s.warnings)")
    }

    @Test func rejectionsInARowWarnUntilAPairIsAccepted() {
        var s = Self.state()
        for n in 1...3 {
            s.apply(.captured(number: n, captureID: CaptureID(Int64(n)), pair: Self.pair(n), scene: "desk"))
            s.apply(.processed(PairOutcome(captureID: CaptureID(Int64(n)), pairID: PairID(Int64(n)), scene: "desk",
                                           split: .unused, verdict: .rejected,
                                           reasons: ["registration failed: correlation 0.12 below 0.5"])))
            #expect(Self.kinds(s) == (n < 3 ? [] : [.rejectionStreak]))
        }
        s.apply(.captured(number: 4, captureID: 4, pair: Self.pair(4), scene: "desk"))
        s.apply(.processed(PairOutcome(captureID: 4, pairID: 4, scene: "desk", split: .test, verdict: .accepted, reasons: [])))
        #expect(s.warnings.isEmpty)
        #expect(s.pairs.map(\.verdict) == [.rejected, .rejected, .rejected, .accepted])
    }

    @Test func skewOverTheLimitIsCountedPerPair() {
        var s = Self.state(maxSkew: 0.001)
        s.apply(.captured(number: 1, captureID: nil, pair: Self.pair(1, skew: 0.0004), scene: nil))
        #expect(s.warnings.isEmpty)
        s.apply(.captured(number: 2, captureID: nil, pair: Self.pair(2, skew: -0.003), scene: nil))
        s.apply(.captured(number: 3, captureID: nil, pair: Self.pair(3, skew: 0.002), scene: nil))
        #expect(Self.kinds(s) == [.skewOverLimit])
        #expect(s.warnings[0].count == 2)
        #expect(s.warnings[0].message.hasPrefix("pair 3: skew 2.000 ms"), "\(s.warnings[0].message)")
        #expect(s.trigger.firings == 3)
    }

    @Test func countsFollowWhereThePipelineFiledEachPair() {
        var s = Self.state()
        for (n, scene, split) in [(1, "desk", Split.test), (2, "desk", .test), (3, "garden", .train)] {
            s.apply(.captured(number: n, captureID: CaptureID(Int64(n)), pair: Self.pair(n), scene: "desk"))
            s.apply(.processed(PairOutcome(captureID: CaptureID(Int64(n)), pairID: PairID(Int64(n)), scene: scene, split: split,
                                           verdict: .accepted, reasons: [])))
        }
        s.apply(.captured(number: 4, captureID: 4, pair: Self.pair(4), scene: "desk"))
        let c = s.counts
        #expect(c.scenes.map(\.0) == ["desk", "garden"])
        #expect(c.scenes.map(\.1) == [3, 1])
        #expect(c.splits.map(\.0) == ["train", "test", "waiting"])
        #expect(c.splits.map(\.1) == [1, 2, 1])
        #expect(c.verdicts.map(\.0) == ["accepted", "waiting"])
    }
}
