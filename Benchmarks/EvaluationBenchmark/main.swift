// Pairs per minute of `rigctl evaluate` at the RealDOF image size (about 2320x1536): synthetic 8-bit PNG pairs on
// disk, the input and a random-weights IFAN (the released network's exact shapes, so the same compute) scored
// with every metric (PSNR, both SSIMs, MAE, LPIPS-alex), through `Evaluator` overlapped (decode, network and
// scoring of successive pairs on their own threads) and one by one, alternating in the same run. Prints the
// kernels, the load average around each run, wall and CPU seconds, pairs per minute of each mode and the
// overlap's speed-up (medians over the rounds).
//
//   swift run -c release EvaluationBenchmark [--pairs 3] [--rounds 1] [--size 2320x1536]
//   swift run -c release EvaluationBenchmark --protocols ifan,realblur [--pairs 1] [--rounds 1]
//
// `--protocols A,B` times the two protocols instead (each overlapped, alternating in the same run) and prints the
// wall-time ratio B / A: what aligning each output (realblur) costs over IFAN's protocol.
//
// LPIPS uses the installed lpips-alex weights when there are any, else random ones of the same shapes.
import BenchmarkSupport
import Evaluation
import Foundation
import IFANEngine
import Imaging
import Metrics
import NeuralCore
import PairVocabulary

func option(_ name: String) -> String? {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}


/// User + system CPU seconds of this process so far.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

struct Random {
    var state: UInt64
    /// Uniform in [-1, 1).
    mutating func next() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(state >> 40) / Float(1 << 24) * 2 - 1
    }
}


/// The installed lpips-alex weights, else random ones of its shapes (the cost does not depend on the values).
func lpipsNetwork() throws -> (LPIPS, String) {
    if let url = LPIPS.installedLocations().first(where: { FileManager.default.fileExists(atPath: $0.path) }) {
        return (try LPIPS(contentsOf: url), url.path)
    }
    var rng = Random(state: 7)
    var weights: TensorDictionary = [:]
    let shapes: [(Int, [Int])] = [(0, [64, 3, 11, 11]), (3, [192, 64, 5, 5]), (6, [384, 192, 3, 3]), (8, [256, 384, 3, 3]),
                                  (10, [256, 256, 3, 3])]
    for (i, (layer, shape)) in shapes.enumerated() {
        let n = shape.reduce(1, *)
        let scale = 1 / Float(shape[1] * shape[2] * shape[3]).squareRoot()
        weights["features.\(layer).weight"] = Tensor(shape: shape, data: (0..<n).map { _ in rng.next() * scale })
        weights["features.\(layer).bias"] = Tensor(shape: [shape[0]], data: (0..<shape[0]).map { _ in rng.next() * 0.05 })
        weights["lin\(i).model.1.weight"] = Tensor(shape: [1, shape[0], 1, 1], data: (0..<shape[0]).map { _ in abs(rng.next()) })
    }
    return (try LPIPS(weights: weights), "random (none installed)")
}

/// A defocus-like pair: smooth content with texture; the target has more detail than the source.
func syntheticPair(width: Int, height: Int, seed: UInt64) -> (RGBImage, RGBImage) {
    var rng = Random(state: seed)
    var source = RGBImage(width: width, height: height), target = RGBImage(width: width, height: height)
    let phase = Float(seed % 17)
    for c in 0..<3 {
        for y in 0..<height {
            for x in 0..<width {
                let base = 0.5 + 0.3 * sinf(Float(x) * 0.011 + Float(c) + phase) * cosf(Float(y) * 0.013)
                let detail = 0.08 * sinf(Float(x) * 0.9 + Float(y) * 0.7)
                target[c, x, y] = min(max(base + detail + 0.02 * rng.next(), 0), 1)
                source[c, x, y] = min(max(base + 0.3 * detail + 0.02 * rng.next(), 0), 1)
            }
        }
    }
    return (source, target)
}

