import Dispatch
import Foundation
import PairVocabulary
import Imaging
import ThreadSupport

/// Splits per-pixel passes over the available cores; each chunk returns its own partial result so that no
/// shared state is written concurrently.
enum Parallel {
    static let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Runs `body` on consecutive sub-ranges of `0..<count` concurrently and returns their results in order.
    static func map<T>(count: Int, minChunk: Int = 2048, _ body: (Range<Int>) -> T) -> [T] {
        let chunks = max(1, min(workers * 4, count / max(1, minChunk)))
        if chunks == 1 { return [body(0..<count)] }
        let results = UnsafeMutablePointer<T>.allocate(capacity: chunks)
        defer {
            results.deinitialize(count: chunks)
            results.deallocate()
        }
        withoutActuallyEscaping(body) { body in
            // Each chunk writes only its own slot, and concurrentPerform returns after all chunks: the slots and the
            // closure (reached through a pointer to it) are safe to share although the compiler cannot see it.
            withUnsafePointer(to: body) { work in
                let out = SendablePointer(results), shared = SendablePointer(work)
                DispatchQueue.concurrentPerform(iterations: chunks) { k in
                    let lo = count * k / chunks, hi = count * (k + 1) / chunks
                    (out.pointer + k).initialize(to: shared.pointer.pointee(lo..<hi))
                }
            }
        }
        return Array(UnsafeBufferPointer(start: results, count: chunks))
    }

    /// Runs `body` on sub-ranges of `0..<count` concurrently, for passes that write disjoint outputs.
    static func forEach(count: Int, minChunk: Int = 8, _ body: (Range<Int>) -> Void) {
        _ = map(count: count, minChunk: minChunk) { body($0) }
    }
}

/// A single-channel float image: the grey (luma) planes registration works on.
public struct Plane: Sendable {
    public let width: Int
    public let height: Int
    public var values: [Float]

    public init(width: Int, height: Int, values: [Float]) {
        self.width = width
        self.height = height
        self.values = values
    }

    public init(width: Int, height: Int, repeating v: Float = 0) {
        self.init(width: width, height: height, values: [Float](repeating: v, count: width * height))
    }

    /// Rec. 709 luma of an RGB image, in the image's own transfer.
    public init(luma image: RGBImage) {
        self.init(image, weights: (0.2126, 0.7152, 0.0722))
    }

    /// A weighted sum of the channels.
    init(_ image: RGBImage, weights: (Float, Float, Float)) {
        let n = image.planeSize
        var out = [Float](repeating: 0, count: n)
        let (wr, wg, wb) = weights
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                let s = src.baseAddress!, d = dst.baseAddress!
                Parallel.forEach(count: n, minChunk: 65536) { r in
                    for i in r { d[i] = wr * s[i] + wg * s[n + i] + wb * s[2 * n + i] }
                }
            }
        }
        self.init(width: image.width, height: image.height, values: out)
    }

    /// Half size by 2x2 box averaging; pixel i of the result is centred on 2i + 0.5 of this one.
    func halved() -> Plane {
        let w = width / 2, h = height / 2
        var out = [Float](repeating: 0, count: w * h)
        let sw = width
        values.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                let s = src.baseAddress!, d = dst.baseAddress!
                Parallel.forEach(count: h, minChunk: 16) { rows in
                    for y in rows {
                        let a = s + 2 * y * sw, b = a + sw
                        let o = d + y * w
                        for x in 0..<w {
                            o[x] = 0.25 * (a[2 * x] + a[2 * x + 1] + b[2 * x] + b[2 * x + 1])
                        }
                    }
                }
            }
        }
        return Plane(width: w, height: h, values: out)
    }

    /// The plane mirrored left-right (`horizontal`) or top-bottom (`vertical`): an exact permutation.
    func mirrored(_ mirror: Mirror) -> Plane {
        switch mirror {
        case .none: return self
        case .horizontal:
            var out = values
            for y in 0..<height {
                for x in 0..<width { out[y * width + x] = values[y * width + width - 1 - x] }
            }
            return Plane(width: width, height: height, values: out)
        case .vertical:
            var out = values
            for y in 0..<height {
                for x in 0..<width { out[y * width + x] = values[(height - 1 - y) * width + x] }
            }
            return Plane(width: width, height: height, values: out)
        }
    }

    /// Mean and standard deviation.
    func meanAndDeviation() -> (Double, Double) {
        var s = 0.0, s2 = 0.0
        for v in values {
            s += Double(v)
            s2 += Double(v) * Double(v)
        }
        let n = Double(max(values.count, 1))
        let m = s / n
        return (m, (max(s2 / n - m * m, 0)).squareRoot())
    }
}

/// Bilinear sampling with edge clamping, on raw buffers for the inner loops.
@inline(__always)
func bilinear(_ p: UnsafePointer<Float>, _ w: Int, _ h: Int, _ x: Float, _ y: Float) -> Float {
    let xc = min(max(x, 0), Float(w - 1) - 0.001)
    let yc = min(max(y, 0), Float(h - 1) - 0.001)
    let x0 = Int(xc), y0 = Int(yc)
    let fx = xc - Float(x0), fy = yc - Float(y0)
    let r = p + y0 * w + x0
    let top = r[0] + fx * (r[1] - r[0])
    let bottom = r[w] + fx * (r[w + 1] - r[w])
    return top + fy * (bottom - top)
}

