import CKernels
import Foundation
import ThreadSupport

/// The pointwise non-linearity fused into a layer's output pass.
public enum Activation: Sendable, Equatable {
    case none
    case relu
    case leakyReLU(Float)

    @inlinable
    public func apply(_ v: Float) -> Float {
        switch self {
        case .none: v
        case .relu: max(v, 0)
        case .leakyReLU(let slope): v >= 0 ? v : v * slope
        }
    }
}

/// Why a layer could not run: shapes that do not fit together. Weight files are checked before any layer runs, so
/// this normally means a bug or a hand-built tensor.
public struct ShapeError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// How a convolution is computed.
public enum ConvolutionAlgorithm: Sendable, Equatable {
    /// Unfold the input into bands of output rows, one sgemm per band (1x1 stride-1 layers skip the unfolding).
    case im2col
    /// Winograd F(4x4, 3x3), its transforms compiled for the given instruction set (3x3, stride 1, padding 1 only).
    case winograd(KernelLevel)
}

/// 2-D convolution with zero padding, as `torch.nn.Conv2d` computes it, on (C, H, W) tensors.
///
/// 3x3 stride-1 layers with padding 1 run as Winograd F(4x4, 3x3) when `Kernels.choice` allows it (36 products per
/// 4x4 output tile and channel pair instead of 144). Others are unfolded (im2col) into bands of output rows, each
/// band one OpenBLAS sgemm, so the unfolded buffer stays bounded (`maxBandBytes`) however large the image is; 1x1
/// stride-1 convolutions skip the unfolding.
public struct Conv2D: Sendable {
    /// (out, in, kh, kw)
    public let weight: Tensor
    /// (out) or nil.
    public let bias: Tensor?
    public let stride: Int
    public let padding: Int
    public let activation: Activation
    /// Upper bound for the unfolded input of one band, all workers together. Small enough that a band stays in the cores' L2
    /// caches between being unfolded and being packed by sgemm (measured: 1.5x faster on the 32-channel layers than
    /// 32 MB bands).
    public var maxBandBytes = 2 << 20
    /// Tiles per unit of Winograd work; nil sizes units by the cache budget (tests set it small to get many units).
    public var winogradUnitTiles: Int?
    /// Output channels of a unit whose products are formed and transformed back together; nil: 32 (tests set it
    /// small to get uneven blocks).
    public var winogradChannelBlock: Int?
    /// What computes this layer: chosen at initialisation from the shape and `Kernels.choice`.
    public let algorithm: ConvolutionAlgorithm
    /// The weights transformed for Winograd ((36, out, in)), when that is the algorithm.
    let winogradWeights: [Float]?

    /// Whether Winograd F(4x4, 3x3) computes this shape: 3x3, stride 1, padding 1, and enough input channels for the
    /// 36 small products to pay (the 3-channel first layers stay on im2col).
    public static func winogradApplies(weightShape: [Int], stride: Int, padding: Int) -> Bool {
        weightShape.count == 4 && weightShape[2] == 3 && weightShape[3] == 3 && stride == 1 && padding == 1
            && weightShape[1] >= 8
    }

    /// `algorithm` nil picks by shape and `Kernels.choice`; tests pass one to compare the kernels.
    public init(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int? = nil,
                activation: Activation = .none, algorithm: ConvolutionAlgorithm? = nil) throws {
        guard weight.rank == 4 else { throw ShapeError("convolution weight must be (out, in, kh, kw), got \(weight.shape)") }
        if let bias, bias.shape != [weight.shape[0]] {
            throw ShapeError("bias shape \(bias.shape) does not match \(weight.shape[0]) output channels")
        }
        guard stride >= 1 else { throw ShapeError("stride must be positive") }
        self.weight = weight
        self.bias = bias
        self.stride = stride
        self.padding = padding ?? (weight.shape[2] - 1) / 2
        self.activation = activation
        let fits = weight.shape[2] == 3 && weight.shape[3] == 3 && stride == 1 && self.padding == 1
        let chosen = algorithm ?? (Kernels.choice.winograd
            && Self.winogradApplies(weightShape: weight.shape, stride: stride, padding: self.padding)
            ? .winograd(Kernels.choice.level) : .im2col)
        if case .winograd = chosen, !fits {
            throw ShapeError("Winograd F(4x4, 3x3) needs a 3x3 kernel, stride 1 and padding 1, got \(weight.shape) stride \(stride) padding \(self.padding)")
        }
        self.algorithm = chosen
        if case .winograd = chosen {
            var u = [Float](repeating: 0, count: 36 * weight.shape[0] * weight.shape[1])
            weight.data.withUnsafeBufferPointer { w in
                u.withUnsafeMutableBufferPointer { ck_wino_weights(w.baseAddress!, Int32(weight.shape[0]), Int32(weight.shape[1]), $0.baseAddress!) }
            }
            winogradWeights = u
        } else {
            winogradWeights = nil
        }
    }

