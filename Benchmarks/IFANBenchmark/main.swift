import BenchmarkSupport
import Foundation
import IFANEngine
import NeuralCore

// Time and peak memory of one IFAN forward pass on the CPU, with random weights of the released checkpoints'
// shapes (speed does not depend on the values), the kernels that ran, and the GFLOP/s reached against OpenBLAS's
// sgemm peak measured in the same run and against the direct-convolution bound (2 x the plain MACs at that peak).
// `--large` adds the tiled-versus-whole PSNR and the peak memory of a 6000x4000 image; `--parity DIR` the largest
// differences from the official network's outputs in a fixture folder (ifan-random).
//
//   swift run -c release IFANBenchmark [--size 1280x720] [--runs 1] [--model FILE.safetensors] [--layers]
//       [--parity DIR] [--large [--tile 1024] [--overlap 128] [--seam-tile 256] [--seam-overlaps 32,64,128,192]]
// RIGCTL_MAX_ISA=avx2 and RIGCTL_WINOGRAD=0 measure the slower paths (see NeuralCore.Kernels).
// The tiled-versus-whole PSNR is measured at 1280x720 with small tiles (many seams); --model uses real weights
// for it (an untrained network's receptive field need not match a trained one's).

struct Options {
    var width = 1280, height = 720, runs = 1
    var large = false
    var tile = 1024
    var overlap = 128
    var seamTile = 256
    var overlaps: [Int] = [32, 64, 128, 192]
    var model: String?
    var layers = false
    var parity: String?

    init(_ args: [String]) throws {
        var i = 0
        func value() throws -> String {
            i += 1
            guard i < args.count else { throw BenchmarkError("missing value after \(args[i - 1])") }
            return args[i]
        }
        while i < args.count {
            switch args[i] {
            case "--size":
                let parts = try value().split(separator: "x").compactMap { Int($0) }
                guard parts.count == 2 else { throw BenchmarkError("--size takes WxH") }
                (width, height) = (parts[0], parts[1])
            case "--runs": runs = Int(try value()) ?? 1
            case "--large": large = true
            case "--layers": layers = true
            case "--tile": tile = Int(try value()) ?? 1024
            case "--overlap": overlap = Int(try value()) ?? 128
            case "--seam-tile": seamTile = Int(try value()) ?? 256
            case "--seam-overlaps": overlaps = try value().split(separator: ",").compactMap { Int($0) }
            case "--model": model = try value()
            case "--parity": parity = try value()
            default: throw BenchmarkError("unknown argument \(args[i])")
            }
            i += 1
        }
    }
}

struct BenchmarkError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Peak resident set size of this process so far (VmHWM), in bytes.
func peakRSS() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kb = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
        return kb * 1024
    }
    return 0
}

/// Resets the peak so that later phases are measured on their own (Linux: writing 5 to clear_refs).
func resetPeakRSS() {
    try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
}

/// Unbuffered output, so lines appear as phases finish, also when redirected to a file.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// User + system CPU seconds of this process so far. On a machine shared with other work the wall time grows
/// with the load; the CPU time divided by the cores used is what the run costs on idle cores.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

/// The 1-minute load average, to judge how busy the machine was.

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

struct Random {
    var state: UInt64
    mutating func next() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(state >> 40) / Float(1 << 24) * 2 - 1
    }
}


func randomImage(width: Int, height: Int, seed: UInt64) -> Tensor {
    var rng = Random(state: seed)
    // Smooth-ish content: a gradient plus noise, in [0, 1].
    var data = [Float](repeating: 0, count: 3 * width * height)
    for c in 0..<3 {
        for y in 0..<height {
            for x in 0..<width {
                let base = 0.5 + 0.3 * sinf(Float(x) * 0.01 + Float(c)) * cosf(Float(y) * 0.013)
                data[(c * height + y) * width + x] = min(max(base + 0.05 * rng.next(), 0), 1)
            }
        }
    }
    return Tensor(shape: [3, height, width], data: data)
}

func sgemmPeak() -> SgemmPeak { SgemmPeak.measure() }

func psnr(_ a: [Float], _ b: [Float]) -> Double {
    var sum = 0.0
    for i in a.indices { let d = Double(a[i]) - Double(b[i]); sum += d * d }
    let mse = sum / Double(a.count)
    return mse == 0 ? .infinity : 10 * log10(1 / mse)
}

