import Foundation
import PairVocabulary
import Rig
import Testing
import VirtualCamera

/// The pre-flight's judgement of each camera, read from virtual bodies.
@Suite struct PreflightTests {
    /// The threshold is `CameraPreflight.lowBatteryPercent`, the figure the capture dashboard warns at too: one
    /// point under it is a warning, the figure itself is not.
    @Test func aBatteryUnderTheThresholdIsAWarning() throws {
        let fixture = try VirtualRigFixture { configuration in
            configuration.batteryPercent = CameraPreflight.lowBatteryPercent - (configuration.name == "shallow" ? 1 : 0)
        }
        defer { fixture.tearDown() }
        let rig = try Rig(file: fixture.file, library: try GPhotoLibrary())
        defer { rig.close() }
        let report = try rig.preflight(apply: false)
        #expect(report.cameras.map(\.batteryPercent) == [CameraPreflight.lowBatteryPercent - 1, CameraPreflight.lowBatteryPercent])
        #expect(report.warnings.filter { $0.kind == .lowBattery }.map(\.role) == [.shallow], "\(report.warnings)")
    }

    /// After a pair `capture --serve` reads the cards for the figure and, every 10 s, the cameras in full for the
    /// dashboard: the full reading takes the free space from the cards just read, so each card is read once.
    @Test func theFullReadingAfterAPairReadsEachCardOnce() throws {
        let fixture = try VirtualRigFixture(format: .jpeg)
        defer { fixture.tearDown() }
        fixture.file.keepOnCamera = true
        let rig = try Rig(file: fixture.file, library: try GPhotoLibrary())
        defer { rig.close() }
        let monitor = CardSpaceMonitor(rig: rig, preflight: try rig.preflight(apply: false))
        _ = try rig.capturePair(index: 1, into: fixture.output)
        func reads() -> [Int] { fixture.rig.cameras.map(\.storageInfoReads) }

        var before = reads()
        let plain = monitor.afterPair()
        let once = zip(reads(), before).map { $0 - $1 }
        #expect(plain.cameras == nil && plain.fit != nil)
        #expect(once.allSatisfy { $0 > 0 }, "the figure read no card: \(once)")

        before = reads()
        let full = monitor.afterPair(readingCameras: true)
        #expect(zip(reads(), before).map { $0 - $1 } == once, "the full reading read the cards again")
        #expect(full.fit == plain.fit)
        // What a reading of its own finds (which reads the cards itself).
        before = reads()
        let own = try rig.preflight(apply: false)
        #expect(zip(reads(), before).map { $0 - $1 } == once)
        #expect(full.cameras == own.cameras)
    }
}
