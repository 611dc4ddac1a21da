// Times every metric on a 1680x1120 pair (DPDD's test size). LPIPS runs with weights of the right shapes (values
// do not change its cost): the installed lpips-alex model if there is one, else seeded random ones. Prints the
// kernels that ran, LPIPS's GFLOP/s against OpenBLAS's sgemm peak measured in the same run, and its time against
// the direct-convolution bound (its convolutions' FLOPs at that peak).
//
//   swift run -c release MetricsBenchmark        (RIGCTL_WINOGRAD=0 / RIGCTL_MAX_ISA=avx2: the slower paths)
import BenchmarkSupport
import Foundation
import Imaging
import Metrics
import NeuralCore

// `--pair OUTPUT TARGET` times the metrics on those image files instead of the synthetic pair, `--lpips-weights F`
// uses those weights, `--runs N` sets the runs per figure (median quoted; default 3), `--layers` adds the first two
// layers with and without `ThreeByThreeRewrite` (time, largest difference) and LPIPS's distance both ways.
var arguments = Array(CommandLine.arguments.dropFirst())
var pairFiles: (String, String)?
var weightsFile: String?
var requestedRuns = 3
var layers = false
var realblurSize: (Int, Int)?
while !arguments.isEmpty {
    let flag = arguments.removeFirst()
    switch flag {
    case "--pair" where arguments.count >= 2: pairFiles = (arguments.removeFirst(), arguments.removeFirst())
    case "--lpips-weights" where !arguments.isEmpty: weightsFile = arguments.removeFirst()
    case "--runs" where !arguments.isEmpty: requestedRuns = max(1, Int(arguments.removeFirst()) ?? 3)
    case "--layers": layers = true
    case "--realblur" where !arguments.isEmpty:
        let parts = arguments.removeFirst().split(separator: "x").compactMap { Int($0) }
        realblurSize = parts.count == 2 ? (parts[0], parts[1]) : nil
    default:
        FileHandle.standardError.write(Data("usage: MetricsBenchmark [--pair OUTPUT TARGET] [--lpips-weights F] [--runs N] [--layers]\n".utf8))
        exit(64)
    }
}

let runs = requestedRuns

