import Foundation

extension RGBImage {
    /// A smaller copy whose longer side is at most `maxSide`, by area averaging (each output pixel is the mean of
    /// the input area it covers, with fractional edge weights), which neither aliases nor blurs more than needed.
    /// Returns the image itself when it is already small enough.
    public func downscaled(maxSide: Int) -> RGBImage {
        let longer = max(width, height)
        guard maxSide > 0, longer > maxSide else { return self }
        let scale = Double(maxSide) / Double(longer)
        let w = max(1, Int((Double(width) * scale).rounded())), h = max(1, Int((Double(height) * scale).rounded()))
        return resizedByArea(width: w, height: h)
    }

    /// Area-average resize to exactly `w` x `h` (for reduction; for enlargement it degenerates to nearest).
    public func resizedByArea(width w: Int, height h: Int) -> RGBImage {
        let xs = Self.coverage(from: width, to: w)
        let ys = Self.coverage(from: height, to: h)
        var out = [Float](repeating: 0, count: 3 * w * h)
        let n = planeSize
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                var row = [Double](repeating: 0, count: width)
                for c in 0..<3 {
                    for oy in 0..<h {
                        for i in 0..<width { row[i] = 0 }
                        for (iy, wy) in ys[oy] {
                            let base = c * n + iy * width
                            for i in 0..<width { row[i] += Double(src[base + i]) * wy }
                        }
                        for ox in 0..<w {
                            var acc = 0.0
                            for (ix, wx) in xs[ox] { acc += row[ix] * wx }
                            dst[c * w * h + oy * w + ox] = Float(acc)
                        }
                    }
                }
            }
        }
        return RGBImage(width: w, height: h, transfer: transfer, pixels: out)
    }

    /// For each output index, the input indices it covers and their normalised weights.
    static func coverage(from n: Int, to m: Int) -> [[(Int, Double)]] {
        let step = Double(n) / Double(m)
        return (0..<m).map { o in
            let lo = Double(o) * step, hi = lo + step
            var taps: [(Int, Double)] = []
            var i = Int(lo.rounded(.down))
            while Double(i) < hi && i < n {
                let weight = min(hi, Double(i + 1)) - max(lo, Double(i))
                if weight > 1e-12 { taps.append((i, weight / step)) }
                i += 1
            }
            return taps.isEmpty ? [(min(n - 1, Int(lo)), 1)] : taps
        }
    }

    /// Each pixel repeated `factor` times in both directions, for zoomed crops where pixels should stay visible.
    public func enlargedNearest(by factor: Int) -> RGBImage {
        precondition(factor >= 1)
        var out = RGBImage(width: width * factor, height: height * factor, transfer: transfer)
        for c in 0..<3 {
            for y in 0..<out.height {
                for x in 0..<out.width { out[c, x, y] = self[c, x / factor, y / factor] }
            }
        }
        return out
    }
}
