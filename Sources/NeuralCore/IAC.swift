import Foundation
import ThreadSupport

/// One iteration of IFAN's iterative adaptive convolution, fused into a single pass over each channel.
///
/// Each feature channel `c` is filtered by a per-pixel separable 3-tap kernel: first vertically, then horizontally,
/// both with the same taps `kernel[3c + j]` (tap `j` at offset `j - 1`), edges replicated; then the per-pixel
/// `bias` is added and a LeakyReLU applied. The released IFAN checkpoints were trained with the vertical taps reused
/// for the horizontal pass, which is why there is only one kernel here.
public enum IAC {
    /// Filters `input` (channels x height x width) into `output` (same shape), with `kernel` holding
    /// 3*channels planes and `bias` channels planes. `output` must not overlap `input`.
    public static func iterate(input: UnsafePointer<Float>, kernel: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                               output: UnsafeMutablePointer<Float>, channels: Int, height h: Int, width w: Int,
                               slope: Float = 0.1) {
        let plane = h * w
        let src = SendablePointer(input)
        let k = SendablePointer(kernel)
        let b = SendablePointer(bias)
        let dst = SendablePointer(output)
        DispatchQueue.concurrentPerform(iterations: channels) { c in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: w + 2) { scratch in
                let mid = scratch.baseAddress! + 1
                let x = src.pointer + c * plane
                let k0 = k.pointer + (3 * c) * plane, k1 = k0 + plane, k2 = k1 + plane
                let bp = b.pointer + c * plane
                let out = dst.pointer + c * plane
                for y in 0..<h {
                    let up = x + max(y - 1, 0) * w, here = x + y * w, down = x + min(y + 1, h - 1) * w
                    let row = y * w
                    for i in 0..<w {
                        mid[i] = k0[row + i] * up[i] + k1[row + i] * here[i] + k2[row + i] * down[i]
                    }
                    mid[-1] = mid[0]
                    mid[w] = mid[w - 1]
                    let o = out + row
                    for i in 0..<w {
                        let v = k0[row + i] * mid[i - 1] + k1[row + i] * mid[i] + k2[row + i] * mid[i + 1] + bp[row + i]
                        o[i] = v >= 0 ? v : v * slope
                    }
                }
            }
        }
    }

    /// The same iteration on tensors: `input` (C, H, W), `kernel` (3C, H, W), `bias` (C, H, W).
    public static func iterate(_ input: Tensor, kernel: Tensor, bias: Tensor, slope: Float = 0.1) throws -> Tensor {
        guard input.rank == 3 else { throw ShapeError("IAC input must be (C, H, W), got \(input.shape)") }
        let (c, h, w) = (input.shape[0], input.shape[1], input.shape[2])
        guard kernel.shape == [3 * c, h, w] else { throw ShapeError("IAC kernel must be \([3 * c, h, w]), got \(kernel.shape)") }
        guard bias.shape == [c, h, w] else { throw ShapeError("IAC bias must be \([c, h, w]), got \(bias.shape)") }
        guard c > 0, h > 0, w > 0 else { throw ShapeError("IAC needs a non-empty input, got \(input.shape)") }
        var output = Tensor(zeros: input.shape)
        input.data.withUnsafeBufferPointer { x in
            kernel.data.withUnsafeBufferPointer { k in
                bias.data.withUnsafeBufferPointer { b in
                    output.data.withUnsafeMutableBufferPointer { o in
                        iterate(input: x.baseAddress!, kernel: k.baseAddress!, bias: b.baseAddress!, output: o.baseAddress!,
                                channels: c, height: h, width: w, slope: slope)
                    }
                }
            }
        }
        return output
    }
}