// `--realblur WxH`: the realblur protocol's alignment (gain, 100 ECC iterations, warps) and masked scores on a
// synthetic pair of that size whose output is shifted by (0.7, -0.4) px, against the plain metrics (the ifan and
// dpdd protocols' scoring, LPIPS left out) on the same pair. Median of --runs.
if let (width, height) = realblurSize {
    var truth = [Double](repeating: 0, count: 3 * width * height), shifted = truth
    for c in 0..<3 {
        for y in 0..<height {
            for x in 0..<width {
                func f(_ u: Double, _ v: Double) -> Double {
                    0.5 + 0.3 * sin(u / 23 + Double(c)) * cos(v / 31) + 0.15 * sin((u + v) / 7)
                }
                truth[(c * height + y) * width + x] = (f(Double(x), Double(y)) * 255).rounded() / 255
                shifted[(c * height + y) * width + x] = (f(Double(x) + 0.7, Double(y) - 0.4) * 0.95 * 255).rounded() / 255
            }
        }
    }
    let a = try MetricImage(width: width, height: height, pixels: shifted)
    let b = try MetricImage(width: width, height: height, pixels: truth)
    func median(_ body: () throws -> Void) rethrows -> Double {
        var times: [Double] = []
        for _ in 0..<runs {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return times.sorted()[times.count / 2]
    }
    var aligned: RealBlurAlignment?
    let plain = try median { _ = try MetricReport(output: a, target: b, lpips: nil) }
    let align = try median { aligned = try RealBlurAlignment(output: a, target: b) }
    let scores = try median { _ = (aligned!.psnr, try aligned!.ssim, aligned!.mae) }
    print(Kernels.summary + "; load average " + Machine.loadAverage(fields: 3))
    print(String(format: "realblur %dx%d: plain metrics %.2f s; alignment %.2f s + masked scores %.2f s (median of %d)",
                 width, height, plain, align, scores, runs))
    print("homography: \(aligned!.homography.map { String(format: "%.5f", $0) }.joined(separator: " "))")
    exit(0)
}

struct Random {
    var state: UInt64 = 2024
    mutating func next() -> Double {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Double(state >> 11) / Double(1 << 53)
    }
}
var random = Random()
let output: MetricImage, target: MetricImage
if let pair = pairFiles {
    let (a, b) = pair
    func load(_ path: String) throws -> MetricImage {
        let image = try ImageFile.read(URL(fileURLWithPath: path))
        return try MetricImage(width: image.width, height: image.height, planar: image.pixels)
    }
    (output, target) = (try load(a), try load(b))
    print("pair: \(a), \(b)")
} else {
    let (width, height) = (1680, 1120)
    var pixels = [Double](repeating: 0, count: 3 * width * height)
    for c in 0..<3 {
        for y in 0..<height {
            for x in 0..<width {
                let smooth = 0.5 + 0.4 * sin(Double(x) / 37 + Double(c)) * cos(Double(y) / 53)
                pixels[(c * height + y) * width + x] = (smooth * 255).rounded() / 255
            }
        }
    }
    target = try MetricImage(width: width, height: height, pixels: pixels)
    var noisy = pixels
    for i in noisy.indices {
        let v: Double = min(1, max(0, noisy[i] + 0.05 * (random.next() - 0.5)))
        noisy[i] = (v * 255).rounded() / 255
    }
    output = try MetricImage(width: width, height: height, pixels: noisy)
}
let (width, height) = (output.width, output.height)

let installed = weightsFile.map { URL(fileURLWithPath: $0) } ?? ModelStore().url(forModel: LPIPS.modelName)
var weights: TensorDictionary = [:]
if FileManager.default.fileExists(atPath: installed.path) {
    weights = try SafeTensors.read(installed)
    print("LPIPS weights: \(installed.path)")
} else {
    let shapes: [(Int, [Int])] = [(0, [64, 3, 11, 11]), (3, [192, 64, 5, 5]), (6, [384, 192, 3, 3]), (8, [256, 384, 3, 3]),
                                  (10, [256, 256, 3, 3])]
    for (i, (layer, shape)) in shapes.enumerated() {
        let n = shape.reduce(1, *)
        let scale = 1 / Double(shape[1] * shape[2] * shape[3]).squareRoot()
        weights["features.\(layer).weight"] = Tensor(shape: shape, data: (0..<n).map { _ in Float((random.next() - 0.5) * 2 * scale) })
        weights["features.\(layer).bias"] = Tensor(shape: [shape[0]], data: (0..<shape[0]).map { _ in Float(random.next() * 0.1) })
        weights["lin\(i).model.1.weight"] = Tensor(shape: [1, shape[0], 1, 1], data: (0..<shape[0]).map { _ in Float(random.next()) })
    }
    print("LPIPS weights: random (none installed)")
}
let network = try LPIPS(weights: weights)

/// Multiply-accumulates of LPIPS-alex's five convolutions on one image (two 3x3/2 poolings after the first two).
func lpipsMACs(width: Int, height: Int) -> Double {
    var (h, w) = ((height + 4 - 11) / 4 + 1, (width + 4 - 11) / 4 + 1)
    var total = Double(64 * 3 * 121 * h * w)
    (h, w) = ((h - 3) / 2 + 1, (w - 3) / 2 + 1)
    total += Double(192 * 64 * 25 * h * w)
    (h, w) = ((h - 3) / 2 + 1, (w - 3) / 2 + 1)
    total += Double((384 * 192 + 256 * 384 + 256 * 256) * 9 * h * w)
    return total
}


@discardableResult
func time(_ name: String, _ body: () throws -> Double) rethrows -> Double {
    var times: [Double] = []
    var value = 0.0
    for _ in 0..<runs {
        let start = DispatchTime.now().uptimeNanoseconds
        value = try body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    times.sort()
    let label = name.padding(toLength: 16, withPad: " ", startingAt: 0)
    print(label + String(format: " median %.3f s  (min %.3f, max %.3f)  value %.6f", times[runs / 2], times[0],
                         times[runs - 1], value))
    return times[runs / 2]
}

print(Kernels.summary)
let peak = SgemmPeak.measure()
print(String(format: "OpenBLAS sgemm 1024^3 (%d threads, core %@): %.1f GFLOP/s, %.1f per core by CPU time; load average %@",
             BLASThreads.workers, BLAS.coreName as NSString, peak.wall, peak.perCore, Machine.loadAverage() as NSString))
print("metrics on a \(width)x\(height) pair, \(ProcessInfo.processInfo.activeProcessorCount) cores")
try time("PSNR") { try PixelMetrics.psnr(output, target) }
try time("MAE") { try PixelMetrics.mae(output, target) }
try time("SSIM") { try PixelMetrics.ssim(output, target) }
try time("SSIM (Gaussian)") { try PixelMetrics.ssimGaussian(output, target) }
let c0 = processCPUSeconds()
let lpipsTime = try time("LPIPS") { try network.distance(output, target) }
let lpipsCPU = (processCPUSeconds() - c0) / Double(runs)
let flops = 2 * 2 * lpipsMACs(width: width, height: height)  // two images
print(String(format: "LPIPS: %.1f GMAC per pair (direct convolution), %.1f GFLOP/s = %.0f%% of the sgemm peak; "
             + "%.2f s CPU per pair = %.1f GFLOP/s per core (%.0f%% of sgemm's per core)", flops / 2e9, flops / lpipsTime / 1e9,
             100 * flops / lpipsTime / 1e9 / peak.wall, lpipsCPU, flops / lpipsCPU / 1e9, 100 * flops / lpipsCPU / 1e9 / peak.perCore))
let bound = flops / (peak.wall * 1e9)
print(String(format: "direct-convolution bound at this sgemm peak: %.3f s; LPIPS time / bound = %.2f; load average %@", bound,
             lpipsTime / bound, Machine.loadAverage() as NSString))
try time("LPIPS features") { Double(try network.features(output).count) }
try time("all (report)") {
    let r = try MetricReport(output: output, target: target, lpips: network)
    return r.lpips ?? 0
}

/// 3x3 stride-2 max pooling, as LPIPS runs it between the first layers.
func maxPool(_ x: Tensor) throws -> Tensor {
    let (c, h, w) = (x.shape[0], x.shape[1], x.shape[2])
    let (oh, ow) = ((h - 3) / 2 + 1, (w - 3) / 2 + 1)
    var out = [Float](repeating: 0, count: c * oh * ow)
    for ch in 0..<c {
        for y in 0..<oh {
            for xx in 0..<ow {
                var m = -Float.infinity
                for dy in 0..<3 { for dx in 0..<3 { m = max(m, x.data[(ch * h + 2 * y + dy) * w + 2 * xx + dx]) } }
                out[(ch * oh + y) * ow + xx] = m
            }
        }
    }
    return Tensor(shape: [c, oh, ow], data: out)
}

if layers {
    // The first two layers on the first image (as it is, not scaled as LPIPS scales it), plain and rewritten.
    let plain = try LPIPS(weights: weights, rewriting: false), rewritten = try LPIPS(weights: weights, rewriting: true)
    let d0 = try plain.distance(output, target), d1 = try rewritten.distance(output, target)
    print(String(format: "LPIPS distance plain %.9f, rewritten %.9f: difference %.3g (%.3g relative)", d0, d1, abs(d1 - d0),
                 abs(d1 - d0) / d0))
    let f0 = try plain.features(output), f1 = try rewritten.features(output)
    for (k, (a, b)) in zip(f0, f1).enumerated() {
        let largest = a.data.map(abs).max() ?? 1
        let worst = zip(a.data, b.data).map { abs($0 - $1) }.max() ?? 0
        print(String(format: "stage %d features: largest difference %.3g = %.3g of the largest value", k + 1, worst, worst / largest))
    }
    var x = Tensor(shape: [3, height, width], data: output.pixels.map(Float.init))
    for (i, (key, stride, padding)) in [("features.0", 4, 2), ("features.3", 1, 2)].enumerated() {
        let w = weights[key + ".weight"]!, b = weights[key + ".bias"]
        let conv = try Conv2D(weight: w, bias: b, stride: stride, padding: padding, activation: .relu)
        let rewrite = try ThreeByThreeRewrite(weight: w, bias: b, stride: stride, padding: padding, activation: .relu)!
        let c0 = processCPUSeconds()
        let t0 = try time("\(key) plain") { Double(try conv(x).data.count) }
        let cpuPlain = (processCPUSeconds() - c0) / Double(runs)
        let c1 = processCPUSeconds()
        let t1 = try time("\(key) 3x3") { Double(try rewrite(x).data.count) }
        let cpuRewrite = (processCPUSeconds() - c1) / Double(runs)
        print(String(format: "%@ (%@): plain %.3f s wall %.3f s CPU, rewritten %.3f s wall %.3f s CPU", key as NSString,
                     "\(rewrite.form)" as NSString, t0, cpuPlain, t1, cpuRewrite))
        x = try conv(x)
        if i == 0 { x = try maxPool(x) }
    }
}
