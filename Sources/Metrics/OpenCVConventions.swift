import Foundation
import ThreadSupport

/// One channel of float32 values, row-major: the images RealBlur's evaluation passes to OpenCV.
struct FloatPlane: Sendable {
    var width: Int
    var height: Int
    var values: [Float]

    init(width: Int, height: Int, values: [Float]) {
        self.width = width
        self.height = height
        self.values = values
    }

    init(width: Int, height: Int, repeating value: Float) {
        self.init(width: width, height: height, values: [Float](repeating: value, count: width * height))
    }

    @inline(__always) subscript(x: Int, y: Int) -> Float { values[y * width + x] }
}

/// The image operations of RealBlur's evaluation as OpenCV performs them (OpenCV's own conventions, written from its
/// documented behaviour): grey conversion, the 5-tap Gaussian, central-difference gradients and
/// `warpPerspective` with an inverse map, whose sampling positions are rounded to 1/32 pixel (`INTER_TAB_SIZE`).
/// Matching these is what lets the `realblur` protocol reproduce the script's numbers, not just its idea.
enum OpenCV {
    enum Border {
        /// Outside pixels are 0 (`BORDER_CONSTANT`, value 0).
        case zero
        /// `BORDER_REFLECT`: fedcba|abcdefgh|hgfedcb.
        case reflect
        /// `BORDER_REFLECT_101`: gfedcb|abcdefgh|gfedcba (the filters' default).
        case reflect101
    }

    /// The interpolations RealBlur's final warps use (the ECC iterations' bilinear one is fused into
    /// `ECCHomography.warpInputs`).
    enum Interpolation { case nearest, cubic }

    /// The index a border mode reads for position `p` of a row or column of `n`; -1 for `.zero` outside.
    @inline(__always) static func borderIndex(_ p: Int, _ n: Int, _ border: Border) -> Int {
        if p >= 0 && p < n { return p }
        switch border {
        case .zero: return -1
        case .reflect, .reflect101:
            if n == 1 { return 0 }
            let delta = border == .reflect101 ? 1 : 0
            var q = p
            repeat {
                q = q < 0 ? -q - 1 + delta : n - 1 - (q - n) - delta
            } while q < 0 || q >= n
            return q
        }
    }

    /// `cvtColor(..., COLOR_RGB2GRAY)` on float planes: 0.299 R + 0.587 G + 0.114 B in float.
    static func grey(_ r: [Float], _ g: [Float], _ b: [Float], width: Int, height: Int) -> FloatPlane {
        var out = [Float](repeating: 0, count: width * height)
        for i in out.indices { out[i] = r[i] * 0.299 + g[i] * 0.587 + b[i] * 0.114 }
        return FloatPlane(width: width, height: height, values: out)
    }

    /// A separable correlation with `taps` (odd length, centred) along rows then columns, borders reflected 101.
    static func separable(_ p: FloatPlane, rowTaps: [Float], columnTaps: [Float]) -> FloatPlane {
        let (w, h) = (p.width, p.height)
        func pass(_ src: [Float], taps: [Float], horizontal: Bool) -> [Float] {
            guard !taps.isEmpty else { return src }
            let r = taps.count / 2
            var out = [Float](repeating: 0, count: w * h)
            for y in 0..<h {
                for x in 0..<w {
                    var sum: Float = 0
                    for (k, t) in taps.enumerated() where t != 0 {
                        let v = horizontal ? src[y * w + borderIndex(x + k - r, w, .reflect101)]
                            : src[borderIndex(y + k - r, h, .reflect101) * w + x]
                        sum += t * v
                    }
                    out[y * w + x] = sum
                }
            }
            return out
        }
        let rows = pass(p.values, taps: rowTaps, horizontal: true)
        return FloatPlane(width: w, height: h, values: pass(rows, taps: columnTaps, horizontal: false))
    }

    /// `GaussianBlur(src, (5, 5), 0)`: with sigma 0 and 5 taps OpenCV uses its fixed kernel [1 4 6 4 1] / 16.
    static func gaussian5(_ p: FloatPlane) -> FloatPlane {
        let k: [Float] = [0.0625, 0.25, 0.375, 0.25, 0.0625]
        return separable(p, rowTaps: k, columnTaps: k)
    }

    /// `filter2D` with [-0.5, 0, 0.5] along x, and its transpose along y.
    static func gradients(_ p: FloatPlane) -> (x: FloatPlane, y: FloatPlane) {
        let d: [Float] = [-0.5, 0, 0.5]
        return (separable(p, rowTaps: d, columnTaps: []), separable(p, rowTaps: [], columnTaps: d))
    }

