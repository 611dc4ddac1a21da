import Foundation
import NeuralCore
import ThreadSupport

/// A convolution that is not 3x3 stride 1 (AlexNet's 11x11 stride 4 and 5x5 layers), computed exactly as a
/// 3x3 stride-1 padding-1 convolution or a sum of them, so that the engine's Winograd F(4x4, 3x3) kernel runs it
/// (4x fewer products than im2col + sgemm, and no unfolded buffer). The results equal the original layer's up to
/// float rounding; tests hold them to `ReferenceLayers.conv2d`.
///
/// - Strided (space to depth): with stride s and a kernel of at most 3s taps, the input is regrouped into s x s
///   phases, `S[(c, b, d), Y, X] = x[c, sY + b - p, sX + d - p]`, and the kernel into a 3x3 one over c x s x s
///   channels with `w'[o, (c, b, d), a, e] = w[o, c, sa + b, se + d]` (zero past the kernel's edge).
/// - Stride 1 with a larger kernel (split): the kernel, padded to a multiple of 3, is cut into 3x3 pieces; piece
///   (i, j) is a 3x3 convolution of the input shifted by (3i, 3j), and the pieces' outputs add up.
///
/// Each runs the 3x3 convolutions over an input two rows and columns larger than the output (so that the 3x3
/// layer's own zero padding never stands in for real samples) and keeps the inner part.
public struct ThreeByThreeRewrite: Sendable {
    public enum Form: Sendable, Equatable {
        case strided(stride: Int)
        case split(pieces: Int)
    }

    public let form: Form
    public let inChannels: Int
    public let outChannels: Int
    public let kernel: Int
    public let padding: Int
    let activation: Activation
    /// The 3x3 layers: one for `strided`; pieces x pieces for `split`, the first carrying the bias.
    let layers: [Conv2D]

    /// The rewrite of a convolution with this weight, stride and padding, or nil when none applies (a 3x3 stride-1
    /// layer needs none; strides other than 1 need a kernel of at most 3 x stride).
    public init?(weight: Tensor, bias: Tensor?, stride: Int, padding: Int, activation: Activation) throws {
        guard weight.rank == 4, weight.shape[2] == weight.shape[3] else { return nil }
        let (o, c, k) = (weight.shape[0], weight.shape[1], weight.shape[2])
        if stride > 1 {
            guard k <= 3 * stride, k > 2 * stride else { return nil }
            let s = stride, cs = c * s * s
            var w = [Float](repeating: 0, count: o * cs * 9)
            for oc in 0..<o {
                for ic in 0..<c {
                    for ky in 0..<k {
                        for kx in 0..<k {
                            let (a, b) = (ky / s, ky % s), (e, d) = (kx / s, kx % s)
                            let channel = (ic * s + b) * s + d
                            w[((oc * cs + channel) * 3 + a) * 3 + e] = weight.data[((oc * c + ic) * k + ky) * k + kx]
                        }
                    }
                }
            }
            form = .strided(stride: s)
            layers = [try Conv2D(weight: Tensor(shape: [o, cs, 3, 3], data: w), bias: bias, stride: 1, padding: 1,
                                 activation: activation)]
        } else {
            guard stride == 1, k > 3 else { return nil }
            let n = (k + 2) / 3
            var pieces: [Conv2D] = []
            for i in 0..<n {
                for j in 0..<n {
                    var w = [Float](repeating: 0, count: o * c * 9)
                    for oc in 0..<o {
                        for ic in 0..<c {
                            for a in 0..<3 where 3 * i + a < k {
                                for e in 0..<3 where 3 * j + e < k {
                                    w[((oc * c + ic) * 3 + a) * 3 + e] =
                                        weight.data[((oc * c + ic) * k + 3 * i + a) * k + 3 * j + e]
                                }
                            }
                        }
                    }
                    let last = i == n - 1 && j == n - 1
                    pieces.append(try Conv2D(weight: Tensor(shape: [o, c, 3, 3], data: w), bias: i == 0 && j == 0 ? bias : nil,
                                             stride: 1, padding: 1, activation: last || n == 1 ? activation : .none))
                }
            }
            form = .split(pieces: n)
            layers = pieces
        }
        inChannels = c
        outChannels = o
        kernel = k
        self.padding = padding
        self.activation = activation
    }

    public func outputSize(height h: Int, width w: Int) -> (height: Int, width: Int) {
        switch form {
        case .strided(let s): ((h + 2 * padding - kernel) / s + 1, (w + 2 * padding - kernel) / s + 1)
        case .split: (h + 2 * padding - kernel + 1, w + 2 * padding - kernel + 1)
        }
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard x.rank == 3, x.shape[0] == inChannels else {
            throw ShapeError("convolution expects (\(inChannels), H, W) input, got \(x.shape)")
        }
        let (h, w) = (x.shape[1], x.shape[2])
        return try x.data.withUnsafeBufferPointer { buffer in
            let source = SendablePointer(buffer.baseAddress!)
            return try run(height: h, width: w) { c, r, _ in UnsafePointer(source.pointer + (c * h + r) * w) }
        }
    }

