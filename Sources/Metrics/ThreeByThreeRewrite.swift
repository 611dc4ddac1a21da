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
        let (oh, ow) = outputSize(height: h, width: w)
        guard oh > 0, ow > 0 else { throw ShapeError("input \(w)x\(h) is smaller than the kernel") }
        let (th, tw) = (oh + 2, ow + 2)
        var wide = [Float](repeating: 0, count: outChannels * th * tw)
        switch form {
        case .strided(let s):
            let t = Self.spaceToDepth(x, stride: s, padding: padding, height: th, width: tw)
            t.withUnsafeBufferPointer { src in
                wide.withUnsafeMutableBufferPointer { layers[0].run(src.baseAddress!, height: th, width: tw, into: $0.baseAddress!) }
            }
        case .split(let n):
            var shifted = [Float](repeating: 0, count: inChannels * th * tw)
            for i in 0..<n {
                for j in 0..<n {
                    Self.shift(x, by: (3 * i - padding, 3 * j - padding), into: &shifted, height: th, width: tw)
                    let layer = layers[i * n + j]
                    shifted.withUnsafeBufferPointer { src in
                        wide.withUnsafeMutableBufferPointer { out in
                            if i == 0 && j == 0 {
                                layer.run(src.baseAddress!, height: th, width: tw, into: out.baseAddress!)
                            } else {
                                layer.runAccumulating(src.baseAddress!, height: th, width: tw, into: out.baseAddress!,
                                                      activation: layer.activation)
                            }
                        }
                    }
                }
            }
        }
        // The 3x3 layers' output at (Y, X) is the original layer's at (Y - 1, X - 1).
        let out = wide.withUnsafeBufferPointer { source in
            let src = SendablePointer(source.baseAddress!)
            return [Float](unsafeUninitializedCapacity: outChannels * oh * ow) { buffer, initialized in
                let dst = SendablePointer(buffer.baseAddress!)
                DispatchQueue.concurrentPerform(iterations: outChannels) { c in
                    for y in 0..<oh {
                        (dst.pointer + (c * oh + y) * ow).initialize(from: src.pointer + (c * th + y + 1) * tw + 1, count: ow)
                    }
                }
                initialized = outChannels * oh * ow
            }
        }
        return Tensor(shape: [outChannels, oh, ow], data: out)
    }

    /// `S[(c, b, d), Y, X] = x[c, sY + b - p, sX + d - p]`, zero outside the image.
    static func spaceToDepth(_ x: Tensor, stride s: Int, padding p: Int, height th: Int, width tw: Int) -> [Float] {
        let (c, h, w) = (x.shape[0], x.shape[1], x.shape[2])
        var out = [Float](repeating: 0, count: c * s * s * th * tw)
        x.data.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { destination in
                let (src, dst) = (SendablePointer(source.baseAddress!), SendablePointer(destination.baseAddress!))
                // Input channels in parallel.
                DispatchQueue.concurrentPerform(iterations: c) { ic in
                    for b in 0..<s {
                        for d in 0..<s {
                            let plane = dst.pointer + ((ic * s + b) * s + d) * th * tw
                            // Columns X with 0 <= sX + d - p < w.
                            let x0 = max(0, (p - d + s - 1) / s), x1 = w - 1 + p - d < 0 ? 0 : min(tw, (w - 1 + p - d) / s + 1)
                            for y in 0..<th {
                                let r = s * y + b - p
                                guard r >= 0, r < h, x1 > x0 else { continue }
                                let row = src.pointer + (ic * h + r) * w
                                let line = plane + y * tw
                                for X in x0..<x1 { line[X] = row[s * X + d - p] }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// `T[c, Y, X] = x[c, Y + dy, X + dx]`, zero outside the image.
    static func shift(_ x: Tensor, by offset: (dy: Int, dx: Int), into t: inout [Float], height th: Int, width tw: Int) {
        let (c, h, w) = (x.shape[0], x.shape[1], x.shape[2])
        let x0 = max(0, -offset.dx), x1 = min(tw, w - offset.dx)
        x.data.withUnsafeBufferPointer { source in
            t.withUnsafeMutableBufferPointer { destination in
                let (src, dst) = (SendablePointer(source.baseAddress!), SendablePointer(destination.baseAddress!))
                // Input channels in parallel.
                DispatchQueue.concurrentPerform(iterations: c) { ic in
                    for y in 0..<th {
                        let line = dst.pointer + (ic * th + y) * tw
                        let r = y + offset.dy
                        guard r >= 0, r < h, x1 > x0 else {
                            line.update(repeating: 0, count: tw)
                            continue
                        }
                        if x0 > 0 { line.update(repeating: 0, count: x0) }
                        (line + x0).update(from: src.pointer + (ic * h + r) * w + x0 + offset.dx, count: x1 - x0)
                        if x1 < tw { (line + x1).update(repeating: 0, count: tw - x1) }
                    }
                }
            }
        }
    }
}