/// CPU time and per-core GFLOP/s of each convolution shape of the network at its scale, one call each.
func layerProfile(width: Int, height: Int) throws {
    var rng = Random(state: 3)
    let shapes: [(String, Int, Int, Int, Int)] = [  // name, in, out, stride, scale
        ("3->32 full", 3, 32, 1, 1), ("32->32 full", 32, 32, 1, 1), ("32->64 s2", 32, 64, 2, 1),
        ("64->64 1/2", 64, 64, 1, 2), ("128->128 1/4", 128, 128, 1, 4), ("128->128 1/8", 128, 128, 1, 8),
        ("256->128 1/8", 256, 128, 1, 8), ("32->3 full", 32, 3, 1, 1),
    ]
    for (name, cin, cout, stride, scale) in shapes {
        let (h, w) = (height / scale, width / scale)
        let x = Tensor(shape: [cin, h, w], data: (0..<(cin * h * w)).map { _ in rng.next() })
        let weight = Tensor(shape: [cout, cin, 3, 3], data: (0..<(cout * cin * 9)).map { _ in rng.next() * 0.1 })
        let chosen = try Conv2D(weight: weight, bias: Tensor(zeros: [cout]), stride: stride, activation: .leakyReLU(0.1))
        var algorithms = [chosen.algorithm]
        if chosen.algorithm != .im2col { algorithms.append(.im2col) }
        for algorithm in algorithms {
            let conv = try Conv2D(weight: weight, bias: Tensor(zeros: [cout]), stride: stride, activation: .leakyReLU(0.1),
                                  algorithm: algorithm)
            let (t0, c0) = (now(), cpuSeconds())
            let y = try conv(x)
            let (wall, cpu) = (now() - t0, cpuSeconds() - c0)
            let flops = 2.0 * Double(cin * cout * 9 * y.shape[1] * y.shape[2])
            say(String(format: "  conv %-14@ %-18@ %.3f s wall, %.3f s CPU, %.1f GFLOP/s (direct-convolution FLOPs) per core",
                       name as NSString, "\(algorithm)" as NSString, wall, cpu, flops / cpu / 1e9))
        }
    }
    let up = try ConvTranspose2D(weight: Tensor(shape: [64, 32, 4, 4], data: (0..<(64 * 32 * 16)).map { _ in rng.next() * 0.1 }),
                                 bias: Tensor(zeros: [32]), stride: 2, padding: 1, activation: .leakyReLU(0.1))
    let x = Tensor(shape: [64, height / 2, width / 2], data: (0..<(64 * height * width / 4)).map { _ in rng.next() })
    let (t0, c0) = (now(), cpuSeconds())
    _ = try up(x)
    let cpu = cpuSeconds() - c0
    say(String(format: "  upconv 64->32 1/2: %.3f s wall, %.3f s CPU, %.1f GFLOP/s per core", now() - t0, cpu,
               2.0 * Double(64 * 32 * 16 * height * width / 4) / cpu / 1e9))
}

/// The largest differences from the official network (float64 PyTorch) on the fixture's input: output and taps.
func parityReport(_ folder: URL) throws {
    let (_, weights) = try IFANModelFile.importCheckpoint(folder.appendingPathComponent("IFAN_random.pytorch"))
    let network = try IFANNetwork(weights: weights)
    let input = try NPYFile.read(folder.appendingPathComponent("input.npy"))
    var taps: [IFANNetwork.Tap: Tensor] = [:]
    let output = try network.forward(input) { taps[$0] = $1 }
    func worst(_ a: Tensor, _ b: Tensor) -> Float { zip(a.data, b.data).map { abs($0 - $1) }.max() ?? 0 }
    var parts = [String(format: "output %.2e", worst(output, try NPYFile.read(folder.appendingPathComponent("expected_output.npy"))))]
    for (tap, file) in [(IFANNetwork.Tap.conv4_3, "expected_conv4_3.npy"), (.DME, "expected_DME.npy"), (.IAC, "expected_IAC.npy"),
                        (.conv_res, "expected_conv_res.npy")] {
        let reference = try NPYFile.read(folder.appendingPathComponent(file))
        guard let mine = taps[tap] else { continue }
        let scale = reference.data.map(abs).max() ?? 1
        parts.append(String(format: "%@ %.2e (%.2e of its largest)", "\(tap)" as NSString, worst(mine, reference), worst(mine, reference) / scale))
    }
    say("parity against the official network, max |difference|: " + parts.joined(separator: ", "))
}