    /// The layer on an input given row by row: `row(c, r, scratch)` returns input row r of channel c (w values), either
    /// a pointer into memory of its own or `scratch` (w floats) filled. A strided layer reads each row once, so a
    /// caller can compute its input on the fly (LPIPS's scaling layer) instead of holding it as one more tensor.
    /// Called from several threads at once (channels in parallel).
    public func run(height h: Int, width w: Int,
                    row: @Sendable (_ channel: Int, _ row: Int, _ scratch: UnsafeMutablePointer<Float>) -> UnsafePointer<Float>)
        throws -> Tensor {
        let (oh, ow) = outputSize(height: h, width: w)
        guard oh > 0, ow > 0 else { throw ShapeError("input \(w)x\(h) is smaller than the kernel") }
        let (th, tw) = (oh + 2, ow + 2)
        // Every value of `wide` is written by the first (non-accumulating) 3x3 layer, so it is not zeroed first. The
        // output is cropped out of it in place (rows move to lower addresses only), the array keeping the larger
        // capacity: no second buffer of tens of megabytes whose pages would be faulted in fresh.
        let out = [Float](unsafeUninitializedCapacity: outChannels * th * tw) { buffer, initialized in
            let wide = buffer.baseAddress!
            switch form {
            case .strided(let s):
                let t = Self.spaceToDepth(channels: inChannels, height: h, width: w, stride: s, padding: padding,
                                          outHeight: th, outWidth: tw, row: row)
                defer { t.deallocate() }
                layers[0].run(t, height: th, width: tw, into: wide)
            case .split(let n):
                let shifted = UnsafeMutablePointer<Float>.allocate(capacity: inChannels * th * tw)
                defer { shifted.deallocate() }
                for i in 0..<n {
                    for j in 0..<n {
                        Self.shift(channels: inChannels, height: h, width: w, by: (3 * i - padding, 3 * j - padding),
                                   into: shifted, height: th, width: tw, row: row)
                        let layer = layers[i * n + j]
                        if i == 0 && j == 0 {
                            layer.run(shifted, height: th, width: tw, into: wide)
                        } else {
                            layer.runAccumulating(shifted, height: th, width: tw, into: wide, activation: layer.activation)
                        }
                    }
                }
            }
            // The 3x3 layers' output at (Y, X) is the original layer's at (Y - 1, X - 1).
            for c in 0..<outChannels {
                for y in 0..<oh {
                    (wide + (c * oh + y) * ow).update(from: wide + (c * th + y + 1) * tw + 1, count: ow)
                }
            }
            initialized = outChannels * oh * ow
        }
        return Tensor(shape: [outChannels, oh, ow], data: out)
    }

    /// `S[(c, b, d), Y, X] = x[c, sY + b - p, sX + d - p]`, zero outside the image. Every value is written (zeros
    /// included), so the buffer comes uninitialised; the caller deallocates it.
    static func spaceToDepth(channels c: Int, height h: Int, width w: Int, stride s: Int, padding p: Int,
                             outHeight th: Int, outWidth tw: Int,
                             row: @Sendable (Int, Int, UnsafeMutablePointer<Float>) -> UnsafePointer<Float>)
        -> UnsafeMutablePointer<Float> {
        let out = UnsafeMutablePointer<Float>.allocate(capacity: c * s * s * th * tw)
        let dst = SendablePointer(out)
        // Input channels in parallel.
        DispatchQueue.concurrentPerform(iterations: c) { ic in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(1, w))
            defer { scratch.deallocate() }
            for b in 0..<s {
                for y in 0..<th {
                    // Input row r feeds phase row (b, y) only, so each row is asked for once.
                    let r = s * y + b - p
                    let line: UnsafePointer<Float>? = r >= 0 && r < h ? row(ic, r, scratch) : nil
                    for d in 0..<s {
                        let target = dst.pointer + ((ic * s + b) * s + d) * th * tw + y * tw
                        guard let line else { target.update(repeating: 0, count: tw); continue }
                        // Columns X with 0 <= sX + d - p < w.
                        let x0 = min(tw, max(0, (p - d + s - 1) / s))
                        let x1 = w - 1 + p - d < 0 ? x0 : max(x0, min(tw, (w - 1 + p - d) / s + 1))
                        if x0 > 0 { target.update(repeating: 0, count: x0) }
                        for X in x0..<x1 { target[X] = line[s * X + d - p] }
                        if x1 < tw { (target + x1).update(repeating: 0, count: tw - x1) }
                    }
                }
            }
        }
        return out
    }

    /// `T[c, Y, X] = x[c, Y + dy, X + dx]`, zero outside the image (every value written).
    static func shift(channels c: Int, height h: Int, width w: Int, by offset: (dy: Int, dx: Int),
                      into t: UnsafeMutablePointer<Float>, height th: Int, width tw: Int,
                      row: @Sendable (Int, Int, UnsafeMutablePointer<Float>) -> UnsafePointer<Float>) {
        let x0 = min(tw, max(0, -offset.dx)), x1 = max(x0, min(tw, w - offset.dx))
        let dst = SendablePointer(t)
        // Input channels in parallel.
        DispatchQueue.concurrentPerform(iterations: c) { ic in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(1, w))
            defer { scratch.deallocate() }
            for y in 0..<th {
                let line = dst.pointer + (ic * th + y) * tw
                let r = y + offset.dy
                guard r >= 0, r < h, x1 > x0 else {
                    line.update(repeating: 0, count: tw)
                    continue
                }
                if x0 > 0 { line.update(repeating: 0, count: x0) }
                (line + x0).update(from: row(ic, r, scratch) + x0 + offset.dx, count: x1 - x0)
                if x1 < tw { (line + x1).update(repeating: 0, count: tw - x1) }
            }
        }
    }
}
