// Builds the synthetic pairs of the alignment goal and prints time and accuracy:
//   1. 2000x1333: 0.5 deg rotation, scale 1.005, translation (7.3, -4.1) px, small perspective, disc defocus
//      (radius 6) on the right half of the source, noise 0.01 - registration time and worst corner error,
//      with and without focus weighting, then the full pipeline (warp, colour, quality).
//   2. A 24-megapixel pair (6000x4000) with the same geometry, per-channel gain/offset: the full pipeline.
// Usage: AlignBenchmark [--write DIR] [--skip-large] [--points N,N]
//   --write DIR saves the 2000x1333 grey pair (16-bit PNG) and truth.json, for Benchmarks/align_opencv.py.
import Alignment
import AtomicFiles
import Foundation
import Imaging
import PairVocabulary

func geometry(width: Int, height: Int) -> Homography {
    let cx = Double(width - 1) / 2, cy = Double(height - 1) / 2
    let similarity = Homography.similarity(degrees: 0.5, scale: 1.005, centre: (cx, cy), translation: (7.3, -4.1))
    // Perspective about the centre: about 1 px at the corners.
    let toCentre = Homography.translation(-cx, -cy), back = Homography.translation(cx, cy)
    let perspective = try! Homography([1, 0, 0, 0, 1, 0, 1.0e-6, -1.5e-6, 1])
    return similarity * back * perspective * toCentre
}

func median(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }

/// CPU seconds of this process (all threads): less disturbed than wall time when the machine is shared.
func cpuSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

func time<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let t0 = DispatchTime.now().uptimeNanoseconds
    let r = try body()
    return (r, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
}

func stages(_ r: AlignmentResult) -> String {
    ["registration", "crop", "warp", "colour", "quality"].compactMap { k in
        r.timings[k].map { String(format: "%@ %.2f", k, $0) }
    }.joined(separator: ", ")
}

func greyed(_ image: RGBImage) -> RGBImage {
    let g = Plane(luma: image)
    return RGBImage(width: image.width, height: image.height, transfer: image.transfer,
                    pixels: g.values + g.values + g.values)
}

let arguments = CommandLine.arguments
let writeDir = arguments.firstIndex(of: "--write").flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
let skipLarge = arguments.contains("--skip-large")

print("cores: \(ProcessInfo.processInfo.activeProcessorCount)")
let (w, h) = (2000, 1333)
let truth = geometry(width: w, height: h)
let (pair, makeTime) = time {
    SyntheticPair.make(width: w, height: h, homography: truth, defocusRadius: 6, noise: 0.01, seed: 11)
}
let source = greyed(pair.source), target = greyed(pair.target)
print(String(format: "built the %dx%d grey pair in %.2f s", w, h, makeTime))
if let writeDir {
    let dir = URL(fileURLWithPath: writeDir)
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    func grey16(_ image: RGBImage) -> Raster16 {
        Raster16(width: image.width, height: image.height, channels: 1,
                 samples: image.pixels.prefix(image.planeSize).map { UInt16((min(max($0, 0), 1) * 65535).rounded()) })
    }
    try PNGFile.write(grey16(source), to: dir.appendingPathComponent("source.png"))
    try PNGFile.write(grey16(target), to: dir.appendingPathComponent("target.png"))
    let json = try JSONEncoder().encode(["homography": truth])
    try AtomicFile.write(json, to: dir.appendingPathComponent("truth.json"))
    print("wrote \(writeDir)/source.png, target.png, truth.json")
}

// Sample-pixel budgets to compare (--points 100000,300000); the default options use 300000.
let maxPointsList = (arguments.firstIndex(of: "--points").flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
    ?? "100000,300000").split(separator: ",").compactMap { Int($0) }