    public var outChannels: Int { weight.shape[0] }
    public var inChannels: Int { weight.shape[1] }
    public var kernelHeight: Int { weight.shape[2] }
    public var kernelWidth: Int { weight.shape[3] }

    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        ((height + 2 * padding - kernelHeight) / stride + 1, (width + 2 * padding - kernelWidth) / stride + 1)
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        guard input.rank == 3, input.shape[0] == inChannels else {
            throw ShapeError("convolution expects (\(inChannels), H, W) input, got \(input.shape)")
        }
        let (h, w) = (input.shape[1], input.shape[2])
        let (oh, ow) = outputSize(height: h, width: w)
        guard oh > 0, ow > 0 else { throw ShapeError("input \(h)x\(w) is smaller than the kernel") }
        // Every output value is written by the sgemm, so the buffer need not be zeroed first.
        let data = [Float](unsafeUninitializedCapacity: outChannels * oh * ow) { buffer, count in
            input.data.withUnsafeBufferPointer { src in
                run(src.baseAddress!, height: h, width: w, into: buffer.baseAddress!)
            }
            count = outChannels * oh * ow
        }
        return Tensor(shape: [outChannels, oh, ow], data: data)
    }

    /// Computes the layer from `input` (inChannels x height x width) into `output` (outChannels x oh x ow).
    ///
    /// The work is split across the cores here, not inside OpenBLAS: each worker takes bands of output rows in
    /// turn and unfolds, multiplies (single-threaded sgemm) and finishes (bias, activation) its band while it is
    /// still in cache. OpenBLAS's own threads would spin while the unfolding runs and halve its speed on a busy
    /// machine, so this sets OpenBLAS to one thread (see `BLASThreads`).
    public func run(_ input: UnsafePointer<Float>, height h: Int, width w: Int, into output: UnsafeMutablePointer<Float>) {
        run(input, height: h, width: w, into: output, accumulate: false, activation: activation)
    }

    /// `output = activation(output + conv(input) + bias)`: the layer added onto what `output` holds, with the given
    /// activation instead of the layer's. A residual block's second convolution and its skip addition are one pass
    /// this way, with no buffer for the convolution's own output.
    public func runAccumulating(_ input: UnsafePointer<Float>, height h: Int, width w: Int,
                                into output: UnsafeMutablePointer<Float>, activation: Activation) {
        run(input, height: h, width: w, into: output, accumulate: true, activation: activation)
    }

    private func run(_ input: UnsafePointer<Float>, height h: Int, width w: Int, into output: UnsafeMutablePointer<Float>,
                     accumulate: Bool, activation: Activation) {
        BLASThreads.useCallerThreadsOnly()
        if case .winograd(let level) = algorithm, let u = winogradWeights {
            runWinograd(input, height: h, width: w, into: output, accumulate: accumulate, activation: activation,
                        level: level, transformed: u)
            return
        }
        let beta: Float = accumulate ? 1 : 0
        let (oh, ow) = outputSize(height: h, width: w)
        let k = inChannels * kernelHeight * kernelWidth
        let planeOut = oh * ow
        let workers = BLASThreads.workers
        let src = SendablePointer(input)
        let out = SendablePointer(output)
        weight.data.withUnsafeBufferPointer { wt in
            let weights = SendablePointer(wt.baseAddress!)
            if kernelHeight == 1 && kernelWidth == 1 && stride == 1 && padding == 0 {
                // Columns split across workers; B and C keep the full plane as their row stride.
                let chunk = (planeOut + workers - 1) / workers
                DispatchQueue.concurrentPerform(iterations: workers) { part in
                    let lo = part * chunk, n = min(planeOut, lo + chunk) - lo
                    guard n > 0 else { return }
                    BLAS.sgemm(m: outChannels, n: n, k: k, a: weights.pointer, lda: k, b: src.pointer + lo, ldb: planeOut,
                               beta: beta, c: out.pointer + lo, ldc: planeOut)
                    finish(out.pointer, plane: planeOut, first: lo, count: n, activation: activation)
                }
                return
            }
            // Bands small enough for the cache budget, and at least one per worker.
            let bandRows = min(max(1, min(oh, maxBandBytes / max(1, workers * k * ow * 4))),
                               max(1, (oh + workers - 1) / workers))
            let bands = (oh + bandRows - 1) / bandRows
            let queue = BandQueue(count: bands)
            DispatchQueue.concurrentPerform(iterations: min(workers, bands)) { _ in
                let column = UnsafeMutablePointer<Float>.allocate(capacity: k * bandRows * ow)
                defer { column.deallocate() }
                while let band = queue.next() {
                    let row0 = band * bandRows, rows = min(bandRows, oh - row0)
                    unfold(src.pointer, height: h, width: w, outWidth: ow, firstRow: row0, rows: rows, into: column)
                    BLAS.sgemm(m: outChannels, n: rows * ow, k: k, a: weights.pointer, lda: k, b: column, ldb: rows * ow,
                               beta: beta, c: out.pointer + row0 * ow, ldc: planeOut)
                    finish(out.pointer, plane: planeOut, first: row0 * ow, count: rows * ow, activation: activation)
                }
            }
        }
    }

    /// Adds the bias and applies the activation to positions `first ..< first + count` of every output channel.
    private func finish(_ output: UnsafeMutablePointer<Float>, plane: Int, first: Int, count: Int, activation: Activation) {
        if bias == nil && activation == .none { return }
        bias?.data.withUnsafeBufferPointer { b in
            for c in 0..<outChannels {
                let p = output + c * plane + first
                let v = b[c]
                switch activation {
                case .none: for i in 0..<count { p[i] += v }
                case .relu: for i in 0..<count { p[i] = max(p[i] + v, 0) }
                case .leakyReLU(let slope):
                    for i in 0..<count {
                        let x = p[i] + v
                        p[i] = x >= 0 ? x : x * slope
                    }
                }
            }
        }
        if bias == nil {
            for c in 0..<outChannels {
                let p = output + c * plane + first
                for i in 0..<count { p[i] = activation.apply(p[i]) }
            }
        }
    }

    /// im2col for output rows `firstRow ..< firstRow + rows`: row (c, ky, kx) of the buffer holds the input samples
    /// that tap meets at each output position, zero outside the image.
    private func unfold(_ input: UnsafePointer<Float>, height h: Int, width w: Int, outWidth ow: Int, firstRow: Int,
                        rows: Int, into column: UnsafeMutablePointer<Float>) {
        let (kh, kw, s, pad) = (kernelHeight, kernelWidth, stride, padding)
        let n = rows * ow
        for c in 0..<inChannels {
            let plane = input + c * h * w
            for ky in 0..<kh {
                for kx in 0..<kw {
                    let dstRow = column + ((c * kh + ky) * kw + kx) * n
                    for r in 0..<rows {
                        let iy = (firstRow + r) * s - pad + ky
                        let dst = dstRow + r * ow
                        if iy < 0 || iy >= h {
                            dst.update(repeating: 0, count: ow)
                            continue
                        }
                        let line = plane + iy * w
                        if s == 1 {
                            // Valid output columns are those whose input column ox - pad + kx lies in [0, w).
                            let lo = max(0, pad - kx), hi = min(ow, w + pad - kx)
                            if lo > 0 { dst.update(repeating: 0, count: min(lo, ow)) }
                            if hi > lo { (dst + lo).update(from: line + (lo - pad + kx), count: hi - lo) }
                            if hi < ow { (dst + max(hi, 0)).update(repeating: 0, count: ow - max(hi, 0)) }
                        } else {
                            for ox in 0..<ow {
                                let ix = ox * s - pad + kx
                                dst[ox] = (ix >= 0 && ix < w) ? line[ix] : 0
                            }
                        }
                    }
                }
            }
        }
    }
}

/// How the convolution kernels share the cores with OpenBLAS.
public enum BLASThreads {
    /// Parallel workers the kernels use: one per core.
    public static let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// The kernels call sgemm from several threads at once, each on its own part of the work, so OpenBLAS itself
    /// must run single-threaded. This is process-wide state in OpenBLAS; code that wants OpenBLAS's threads for a
    /// large standalone product can set them back with `openblas_set_num_threads`.
    public static func useCallerThreadsOnly() {
        if BLAS.threads != 1 { BLAS.setThreads(1) }
    }
}

/// Hands out band indices to workers in order, so a worker that is slowed down (a busy core) takes fewer bands.
final class BandQueue: Sendable {
    private let nextBand = LockedValue(0)
    private let count: Int

    init(count: Int) { self.count = count }

    func next() -> Int? {
        nextBand.withLock { band in
            guard band < count else { return nil }
            band += 1
            return band - 1
        }
    }
}
