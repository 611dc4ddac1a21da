/// Plain, obviously-correct definitions of the layers, computed in double precision straight from the formulas.
/// They are far too slow for real images; tests check the fast kernels against them on small, odd-sized inputs.
public enum ReferenceLayers {
    /// `torch.nn.Conv2d` with zero padding; weight (out, in, kh, kw).
    public static func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int,
                              activation: Activation = .none) -> Tensor {
        let (c, h, w) = (x.shape[0], x.shape[1], x.shape[2])
        let (o, kh, kw) = (weight.shape[0], weight.shape[2], weight.shape[3])
        let oh = (h + 2 * padding - kh) / stride + 1, ow = (w + 2 * padding - kw) / stride + 1
        var out = Tensor(zeros: [o, oh, ow])
        for oc in 0..<o {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var acc = Double(bias?.data[oc] ?? 0)
                    for ic in 0..<c {
                        for ky in 0..<kh {
                            let iy = oy * stride - padding + ky
                            guard iy >= 0, iy < h else { continue }
                            for kx in 0..<kw {
                                let ix = ox * stride - padding + kx
                                guard ix >= 0, ix < w else { continue }
                                acc += Double(x.data[(ic * h + iy) * w + ix])
                                    * Double(weight.data[((oc * c + ic) * kh + ky) * kw + kx])
                            }
                        }
                    }
                    out.data[(oc * oh + oy) * ow + ox] = activation.apply(Float(acc))
                }
            }
        }
        return out
    }

    /// `torch.nn.ConvTranspose2d`; weight (in, out, kh, kw). Every input sample spreads its kernel-weighted value
    /// onto the output at `i * stride - padding + k`.
    public static func convTranspose2d(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int, padding: Int,
                                       activation: Activation = .none) -> Tensor {
        let (c, h, w) = (x.shape[0], x.shape[1], x.shape[2])
        let (o, kh, kw) = (weight.shape[1], weight.shape[2], weight.shape[3])
        let oh = (h - 1) * stride - 2 * padding + kh, ow = (w - 1) * stride - 2 * padding + kw
        var acc = [Double](repeating: 0, count: o * oh * ow)
        for ic in 0..<c {
            for iy in 0..<h {
                for ix in 0..<w {
                    let v = Double(x.data[(ic * h + iy) * w + ix])
                    for oc in 0..<o {
                        for ky in 0..<kh {
                            let oy = iy * stride - padding + ky
                            guard oy >= 0, oy < oh else { continue }
                            for kx in 0..<kw {
                                let ox = ix * stride - padding + kx
                                guard ox >= 0, ox < ow else { continue }
                                acc[(oc * oh + oy) * ow + ox] += v * Double(weight.data[((ic * o + oc) * kh + ky) * kw + kx])
                            }
                        }
                    }
                }
            }
        }
        var out = Tensor(zeros: [o, oh, ow])
        for i in acc.indices {
            out.data[i] = activation.apply(Float(acc[i] + Double(bias?.data[i / (oh * ow)] ?? 0)))
        }
        return out
    }

    /// One IAC iteration as IFAN's `SAC` computes it: replicate-pad rows, weighted sum of the 3 vertical neighbours
    /// with kernel channels 3c..3c+2; the same for columns on that result with the same kernel; add bias; LeakyReLU.
    public static func iac(_ x: Tensor, kernel: Tensor, bias: Tensor, slope: Float = 0.1) -> Tensor {
        let (c, h, w) = (x.shape[0], x.shape[1], x.shape[2])
        func k(_ ch: Int, _ j: Int, _ y: Int, _ xx: Int) -> Double { Double(kernel.data[((3 * ch + j) * h + y) * w + xx]) }
        var mid = [Double](repeating: 0, count: c * h * w)
        for ch in 0..<c {
            for y in 0..<h {
                for xx in 0..<w {
                    var s = 0.0
                    for j in 0..<3 {
                        let yy = min(max(y + j - 1, 0), h - 1)
                        s += k(ch, j, y, xx) * Double(x.data[(ch * h + yy) * w + xx])
                    }
                    mid[(ch * h + y) * w + xx] = s
                }
            }
        }
        var out = Tensor(zeros: x.shape)
        for ch in 0..<c {
            for y in 0..<h {
                for xx in 0..<w {
                    var s = Double(bias.data[(ch * h + y) * w + xx])
                    for j in 0..<3 {
                        let x2 = min(max(xx + j - 1, 0), w - 1)
                        s += k(ch, j, y, xx) * mid[(ch * h + y) * w + x2]
                    }
                    out.data[(ch * h + y) * w + xx] = Activation.leakyReLU(slope).apply(Float(s))
                }
            }
        }
        return out
    }
}
