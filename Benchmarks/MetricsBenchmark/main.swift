// Times every metric on a 1680x1120 pair (DPDD's test size). LPIPS runs with weights of the right shapes (values
// do not change its cost): the installed lpips-alex model if there is one, else seeded random ones.
import Foundation
import Metrics
import NeuralCore

let (width, height) = (1680, 1120)
struct Random {
    var state: UInt64 = 2024
    mutating func next() -> Double {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Double(state >> 11) / Double(1 << 53)
    }
}
var random = Random()
var pixels = [Double](repeating: 0, count: 3 * width * height)
for c in 0..<3 {
    for y in 0..<height {
        for x in 0..<width {
            let smooth = 0.5 + 0.4 * sin(Double(x) / 37 + Double(c)) * cos(Double(y) / 53)
            pixels[(c * height + y) * width + x] = (smooth * 255).rounded() / 255
        }
    }
}
let target = try MetricImage(width: width, height: height, pixels: pixels)
var noisy = pixels
for i in noisy.indices {
    let v: Double = min(1, max(0, noisy[i] + 0.05 * (random.next() - 0.5)))
    noisy[i] = (v * 255).rounded() / 255
}
let output = try MetricImage(width: width, height: height, pixels: noisy)

let installed = ModelStore().url(forModel: LPIPS.modelName)
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

func time(_ name: String, runs: Int = 3, _ body: () throws -> Double) rethrows {
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
}

print("metrics on a \(width)x\(height) pair, \(ProcessInfo.processInfo.activeProcessorCount) cores")
try time("PSNR") { try PixelMetrics.psnr(output, target) }
try time("MAE") { try PixelMetrics.mae(output, target) }
try time("SSIM") { try PixelMetrics.ssim(output, target) }
try time("SSIM (Gaussian)") { try PixelMetrics.ssimGaussian(output, target) }
try time("LPIPS") { try network.distance(output, target) }
try time("LPIPS features") { Double(try network.features(output).count) }
try time("all (report)") {
    let r = try MetricReport(output: output, target: target, lpips: network)
    return r.lpips ?? 0
}
