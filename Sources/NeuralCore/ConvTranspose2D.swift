import Foundation
import ThreadSupport

/// Transposed 2-D convolution, as `torch.nn.ConvTranspose2d` computes it (groups 1, dilation 1, no output padding),
/// on (C, H, W) tensors: output row `oy = iy * stride - padding + ky`.
///
/// Each band of input rows is one OpenBLAS sgemm of the transposed weight matrix ((out*kh*kw) x in) with the input
/// rows, whose columns are then scattered into the output (col2im). Bands keep the column buffer bounded.
public struct ConvTranspose2D: Sendable {
    /// (in, out, kh, kw), PyTorch's layout.
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: Int
    public let padding: Int
    public let activation: Activation
    /// Upper bound for the column buffers of one band, all workers together. Small enough that a band stays in the
    /// cores' L2 caches between the sgemm writing it and the scatter reading it (measured: 1.4x faster than 32 MB).
    public var maxBandBytes = 2 << 20
    /// (out*kh*kw) x in, row-major.
    private let matrix: [Float]

    public init(weight: Tensor, bias: Tensor?, stride: Int, padding: Int, activation: Activation = .none) throws {
        guard weight.rank == 4 else {
            throw ShapeError("transposed convolution weight must be (in, out, kh, kw), got \(weight.shape)")
        }
        if let bias, bias.shape != [weight.shape[1]] {
            throw ShapeError("bias shape \(bias.shape) does not match \(weight.shape[1]) output channels")
        }
        guard stride >= 1, padding >= 0 else { throw ShapeError("stride must be positive and padding not negative") }
        self.weight = weight
        self.bias = bias
        self.stride = stride
        self.padding = padding
        self.activation = activation
        let (cin, cout, kh, kw) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3])
        var m = [Float](repeating: 0, count: weight.count)
        for i in 0..<cin {
            for o in 0..<cout {
                for t in 0..<(kh * kw) {
                    m[(o * kh * kw + t) * cin + i] = weight.data[(i * cout + o) * kh * kw + t]
                }
            }
        }
        matrix = m
    }

    public var inChannels: Int { weight.shape[0] }
    public var outChannels: Int { weight.shape[1] }
    public var kernelHeight: Int { weight.shape[2] }
    public var kernelWidth: Int { weight.shape[3] }

    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        ((height - 1) * stride - 2 * padding + kernelHeight, (width - 1) * stride - 2 * padding + kernelWidth)
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        guard input.rank == 3, input.shape[0] == inChannels else {
            throw ShapeError("transposed convolution expects (\(inChannels), H, W) input, got \(input.shape)")
        }
        let (h, w) = (input.shape[1], input.shape[2])
        let (oh, ow) = outputSize(height: h, width: w)
        guard oh > 0, ow > 0 else { throw ShapeError("input \(h)x\(w) gives an empty output") }
        var output = Tensor(zeros: [outChannels, oh, ow])
        input.data.withUnsafeBufferPointer { src in
            output.data.withUnsafeMutableBufferPointer { dst in
                run(src.baseAddress!, height: h, width: w, into: dst.baseAddress!)
            }
        }
        return output
    }

    /// Computes the layer from `input` (in x height x width) into `output` (out x oh x ow), which must hold zeros.
    ///
    /// Workers split the output channels: each multiplies its rows of the weight matrix with every band of input
    /// rows (single-threaded sgemm, see `BLASThreads`) and scatters into its own channels, so no two workers write
    /// the same output.
    public func run(_ input: UnsafePointer<Float>, height h: Int, width w: Int, into output: UnsafeMutablePointer<Float>) {
        BLASThreads.useCallerThreadsOnly()
        let (oh, ow) = outputSize(height: h, width: w)
        let (kh, kw, s, pad, cin, cout) = (kernelHeight, kernelWidth, stride, padding, inChannels, outChannels)
        let taps = kh * kw
        let workers = min(BLASThreads.workers, cout)
        let perWorker = (cout + workers - 1) / workers
        let bandRows = max(1, min(h, maxBandBytes / max(1, workers * perWorker * taps * w * 4)))
        let src = SendablePointer(input)
        let out = SendablePointer(output)
        let biasValues = bias?.data
        let activation = activation
        matrix.withUnsafeBufferPointer { a in
            let weights = SendablePointer(a.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: workers) { part in
                let o0 = part * perWorker, o1 = min(cout, o0 + perWorker)
                guard o1 > o0 else { return }
                let m = (o1 - o0) * taps
                let column = UnsafeMutablePointer<Float>.allocate(capacity: m * bandRows * w)
                defer { column.deallocate() }
                var row0 = 0
                while row0 < h {
                    let rows = min(bandRows, h - row0)
                    let n = rows * w
                    BLAS.sgemm(m: m, n: n, k: cin, a: weights.pointer + o0 * taps * cin, lda: cin, b: src.pointer + row0 * w,
                               ldb: h * w, beta: 0, c: column, ldc: n)
                    for o in o0..<o1 {
                        let plane = out.pointer + o * oh * ow
                        for ky in 0..<kh {
                            for kx in 0..<kw {
                                let source = column + (((o - o0) * kh + ky) * kw + kx) * n
                                // Input columns whose output column ix*s - pad + kx lies in [0, ow).
                                let ixLo = max(0, (pad - kx + s - 1) / s)
                                let last = ow - 1 + pad - kx
                                let ixHi = last < 0 ? 0 : min(w, last / s + 1)
                                for r in 0..<rows {
                                    let oy = (row0 + r) * s - pad + ky
                                    if oy < 0 || oy >= oh { continue }
                                    let line = plane + oy * ow
                                    let sourceLine = source + r * w
                                    var ix = ixLo
                                    while ix < ixHi {
                                        line[ix * s - pad + kx] += sourceLine[ix]
                                        ix += 1
                                    }
                                }
                            }
                        }
                    }
                    row0 += rows
                }
                guard biasValues != nil || activation != .none else { return }
                for o in o0..<o1 {
                    let p = out.pointer + o * oh * ow
                    let b = biasValues?[o] ?? 0
                    for i in 0..<(oh * ow) { p[i] = activation.apply(p[i] + b) }
                }
            }
        }
    }
}
