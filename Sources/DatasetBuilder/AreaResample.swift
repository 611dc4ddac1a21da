import Imaging

/// Downscaling by exact area averaging: every output pixel is the mean of the input area it covers, fractional
/// pixels weighted by their covered fraction. It neither aliases nor blurs more than the size change requires, and
/// it treats source and target identically, which keeps a pair's pixels in register.
public enum AreaResample {
    /// The size whose long side is `maxSide`, keeping the aspect ratio; the input size if it already fits.
    public static func fittedSize(width: Int, height: Int, maxSide: Int) -> (width: Int, height: Int) {
        let long = max(width, height)
        guard maxSide > 0, long > maxSide else { return (width, height) }
        let scale = Double(maxSide) / Double(long)
        return (max(1, Int((Double(width) * scale).rounded())), max(1, Int((Double(height) * scale).rounded())))
    }

    /// `image` reduced so that its long side is at most `maxSide`; returned unchanged if it already fits.
    public static func downscale(_ image: RGBImage, maxSide: Int) -> RGBImage {
        let (w, h) = fittedSize(width: image.width, height: image.height, maxSide: maxSide)
        guard w != image.width || h != image.height else { return image }
        return resize(image, width: w, height: h)
    }

    /// Area-averaged resize to `width` x `height` (no larger than the input on either axis).
    public static func resize(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
        let xWeights = weights(from: image.width, to: width)
        let yWeights = weights(from: image.height, to: height)
        let inW = image.width, inH = image.height
        var out = [Float](repeating: 0, count: 3 * width * height)
        var rows = [Float](repeating: 0, count: inH * width)  // horizontally reduced plane
        image.pixels.withUnsafeBufferPointer { src in
            for c in 0..<3 {
                let plane = c * inW * inH
                for y in 0..<inH {
                    let row = plane + y * inW
                    for (ox, taps) in xWeights.enumerated() {
                        var sum: Float = 0
                        for tap in taps { sum += src[row + tap.index] * tap.weight }
                        rows[y * width + ox] = sum
                    }
                }
                let outPlane = c * width * height
                for (oy, taps) in yWeights.enumerated() {
                    for ox in 0..<width {
                        var sum: Float = 0
                        for tap in taps { sum += rows[tap.index * width + ox] * tap.weight }
                        out[outPlane + oy * width + ox] = sum
                    }
                }
            }
        }
        return RGBImage(width: width, height: height, transfer: image.transfer, pixels: out)
    }

    struct Tap {
        let index: Int
        let weight: Float
    }

    /// For each output index, the input indices its interval covers and the covered fractions (summing to 1).
    static func weights(from n: Int, to m: Int) -> [[Tap]] {
        let scale = Double(n) / Double(m)
        return (0..<m).map { o in
            let start = Double(o) * scale
            let end = Double(o + 1) * scale
            var taps: [Tap] = []
            var i = Int(start.rounded(.down))
            while Double(i) < end && i < n {
                let covered = min(end, Double(i + 1)) - max(start, Double(i))
                if covered > 1e-12 { taps.append(Tap(index: i, weight: Float(covered / scale))) }
                i += 1
            }
            return taps
        }
    }
}
