import Foundation
import Imaging
import PairVocabulary
import Rig
import VirtualCamera

// Software-trigger skew and throughput of the rig on two virtual cameras over loopback PTP/IP.
// Usage: swift run -c release RigBenchmark [pairs] [width] [height]

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let pairCount = arguments.count > 0 ? max(2, arguments[0]) : 30
let width = arguments.count > 1 ? arguments[1] : 1200
let height = arguments.count > 2 ? arguments[2] : 800

func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    let rank = min(sorted.count - 1, max(0, Int((p * Double(sorted.count - 1)).rounded())))
    return sorted[rank]
}

do {
    let output = FileManager.default.temporaryDirectory.appendingPathComponent("rig-benchmark-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: output) }
    let scene = Scene.builtIn(.planes, width: width, height: height)
    let virtual = try VirtualRig(scene: scene, width: width, height: height)
    virtual.start()
    defer { virtual.stop() }
    func spec(_ camera: VirtualCamera, _ role: CameraRole) -> RigCameraSpec {
        let s = camera.configuration.settings
        return RigCameraSpec(role: role, port: camera.portPath,
                             settings: RoleSettings(aperture: s.fNumber, shutter: s.exposureTime, iso: s.iso, focusDistance: s.focusDistance))
    }
    let file = RigFile(name: "benchmark", cameras: [spec(virtual.shallow, .shallow), spec(virtual.deep, .deep)])
    let connectStart = Date()
    let library = try GPhotoLibrary()
    let rig = try Rig(file: file, library: library)
    defer { rig.close() }
    try rig.applySettings()
    let connectTime = Date().timeIntervalSince(connectStart)

    var hostSkews: [Double] = []
    var cameraSkews: [Double] = []
    var latencies: [Double] = []
    let start = Date()
    for i in 1...pairCount {
        let before = Date()
        let pair = try rig.capturePair(index: i, into: output)
        latencies.append(Date().timeIntervalSince(before))
        hostSkews.append(abs(pair.triggerSkew ?? .nan))
        let s = virtual.shallow.captureLog[i - 1].triggered, d = virtual.deep.captureLog[i - 1].triggered
        cameraSkews.append(abs(d.timeIntervalSince(s)))
    }
    let elapsed = Date().timeIntervalSince(start)
    print("RigBenchmark: \(pairCount) pairs of \(width)x\(height) DNG, two virtual cameras on loopback, libgphoto2 \(GPhotoLibrary.version)")
    print(String(format: "  connect + settings        %.3f s", connectTime))
    print(String(format: "  trigger skew, host view   median %.3f ms  p99 %.3f ms  max %.3f ms",
                 percentile(hostSkews, 0.5) * 1000, percentile(hostSkews, 0.99) * 1000, hostSkews.max()! * 1000))
    print(String(format: "  trigger skew, camera view median %.3f ms  p99 %.3f ms  max %.3f ms",
                 percentile(cameraSkews, 0.5) * 1000, percentile(cameraSkews, 0.99) * 1000, cameraSkews.max()! * 1000))
    print(String(format: "  pair latency              median %.0f ms  p99 %.0f ms", percentile(latencies, 0.5) * 1000,
                 percentile(latencies, 0.99) * 1000))
    print(String(format: "  throughput                %.1f pairs/min (%.1f s for %d pairs)", Double(pairCount) / elapsed * 60,
                 elapsed, pairCount))
} catch {
    FileHandle.standardError.write(Data("RigBenchmark failed: \(error)\n".utf8))
    exit(1)
}
