import PairVocabulary
import TestSupport
import Foundation

import Rig
import VirtualCamera

/// A virtual rig on free loopback ports with small frames, and the rig file that points at it.
final class VirtualRigFixture {
    let rig: VirtualRig
    var file: RigFile
    let output: URL
    let root: URL

    init(width: Int = 480, height: Int = 320, format: CaptureFormat = .dng, trigger: TriggerMode = .software, fileTimeout: Double = 10,
         busyRetries: Int = 6, shallowVendor: VirtualVendor = .generic, deepVendor: VirtualVendor = .generic,
         configure: (inout VirtualCameraConfiguration) -> Void = { _ in }) throws {
        root = try makeTemporaryDirectory()
        output = root.appendingPathComponent("pairs")
        let scene = Scene.builtIn(.planes, width: width, height: height)
        rig = try VirtualRig(scene: scene, width: width, height: height, format: format,
                             shallowVendor: shallowVendor, deepVendor: deepVendor, configure: configure)
        rig.start()
        func spec(_ camera: VirtualCamera, _ role: CameraRole) -> RigCameraSpec {
            let s = camera.configuration.settings
            return RigCameraSpec(role: role, port: camera.portPath, serial: camera.configuration.serialNumber,
                                 model: camera.configuration.vendor.libgphoto2Model, settings: RoleSettings(aperture: s.fNumber, shutter: s.exposureTime, iso: s.iso,
                                                        focusDistance: camera.configuration.vendor == .generic ? s.focusDistance : nil))
        }
        file = RigFile(name: "test rig", trigger: trigger, cameras: [spec(rig.shallow, .shallow), spec(rig.deep, .deep)],
                       fileTimeout: TestTime.scaled(fileTimeout), busyRetries: busyRetries, alignment: AlignmentCalibration(mirror: .horizontal))
    }

    /// Files in the output folder (none when it does not exist).
    var outputFiles: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: output.path)) ?? []).sorted()
    }

    func tearDown() {
        rig.stop()
        try? FileManager.default.removeItem(at: root)
    }
}