func median(_ values: [Double]) -> Double {
    let s = values.sorted()
    return s.isEmpty ? .nan : s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

func main() throws {
    let count = Int(option("--pairs") ?? "") ?? 3
    let rounds = Int(option("--rounds") ?? "") ?? 1
    let size = (option("--size") ?? "2320x1536").split(separator: "x").compactMap { Int($0) }
    guard size.count == 2, count > 0, rounds > 0 else {
        FileHandle.standardError.write(Data("usage: EvaluationBenchmark [--pairs N] [--rounds R] [--size WxH]\n".utf8))
        exit(64)
    }
    let (width, height) = (size[0], size[1])
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("rigctl-eval-bench-" + UUID().uuidString)
    defer { try? FileManager.default.removeItem(at: root) }
    for i in 0..<count {
        let (source, target) = syntheticPair(width: width, height: height, seed: UInt64(i + 1))
        for (folder, image) in [("source", source), ("target", target)] {
            let url = root.appendingPathComponent("\(folder)/p\(i).png")
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try PNGFile.write(image, to: url)
        }
    }
    let pairs = try PairFolder.pairs(in: root)
    let architecture = IFANArchitecture(iterations: 17)
    let ifan = IFANDeblurrer(name: "IFAN", network: try IFANNetwork(weights: architecture.randomWeights()))
    let (lpips, lpipsSource) = try lpipsNetwork()
    let evaluator = Evaluator(methods: [InputMethod(), DeblurModel(name: "IFAN", deblurrer: ifan, weights: nil)], lpips: lpips)
    print(Kernels.summary)
    print("CPU: \(Machine.cpuModel), \(ProcessInfo.processInfo.activeProcessorCount) cores; OpenBLAS core \(BLAS.coreName), \(BLASThreads.workers) threads")
    print("evaluation benchmark: \(count) pairs of \(width)x\(height) 8-bit PNG, Input + IFAN (random weights), "
          + "PSNR, SSIM (uniform, Gaussian), MAE, LPIPS-alex (\(lpipsSource)); \(rounds) round(s)")

    if let list = option("--protocols"), case .success(let named) = EvaluationProtocol.list(list), named.count == 2 {
        var walls: [[Double]] = [[], []]
        for round in 0..<rounds {
            for k in round % 2 == 0 ? [0, 1] : [1, 0] {
                let load = Machine.loadAverage()
                let (t0, c0) = (now(), cpuSeconds())
                let run = Evaluator(methods: evaluator.methods, protocol: named[k], lpips: lpips)
                let report = try run.run(pairs: pairs)
                let (wall, cpu) = (now() - t0, cpuSeconds() - c0)
                walls[k].append(wall)
                print(String(format: "round %d, %@: %.1f s wall, %.1f s CPU (load average %@ -> %@); IFAN PSNR %.3f",
                             round + 1, named[k].rawValue as NSString, wall, cpu, load as NSString,
                             Machine.loadAverage() as NSString, report.methods[1].psnr))
            }
        }
        print(String(format: "%@ / %@ wall time at %dx%d (median of %d): %.3f", named[1].rawValue as NSString,
                     named[0].rawValue as NSString, width, height, rounds, median(walls[1]) / median(walls[0])))
        exit(0)
    }

    var perMinute: [Bool: [Double]] = [true: [], false: []]
    var reference: EvaluationReport?
    for round in 0..<rounds {
        for overlapped in round % 2 == 0 ? [true, false] : [false, true] {
            let load = Machine.loadAverage()
            let (t0, c0) = (now(), cpuSeconds())
            var report = try evaluator.run(pairs: pairs, overlapped: overlapped)
            let (wall, cpu) = (now() - t0, cpuSeconds() - c0)
            let rate = Double(count) / wall * 60
            perMinute[overlapped]!.append(rate)
            print(String(format: "round %d, %@: %.1f s wall, %.1f s CPU, %.2f pairs/min (load average %@ -> %@)",
                         round + 1, (overlapped ? "overlapped" : "one by one") as NSString, wall, cpu, rate,
                         load as NSString, Machine.loadAverage() as NSString))
            // Both modes must give the same scores (timings aside).
            for i in report.results.indices { report.results[i].seconds = 0 }
            for i in report.methods.indices { report.methods[i].secondsPerImage = 0 }
            if let reference, reference != report { print("WARNING: the scores differ between the modes") }
            reference = reference ?? report
        }
    }
    let (over, single) = (median(perMinute[true]!), median(perMinute[false]!))
    print(String(format: "pairs per minute at %dx%d (median of %d): overlapped %.2f, one by one %.2f; speed-up %.2fx",
                 width, height, rounds, over, single, over / single))
}


do {
    try main()
} catch {
    FileHandle.standardError.write(Data("EvaluationBenchmark: \(error)\n".utf8))
    exit(1)
}
