import CBLAS
import Foundation

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

/// 2-D convolution with zero padding, as `torch.nn.Conv2d` computes it, on (C, H, W) tensors.
///
/// The input is unfolded (im2col) into bands of output rows and each band is one OpenBLAS sgemm, so the unfolded
/// buffer stays bounded (`maxBandBytes`) however large the image is. 1x1 stride-1 convolutions skip the unfolding.
public struct Conv2D: Sendable {
    /// (out, in, kh, kw)
    public let weight: Tensor
    /// (out) or nil.
    public let bias: Tensor?
    public let stride: Int
    public let padding: Int
    public let activation: Activation
    /// Upper bound for the unfolded input of one band.
    public var maxBandBytes = 32 << 20

    public init(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int? = nil,
                activation: Activation = .none) throws {
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
        var output = Tensor(zeros: [outChannels, oh, ow])
        input.data.withUnsafeBufferPointer { src in
            output.data.withUnsafeMutableBufferPointer { dst in
                run(src.baseAddress!, height: h, width: w, into: dst.baseAddress!)
            }
        }
        return output
    }

    /// Computes the layer from `input` (inChannels x height x width) into `output` (outChannels x oh x ow).
    public func run(_ input: UnsafePointer<Float>, height h: Int, width w: Int, into output: UnsafeMutablePointer<Float>) {
        let (oh, ow) = outputSize(height: h, width: w)
        let k = inChannels * kernelHeight * kernelWidth
        let planeOut = oh * ow
        weight.data.withUnsafeBufferPointer { wt in
            if kernelHeight == 1 && kernelWidth == 1 && stride == 1 && padding == 0 {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(outChannels), Int32(planeOut), Int32(k),
                            1, wt.baseAddress, Int32(k), input, Int32(planeOut), 0, output, Int32(planeOut))
            } else {
                let bandRows = max(1, min(oh, maxBandBytes / max(1, k * ow * 4)))
                let column = UnsafeMutablePointer<Float>.allocate(capacity: k * bandRows * ow)
                defer { column.deallocate() }
                var row0 = 0
                while row0 < oh {
                    let rows = min(bandRows, oh - row0)
                    unfold(input, height: h, width: w, outWidth: ow, firstRow: row0, rows: rows, into: column)
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(outChannels), Int32(rows * ow), Int32(k),
                                1, wt.baseAddress, Int32(k), column, Int32(rows * ow), 0,
                                output + row0 * ow, Int32(planeOut))
                    row0 += rows
                }
            }
        }
        finish(output, plane: planeOut)
    }

    /// Adds the bias and applies the activation, one channel per task.
    private func finish(_ output: UnsafeMutablePointer<Float>, plane: Int) {
        let biasValues = bias?.data
        let activation = activation
        if biasValues == nil && activation == .none { return }
        let out = UnsafeMutableSendablePointer(output)
        DispatchQueue.concurrentPerform(iterations: outChannels) { c in
            let p = out.pointer + c * plane
            let b = biasValues?[c] ?? 0
            for i in 0..<plane { p[i] = activation.apply(p[i] + b) }
        }
    }

    /// im2col for output rows `firstRow ..< firstRow + rows`: row (c, ky, kx) of the buffer holds the input samples
    /// that tap meets at each output position, zero outside the image.
    private func unfold(_ input: UnsafePointer<Float>, height h: Int, width w: Int, outWidth ow: Int, firstRow: Int,
                        rows: Int, into column: UnsafeMutablePointer<Float>) {
        let (kh, kw, s, pad) = (kernelHeight, kernelWidth, stride, padding)
        let n = rows * ow
        let src = UnsafeSendablePointer(input)
        let col = UnsafeMutableSendablePointer(column)
        DispatchQueue.concurrentPerform(iterations: inChannels) { c in
            let plane = src.pointer + c * h * w
            for ky in 0..<kh {
                for kx in 0..<kw {
                    let dstRow = col.pointer + ((c * kh + ky) * kw + kx) * n
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

/// Raw pointers that are safe to share with `concurrentPerform` workers because each worker touches a disjoint
/// part of the buffer.
@usableFromInline
struct UnsafeMutableSendablePointer<T>: @unchecked Sendable {
    @usableFromInline let pointer: UnsafeMutablePointer<T>
    @usableFromInline init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}

@usableFromInline
struct UnsafeSendablePointer<T>: @unchecked Sendable {
    @usableFromInline let pointer: UnsafePointer<T>
    @usableFromInline init(_ pointer: UnsafePointer<T>) { self.pointer = pointer }
}