    /// `interpolateCubic`: OpenCV's cubic convolution weights (a = -0.75) for a fraction `x`.
    @inline(__always) static func cubicWeights(_ x: Float) -> (Float, Float, Float, Float) {
        let a: Float = -0.75
        let c0 = ((a * (x + 1) - 5 * a) * (x + 1) + 8 * a) * (x + 1) - 4 * a
        let c1 = ((a + 2) * x - (a + 3)) * x * x + 1
        let c2 = ((a + 2) * (1 - x) - (a + 3)) * (1 - x) * (1 - x) + 1
        return (c0, c1, c2, 1 - c0 - c1 - c2)
    }

    /// Round half to even, as `cvRound` does, after clamping to the Int32 range as OpenCV does: the 1.5 * 2^52
    /// trick, since the baseline x86-64 target has no rounding instruction and `rounded(_:)` is a call.
    @inline(__always) static func roundEven(_ v: Double) -> Int {
        let magic = 6755399441055744.0
        return Int((max(-2147483648, min(2147483647, v)) + magic) - magic)
    }

    /// Where `warpPerspective(..., INTER_NEAREST + WARP_INVERSE_MAP)` samples for an output pixel that the map
    /// takes to the homogeneous (nx, ny, w0): the nearest source pixel.
    @inline(__always) static func nearestPosition(_ nx: Double, _ ny: Double, _ w0: Double) -> (x: Int, y: Int) {
        let w = w0 != 0 ? 1 / w0 : 0
        return (roundEven(nx * w), roundEven(ny * w))
    }

    /// Where the linear and cubic warps sample: the position rounded to OpenCV's 1/32-pixel tables
    /// (`INTER_TAB_SIZE`), as the pixel and the fraction of a pixel beyond it.
    @inline(__always) static func tablePosition(_ nx: Double, _ ny: Double, _ w0: Double)
        -> (x: Int, y: Int, fx: Float, fy: Float) {
        let w = w0 != 0 ? 32 / w0 : 0
        let ix = roundEven(nx * w), iy = roundEven(ny * w)
        return (ix >> 5, iy >> 5, Float(ix & 31) / 32, Float(iy & 31) / 32)
    }

    /// `warpPerspective(src, m, size, interpolation + WARP_INVERSE_MAP, border)`: each output pixel (x, y) samples
    /// `src` at m * (x, y, 1) (`nearestPosition`, or `tablePosition` for cubic). The ECC iterations' bilinear warp
    /// is fused into `ECCHomography.warpInputs`. Rows are computed in parallel (each output pixel on its own, so
    /// the result does not depend on the split).
    static func warp(_ src: FloatPlane, _ m: [Double], width: Int, height: Int, interpolation: Interpolation,
                     border: Border) -> FloatPlane {
        var out = [Float](repeating: 0, count: width * height)
        let (sw, sh) = (src.width, src.height)
        out.withUnsafeMutableBufferPointer { buffer in
            let dst = SendablePointer(buffer.baseAddress!)
            src.values.withUnsafeBufferPointer { sb in
                let s = SendablePointer(sb.baseAddress!)
                let bands = max(1, min(height, 64))
                DispatchQueue.concurrentPerform(iterations: bands) { band in
                    let s = s.pointer
                    @inline(__always) func at(_ x: Int, _ y: Int) -> Float {
                        let bx = borderIndex(x, sw, border), by = borderIndex(y, sh, border)
                        return bx < 0 || by < 0 ? 0 : s[by * sw + bx]
                    }
                    for y in stride(from: band, to: height, by: bands) {
                        for x in 0..<width {
                            let xd = Double(x), yd = Double(y)
                            let w0 = m[6] * xd + m[7] * yd + m[8]
                            let nx = m[0] * xd + m[1] * yd + m[2], ny = m[3] * xd + m[4] * yd + m[5]
                            let value: Float
                            switch interpolation {
                            case .nearest:
                                let (sx, sy) = nearestPosition(nx, ny, w0)
                                if sx >= 0 && sx < sw && sy >= 0 && sy < sh { value = s[sy * sw + sx] }
                                else { value = border == .zero ? 0 : at(sx, sy) }
                            case .cubic:
                                let (sx, sy, ax, ay) = tablePosition(nx, ny, w0)
                                if border == .zero && (sx - 1 >= sw || sx + 2 < 0 || sy - 1 >= sh || sy + 2 < 0) {
                                    value = 0
                                } else {
                                    let cx = cubicWeights(ax), cy = cubicWeights(ay)
                                    let wx = [cx.0, cx.1, cx.2, cx.3], wy = [cy.0, cy.1, cy.2, cy.3]
                                    var sum: Float = 0
                                    for r in 0..<4 {
                                        for c in 0..<4 { sum += at(sx - 1 + c, sy - 1 + r) * (wy[r] * wx[c]) }
                                    }
                                    value = sum
                                }
                            }
                            dst.pointer[y * width + x] = value
                        }
                    }
                }
            }
        }
        return FloatPlane(width: width, height: height, values: out)
    }
}
