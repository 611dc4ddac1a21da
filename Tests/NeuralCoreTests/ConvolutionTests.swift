import Testing
import NeuralCore

/// The plain definition of a zero-padded convolution, against which the fast path is checked.
func referenceConv(_ x: Tensor, _ w: Tensor, _ b: Tensor?, stride: Int, padding: Int, activation: Activation) -> Tensor {
    let (c, h, wd) = (x.shape[0], x.shape[1], x.shape[2])
    let (o, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
    let oh = (h + 2 * padding - kh) / stride + 1, ow = (wd + 2 * padding - kw) / stride + 1
    var out = Tensor(zeros: [o, oh, ow])
    for oc in 0..<o {
        for oy in 0..<oh {
            for ox in 0..<ow {
                var acc = Double(b?.data[oc] ?? 0)
                for ic in 0..<c {
                    for ky in 0..<kh {
                        for kx in 0..<kw {
                            let iy = oy * stride - padding + ky, ix = ox * stride - padding + kx
                            guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
                            acc += Double(x.data[(ic * h + iy) * wd + ix]) * Double(w.data[((oc * c + ic) * kh + ky) * kw + kx])
                        }
                    }
                }
                var v = Float(acc)
                switch activation {
                case .none: break
                case .relu: v = max(v, 0)
                case .leakyReLU(let s): v = v >= 0 ? v : v * s
                }
                out.data[(oc * oh + oy) * ow + ox] = v
            }
        }
    }
    return out
}

func randomTensor(_ shape: [Int], seed: UInt64) -> Tensor {
    var state = seed &* 6364136223846793005 &+ 1442695040888963407
    let n = shape.reduce(1, *)
    var data = [Float](repeating: 0, count: n)
    for i in 0..<n {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        data[i] = Float(Int64(bitPattern: state >> 11) % 2_000_000) / 1_000_000 - 1
    }
    return Tensor(shape: shape, data: data)
}

struct ConvCase: Sendable, CustomStringConvertible {
    let cin, cout, k, stride, padding, h, w: Int
    var description: String { "\(cin)->\(cout) k\(k) s\(stride) p\(padding) \(h)x\(w)" }
}

@Test(arguments: [
    ConvCase(cin: 3, cout: 5, k: 3, stride: 1, padding: 1, h: 7, w: 11),
    ConvCase(cin: 4, cout: 6, k: 3, stride: 2, padding: 1, h: 9, w: 13),
    ConvCase(cin: 2, cout: 3, k: 1, stride: 1, padding: 0, h: 5, w: 3),
    ConvCase(cin: 3, cout: 4, k: 11, stride: 4, padding: 2, h: 31, w: 37),
    ConvCase(cin: 3, cout: 2, k: 5, stride: 1, padding: 2, h: 6, w: 9),
    ConvCase(cin: 1, cout: 1, k: 3, stride: 1, padding: 1, h: 1, w: 1),
])
func convolutionMatchesDefinition(_ t: ConvCase) throws {
    let x = randomTensor([t.cin, t.h, t.w], seed: 1)
    let w = randomTensor([t.cout, t.cin, t.k, t.k], seed: 2)
    let b = randomTensor([t.cout], seed: 3)
    for activation in [Activation.none, .leakyReLU(0.1), .relu] {
        var conv = try Conv2D(weight: w, bias: b, stride: t.stride, padding: t.padding, activation: activation)
        conv.maxBandBytes = 64  // force several bands
        let fast = try conv(x)
        let slow = referenceConv(x, w, b, stride: t.stride, padding: t.padding, activation: activation)
        #expect(fast.shape == slow.shape)
        let worst = zip(fast.data, slow.data).map { abs($0 - $1) }.max() ?? 0
        #expect(worst < 1e-4, "\(t) \(activation): \(worst)")
    }
}

@Test func convolutionRejectsMismatchedShapes() throws {
    let conv = try Conv2D(weight: Tensor(zeros: [2, 3, 3, 3]), bias: nil)
    #expect(throws: ShapeError.self) { try conv(Tensor(zeros: [4, 5, 5])) }
    #expect(throws: ShapeError.self) { try Conv2D(weight: Tensor(zeros: [2, 3, 3, 3]), bias: Tensor(zeros: [3])) }
}