func main() throws {
    let options = try Options(Array(CommandLine.arguments.dropFirst()))
    // As rigctl runs the network (RIGCTL_MALLOC=system leaves glibc's default, to measure the difference).
    if ProcessInfo.processInfo.environment["RIGCTL_MALLOC"] != "system" { AllocatorPolicy.retainFreedMemory() }
    let architecture = IFANArchitecture(iterations: 17)
    let network = try options.model.map { try IFANModelFile.load(URL(fileURLWithPath: $0)) }
        ?? IFANNetwork(weights: architecture.randomWeights())
    say(Kernels.summary)
    let peak = sgemmPeak()
    say(String(format: "OpenBLAS sgemm 1024^3 (%d threads, core %@): %.1f GFLOP/s, %.1f GFLOP/s per core by CPU time; load average %@",
               BLASThreads.workers, BLAS.coreName as NSString, peak.wall, peak.perCore, Machine.loadAverage() as NSString))
    if let parity = options.parity { try parityReport(URL(fileURLWithPath: parity)) }

    let (w, h) = (options.width, options.height)
    if options.layers { try layerProfile(width: w, height: h) }
    var input: Tensor? = randomImage(width: w, height: h, seed: 7)
    let macs = architecture.macs(width: w, height: h) + architecture.iacMACs(width: w, height: h)
    let baseline = peakRSS()
    resetPeakRSS()
    var times: [Double] = [], cpu: [Double] = []
    for _ in 0..<options.runs {
        let (t0, c0) = (now(), cpuSeconds())
        _ = try network.forward(input!)
        times.append(now() - t0)
        cpu.append(cpuSeconds() - c0)
    }
    guard !times.isEmpty else { return }  // --runs 0: only the sgemm peak, --layers, --parity
    let best = times.min() ?? 0
    let bestCPU = cpu.min() ?? 0
    let gflops = 2 * Double(macs) / best / 1e9
    say(String(format: "IFAN %dx%d: %.2f s wall (best of %d), %.2f s CPU (%.2f s per core on %d cores), peak RSS %.0f MB (%.0f MB before the run)",
               w, h, best, options.runs, bestCPU, bestCPU / Double(BLASThreads.workers), BLASThreads.workers,
               Double(peakRSS()) / 1e6, Double(baseline) / 1e6))
    let perCore = 2 * Double(macs) / bestCPU / 1e9
    say(String(format: "%.1f GMAC (convolutions + IAC, counted as direct convolution): %.1f GFLOP/s = %.0f%% of the sgemm peak by wall time; "
               + "%.1f GFLOP/s per core by CPU time = %.0f%% of sgemm's per core", Double(macs) / 1e9, gflops,
               100 * gflops / peak.wall, perCore, 100 * perCore / peak.perCore) + "; load average " + Machine.loadAverage())
    // The direct-convolution bound: the time the direct-convolution FLOPs take at the sgemm peak. Under 1 means fewer
    // operations than a direct convolution (Winograd) more than made up for running below the peak.
    let bound = 2 * Double(macs) / (peak.wall * 1e9)
    let boundCPU = 2 * Double(macs) / (peak.perCore * 1e9) / Double(BLASThreads.workers)
    say(String(format: "direct-convolution bound at this sgemm peak: %.2f s (%.0f GFLOP); wall time / bound = %.2f; "
               + "by CPU time %.2f s per core / %.2f s = %.2f", bound, 2 * Double(macs) / 1e9, best / bound,
               bestCPU / Double(BLASThreads.workers), boundCPU, bestCPU / Double(BLASThreads.workers) / boundCPU))

    guard options.large else { return }
    input = nil
    // Tiled against whole-image output at a size that still fits whole, with small tiles so there are many seams.
    let (tw, th) = (1280, 720)
    let image = randomImage(width: tw, height: th, seed: 11)
    let whole = try network.forward(image)
    for overlap in options.overlaps {
        let tiled = try TiledInference(tileSize: options.seamTile, overlap: overlap).run(image) { try network.forward($0) }
        say(String(format: "tiled (tile %d, overlap %d) vs whole at %dx%d: PSNR %.2f dB", options.seamTile, overlap, tw, th,
                     psnr(tiled.data, whole.data)))
    }
    // Peak memory of a 6000x4000 image through tiling.
    let big = randomImage(width: 6000, height: 4000, seed: 13)
    resetPeakRSS()
    let (t0, c0) = (now(), cpuSeconds())
    _ = try TiledInference(tileSize: options.tile, overlap: options.overlap).run(big) { try network.forward($0) }
    say(String(format: "6000x4000 tiled (tile %d, overlap %d): %.1f s wall, %.1f s CPU, peak RSS %.0f MB (input + output tensors %.0f MB)",
               options.tile, options.overlap, now() - t0, cpuSeconds() - c0, Double(peakRSS()) / 1e6, 2 * 3 * 6000 * 4000 * 4 / 1e6)
        + "; load average " + Machine.loadAverage())
}

do {
    try main()
} catch {
    FileHandle.standardError.write(Data("IFANBenchmark: \(error)\n".utf8))
    exit(1)
}
