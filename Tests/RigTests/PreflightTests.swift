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
}