/// Box filter of radius r (window 2r+1) with edge clamping, separable running sums.
func boxFilter(_ plane: Plane, radius r: Int) -> Plane {
    let w = plane.width, h = plane.height
    var tmp = [Float](repeating: 0, count: w * h)
    var out = [Float](repeating: 0, count: w * h)
    let norm = 1 / Float(2 * r + 1)
    plane.values.withUnsafeBufferPointer { src in
        tmp.withUnsafeMutableBufferPointer { t in
            let s = src.baseAddress!, d = t.baseAddress!
            Parallel.forEach(count: h, minChunk: 16) { rows in
                for y in rows {
                    let row = s + y * w, o = d + y * w
                    var acc: Float = 0
                    for k in -r...r { acc += row[min(max(k, 0), w - 1)] }
                    for x in 0..<w {
                        o[x] = acc * norm
                        acc += row[min(x + r + 1, w - 1)] - row[max(x - r, 0)]
                    }
                }
            }
        }
    }
    // Vertical pass row by row with a running sum per column (memory order), columns split across threads.
    tmp.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            let s = src.baseAddress!, d = dst.baseAddress!
            Parallel.forEach(count: w, minChunk: 256) { cols in
                var acc = [Float](repeating: 0, count: cols.count)
                let x0 = cols.lowerBound
                for k in -r...r {
                    let row = s + min(max(k, 0), h - 1) * w + x0
                    for j in 0..<cols.count { acc[j] += row[j] }
                }
                for y in 0..<h {
                    let o = d + y * w + x0
                    let add = s + min(y + r + 1, h - 1) * w + x0, sub = s + max(y - r, 0) * w + x0
                    for j in 0..<cols.count {
                        o[j] = acc[j] * norm
                        acc[j] += add[j] - sub[j]
                    }
                }
            }
        }
    }
    return Plane(width: w, height: h, values: out)
}

/// Squared gradient magnitude by central differences (zero at the border).
func gradientEnergy(_ plane: Plane) -> Plane {
    let w = plane.width, h = plane.height
    var out = [Float](repeating: 0, count: w * h)
    plane.values.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            let s = src.baseAddress!, d = dst.baseAddress!
            Parallel.forEach(count: max(h - 2, 0), minChunk: 16) { rows in
                for yy in rows {
                    let y = yy + 1
                    for x in 1..<(w - 1) {
                        let i = y * w + x
                        let gx = 0.5 * (s[i + 1] - s[i - 1]), gy = 0.5 * (s[i + w] - s[i - w])
                        d[i] = gx * gx + gy * gy
                    }
                }
            }
        }
    }
    return Plane(width: w, height: h, values: out)
}

/// Per-channel contrast of `target` relative to `source` (ratio of standard deviations of strongly low-passed
/// channels, so defocus and noise barely matter): the target's grey image is built with these factors so that
/// cameras with different channel gains still give grey images related by a single gain and offset, which is
/// what the correlation criterion assumes.
func channelBalance(source: RGBImage, target: RGBImage) -> (Float, Float, Float) {
    func lowPassDeviation(_ image: RGBImage) -> [Double] {
        // Block means from every other pixel of every other row: plenty for a low-pass statistic.
        let block = max(2, min(image.width, image.height) / 100)
        let bw = image.width / block, bh = image.height / block, n = image.planeSize, w = image.width
        return image.pixels.withUnsafeBufferPointer { buf in
            let p = buf.baseAddress!
            return (0..<3).map { c in
                let parts = Parallel.map(count: bh, minChunk: 4) { rows -> (Double, Double) in
                    var s = 0.0, s2 = 0.0
                    for by in rows {
                        for bx in 0..<bw {
                            var acc: Float = 0, k = 0
                            for y in stride(from: by * block, to: (by + 1) * block, by: 2) {
                                let row = p + c * n + y * w
                                for x in stride(from: bx * block, to: (bx + 1) * block, by: 2) {
                                    acc += row[x]
                                    k += 1
                                }
                            }
                            let m = Double(acc) / Double(max(k, 1))
                            s += m
                            s2 += m * m
                        }
                    }
                    return (s, s2)
                }
                let s = parts.reduce(0) { $0 + $1.0 }, s2 = parts.reduce(0) { $0 + $1.1 }
                let count = Double(max(bw * bh, 1))
                return max(s2 / count - (s / count) * (s / count), 0).squareRoot()
            }
        }
    }
    let ds = lowPassDeviation(source), dt = lowPassDeviation(target)
    let g = (0..<3).map { c -> Float in
        guard dt[c] > 1e-6, ds[c] > 1e-6 else { return 1 }
        return Float(min(max(ds[c] / dt[c], 0.2), 5))
    }
    return (0.2126 * g[0], 0.7152 * g[1], 0.0722 * g[2])
}