for weighting in [true, false] { for mp in maxPointsList {
    var options = AlignerOptions()
    options.registration.maxPoints = mp
    options.registration.focusWeighting = weighting
    let aligner = Aligner(options)
    _ = aligner.estimateHomography(source: source, target: target)  // warm-up
    var times: [Double] = [], errors: [Double] = [], cpu: [Double] = []
    for _ in 0..<5 {
        let c0 = cpuSeconds()
        let (estimate, seconds) = time { aligner.estimateHomography(source: source, target: target) }
        cpu.append(cpuSeconds() - c0)
        times.append(seconds)
        errors.append(estimate.homography.worstCornerError(to: truth, width: w, height: h))
        if let failure = estimate.failure { print("  failure: \(failure)") }
    }
    print(String(format: "registration 2000x1333, focus weighting %@, %d points: median %.1f ms (min %.1f), CPU %.1f ms, worst corner error %.4f px",
                 weighting ? "on " : "off", mp, 1000 * median(times), 1000 * times.min()!, 1000 * median(cpu), errors.max()!))
}}

do {
    let (result, seconds) = try time { try Aligner().align(source: source, target: target) }
    let err = result.homography.worstCornerError(to: truth, width: w, height: h)
    print(String(format: "full pipeline 2000x1333: %.2f s (%@), error %.4f px, verdict %@ %@",
                 seconds, stages(result), err, result.verdict.rawValue, result.reasons.description))
}

// Defocus handling over several independent pairs (seeds): mean and worst of the worst-corner errors.
if let n = arguments.firstIndex(of: "--seeds").flatMap({ $0 + 1 < arguments.count ? Int(arguments[$0 + 1]) : nil }) {
    var errs: [String: [Double]] = [:]
    for seed in 0..<n {
        let p = SyntheticPair.make(width: w, height: h, homography: truth, defocusRadius: 6, noise: 0.01,
                                   seed: 100 + UInt64(seed))
        let s = greyed(p.source), t = greyed(p.target)
        for (name, weighting, matching) in [("plain", false, false), ("blur matching", false, true),
                                            ("focus weighting (floor 0.2)", true, false)] {
            var options = AlignerOptions()
            options.registration.focusWeighting = weighting
            options.registration.blurMatching = matching
            options.registration.maxPoints = maxPointsList.last ?? options.registration.maxPoints
            let e = Aligner(options).estimateHomography(source: s, target: t)
            errs[name, default: []].append(e.homography.worstCornerError(to: truth, width: w, height: h))
        }
    }
    for (k, v) in errs.sorted(by: { $0.key < $1.key }) {
        print(String(format: "%@ over %d pairs: mean %.4f px, worst %.4f px", k, n,
                     v.reduce(0, +) / Double(v.count), v.max()!))
    }
}

if !skipLarge {
    let (W, H) = (6000, 4000)
    let truthL = geometry(width: W, height: H)
    let (large, makeL) = time {
        SyntheticPair.make(width: W, height: H, homography: truthL, defocusRadius: 12, gain: [0.9, 1.05, 1.1],
                           offset: [0.02, -0.01, 0.0], noise: 0.01, seed: 12)
    }
    print(String(format: "built the %dx%d colour pair in %.1f s", W, H, makeL))
    let (estimate, regSeconds) = time { Aligner().estimateHomography(source: large.source, target: large.target) }
    print(String(format: "registration 24 MP: %.2f s, worst corner error %.4f px", regSeconds,
                 estimate.homography.worstCornerError(to: truthL, width: W, height: H)))
    let (result, seconds) = try time { try Aligner().align(source: large.source, target: large.target) }
    let g = result.colour?.fit.gains ?? []
    print(String(format: "full pipeline 24 MP: %.2f s (%@), error %.4f px, colour %@ gains %@ (true inverse %.4f %.4f %.4f), verdict %@ %@",
                 seconds, stages(result), result.homography.worstCornerError(to: truthL, width: W, height: H),
                 result.colour?.model.rawValue ?? "-", g.map { String(format: "%.4f", $0) }.joined(separator: " "),
                 1 / 0.9, 1 / 1.05, 1 / 1.1, result.verdict.rawValue, result.reasons.description))
}
