import Alignment
import BenchmarkSupport
import Foundation
import Imaging
import PairVocabulary
import Rig
import VirtualCamera

// Live view on the virtual rig (Canon EOS shallow + Nikon deep, in this process, loopback PTP/IP): frames per
// second of `rig liveview`'s loop (fetch both views, undo the mirror, register coarsely, sharpness), each stage's
// median, and how far the coarse registration's offsets are from a registration at full live-view size and from
// the deep camera's known offsets.
// Usage: swift run -c release LiveViewBenchmark [frames] [width] [height]   (frame size; live view is half of it)

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let frameCount = arguments.count > 0 ? max(3, arguments[0]) : 20
let width = arguments.count > 1 ? arguments[1] : 1200
let height = arguments.count > 2 ? arguments[2] : 800

func median(_ values: [Double]) -> Double {
    let s = values.sorted()
    return s.isEmpty ? .nan : (s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2)
}

func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let start = DispatchTime.now().uptimeNanoseconds
    let value = try body()
    return (value, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
}



func view(_ camera: RigCamera) throws -> RGBImage {
    RGBImage(raster: try JPEGFile.decode(try camera.capturePreview(), path: "\(camera.label) live view"))
}

do {
    let virtual = try VirtualRig(scene: Scene.builtIn(.cards, width: width, height: height), width: width, height: height,
                                 shallowVendor: .canon, deepVendor: .nikon)
    virtual.start()
    defer { virtual.stop() }
    func spec(_ camera: VirtualCamera, _ role: CameraRole) -> RigCameraSpec {
        RigCameraSpec(role: role, port: camera.portPath, model: camera.configuration.vendor.libgphoto2Model, settings: RoleSettings())
    }
    let file = RigFile(name: "benchmark", cameras: [spec(virtual.shallow, .shallow), spec(virtual.deep, .deep)])
    let rig = try Rig(file: file, library: try GPhotoLibrary())
    defer { rig.close() }
    let truth = virtual.deep.configuration.character
    let liveView = virtual.shallow.liveViewSize
    let toSensor = Double(width) / Double(liveView.width)
    print("LiveViewBenchmark: \(frameCount) frames, \(width)x\(height) virtual Canon EOS + Nikon, live view \(liveView.width)x\(liveView.height), libgphoto2 \(GPhotoLibrary.version)")
    print("  CPU \(Machine.cpuModel), \(ProcessInfo.processInfo.activeProcessorCount) cores, load before \(Machine.loadAverage(fields: 3))")

    // The loop of `rig liveview`: both views, mirror undone, coarse registration, sharpness.
    var fetch: [Double] = [], register: [Double] = [], rest: [Double] = [], whole: [Double] = []
    var frames: [(RGBImage, RGBImage)] = []
    _ = try view(rig.shallow)  // the first frame starts each body's live view
    _ = try view(rig.deep)
    let coarse = LiveViewRegistration()
    let loopStart = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<frameCount {
        let ((shallow, deep), tFetch) = try timed { (try view(rig.shallow), try view(rig.deep)) }
        let (flipped, tFlip) = timed { LiveViewImages.flipped(deep, .horizontal) }
        let (_, tRegister) = try timed { try coarse.register(source: shallow, target: flipped) }
        let (_, tSharp) = timed { (LiveViewFocus.sharpness(shallow), LiveViewFocus.sharpness(flipped)) }
        fetch.append(tFetch)
        register.append(tRegister)
        rest.append(tFlip + tSharp)
        whole.append(tFetch + tFlip + tRegister + tSharp)
        if frames.count < 3 { frames.append((shallow, flipped)) }
    }
    let loop = Double(DispatchTime.now().uptimeNanoseconds - loopStart) / 1e9
    print(String(format: "  loop                      %.2f frames/s (%d frames in %.2f s); median frame %.0f ms", Double(frameCount) / loop,
                 frameCount, loop, median(whole) * 1000))
    print(String(format: "    fetch both views        median %.0f ms (libgphoto2 + the virtual bodies rendering and encoding in this process)", median(fetch) * 1000))
    print(String(format: "    coarse registration     median %.1f ms (maxSide %d)", median(register) * 1000, coarse.maxSide))
    print(String(format: "    flip + sharpness        median %.1f ms", median(rest) * 1000))
    print(String(format: "  without fetching          %.1f frames/s (registration, flip and sharpness alone)",
                 1 / median(zip(register, rest).map { $0 + $1 })))

    // Accuracy and cost by registration size, on the first frame; full size = the live view itself.
    let (shallow, deep) = frames[0]
    func measured(_ r: LiveViewRegistration) throws -> (LiveViewMeasurement, Double) {
        var times: [Double] = []
        var m: LiveViewMeasurement?
        for _ in 0..<3 {
            let (result, t) = try timed { try r.register(source: shallow, target: deep) }
            times.append(t)
            m = LiveViewMeasurement(result.homography, width: shallow.width, height: shallow.height, frame: 1,
                                    sensorScale: toSensor, correlation: result.correlation)
        }
        return (m!, median(times))
    }
    let (full, fullTime) = try measured(LiveViewRegistration(maxSide: max(shallow.width, shallow.height)))
    let (aligned, alignTime) = try timed { try Aligner().align(source: shallow, target: deep) }
    let old = LiveViewMeasurement(aligned.homography, width: shallow.width, height: shallow.height, frame: 1,
                                  sensorScale: toSensor, correlation: aligned.quality.registrationCorrelation)
    print(String(format: "  known offsets (sensor px) shift %+.3f, %+.3f  rotation %+.4f deg  scale %.5f", truth.offsetX, truth.offsetY,
                 truth.rotationDegrees, truth.scale))
    print("  registration size         time      shift (sensor px)     rotation    scale     |shift - known|  vs full size")
    func row(_ name: String, _ m: LiveViewMeasurement, _ t: Double) {
        let error = ((m.shiftX - truth.offsetX) * (m.shiftX - truth.offsetX) + (m.shiftY - truth.offsetY) * (m.shiftY - truth.offsetY)).squareRoot()
        let vsFull = ((m.shiftX - full.shiftX) * (m.shiftX - full.shiftX) + (m.shiftY - full.shiftY) * (m.shiftY - full.shiftY)).squareRoot()
        print(String(format: "  %-24@ %6.1f ms  %+7.3f, %+7.3f   %+8.4f   %.5f   %6.3f px        %.3f px, %.4f deg", name as NSString, t * 1000,
                     m.shiftX, m.shiftY, m.rotationDegrees, m.scale, error, vsFull, abs(m.rotationDegrees - full.rotationDegrees)))
    }
    row("full Aligner (before)", old, alignTime)
    row("\(shallow.width) px (live view)", full, fullTime)
    for side in [320, 240, 160, 120, 96] where side < max(shallow.width, shallow.height) {
        let (m, t) = try measured(LiveViewRegistration(maxSide: side))
        row("\(side) px", m, t)
    }
    print("  load after \(Machine.loadAverage(fields: 3))")
} catch {
    FileHandle.standardError.write(Data("LiveViewBenchmark failed: \(error)\n".utf8))
    exit(1)
}
