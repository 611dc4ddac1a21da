// Times every metric on a 1680x1120 pair (DPDD's test size). LPIPS runs with weights of the right shapes (values
// do not change its cost): the installed lpips-alex model if there is one, else seeded random ones. Prints the
// kernels that ran, LPIPS's GFLOP/s against OpenBLAS's sgemm peak measured in the same run, and its time against
// the direct-convolution bound (its convolutions' FLOPs at that peak).
//
//   swift run -c release MetricsBenchmark        (RIGCTL_WINOGRAD=0 / RIGCTL_MAX_ISA=avx2: the slower paths)
import Foundation
import Imaging
import Metrics
import NeuralCore

// `--pair OUTPUT TARGET` times the metrics on those image files instead of the synthetic pair, `--lpips-weights F`
// uses those weights, `--runs N` sets the runs per figure (median quoted; default 3).
var arguments = Array(CommandLine.arguments.dropFirst())
var pairFiles: (String, String)?
var weightsFile: String?
var requestedRuns = 3
while !arguments.isEmpty {
    let flag = arguments.removeFirst()
    switch flag {
    case "--pair" where arguments.count >= 2: pairFiles = (arguments.removeFirst(), arguments.removeFirst())
    case "--lpips-weights" where !arguments.isEmpty: weightsFile = arguments.removeFirst()
    case "--runs" where !arguments.isEmpty: requestedRuns = max(1, Int(arguments.removeFirst()) ?? 3)
    default:
        FileHandle.standardError.write(Data("usage: MetricsBenchmark [--pair OUTPUT TARGET] [--lpips-weights F] [--runs N]\n".utf8))
        exit(64)
    }
}

let runs = requestedRuns

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
let network: LPIPS
if FileManager.default.fileExists(atPath: installed.path) {
    network = try LPIPS(contentsOf: installed)
    print("LPIPS weights: \(installed.path)")
} else {
    var weights: TensorDictionary = [:]
    let shapes: [(Int, [Int])] = [(0, [64, 3, 11, 11]), (3, [192, 64, 5, 5]), (6, [384, 192, 3, 3]), (8, [256, 384, 3, 3]),
                                  (10, [256, 256, 3, 3])]
    for (i, (layer, shape)) in shapes.enumerated() {
        let n = shape.reduce(1, *)
        let scale = 1 / Double(shape[1] * shape[2] * shape[3]).squareRoot()
        weights["features.\(layer).weight"] = Tensor(shape: shape, data: (0..<n).map { _ in Float((random.next() - 0.5) * 2 * scale) })
        weights["features.\(layer).bias"] = Tensor(shape: [shape[0]], data: (0..<shape[0]).map { _ in Float(random.next() * 0.1) })
        weights["lin\(i).model.1.weight"] = Tensor(shape: [1, shape[0], 1, 1], data: (0..<shape[0]).map { _ in Float(random.next()) })
    }
    network = try LPIPS(weights: weights)
    print("LPIPS weights: random (none installed)")
}

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

func loadAverage() -> String {
    (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first.map(String.init) ?? "?"
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
             BLASThreads.workers, BLAS.coreName as NSString, peak.wall, peak.perCore, loadAverage() as NSString))
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
             lpipsTime / bound, loadAverage() as NSString))
try time("LPIPS features") { Double(try network.features(output).count) }
try time("all (report)") {
    let r = try MetricReport(output: output, target: target, lpips: network)
    return r.lpips ?? 0
}
