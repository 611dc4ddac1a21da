import Foundation

extension RGBImage {
    /// The size whose long side is `maxSide`, keeping the aspect ratio; the input size if it already fits.
    public static func fittedSize(width: Int, height: Int, maxSide: Int) -> (width: Int, height: Int) {
        let long = max(width, height)
        guard maxSide > 0, long > maxSide else { return (width, height) }
        let scale = Double(maxSide) / Double(long)
        return (max(1, Int((Double(width) * scale).rounded())), max(1, Int((Double(height) * scale).rounded())))
    }

    /// A smaller copy whose longer side is at most `maxSide`, by area averaging; the image itself when it fits.
    ///
    /// Every output pixel is the mean of the input area it covers, fractional pixels weighted by their covered
    /// fraction: it neither aliases nor blurs more than the size change requires, and it treats both images of a
    /// pair identically, which keeps them in register.
    public func downscaled(maxSide: Int) -> RGBImage {
        let (w, h) = Self.fittedSize(width: width, height: height, maxSide: maxSide)
        guard w != width || h != height else { return self }
        return resizedByArea(width: w, height: h)
    }

    /// Area-averaged resize to `w` x `h` (no larger than the input on either axis), separable: rows first.
    public func resizedByArea(width w: Int, height h: Int) -> RGBImage {
        let xWeights = Self.areaWeights(from: width, to: w)
        let yWeights = Self.areaWeights(from: height, to: h)
        let inW = width, inH = height
        var out = [Float](repeating: 0, count: 3 * w * h)
        var rows = [Float](repeating: 0, count: inH * w)  // horizontally reduced plane
        pixels.withUnsafeBufferPointer { src in
            for c in 0..<3 {
                let plane = c * inW * inH
                for y in 0..<inH {
                    let row = plane + y * inW
                    for (ox, taps) in xWeights.enumerated() {
                        var sum: Float = 0
                        for tap in taps { sum += src[row + tap.index] * tap.weight }
                        rows[y * w + ox] = sum
                    }
                }
                let outPlane = c * w * h
                for (oy, taps) in yWeights.enumerated() {
                    for ox in 0..<w {
                        var sum: Float = 0
                        for tap in taps { sum += rows[tap.index * w + ox] * tap.weight }
                        out[outPlane + oy * w + ox] = sum
                    }
                }
            }
        }
        return RGBImage(width: w, height: h, transfer: transfer, pixels: out)
    }

    /// For each output index, the input indices its interval covers and the covered fractions (summing to 1).
    static func areaWeights(from n: Int, to m: Int) -> [[(index: Int, weight: Float)]] {
        let scale = Double(n) / Double(m)
        return (0..<m).map { o in
            let start = Double(o) * scale, end = Double(o + 1) * scale
            var taps: [(index: Int, weight: Float)] = []
            var i = Int(start.rounded(.down))
            while Double(i) < end && i < n {
                let covered = min(end, Double(i + 1)) - max(start, Double(i))
                if covered > 1e-12 { taps.append((i, Float(covered / scale))) }
                i += 1
            }
            return taps
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
