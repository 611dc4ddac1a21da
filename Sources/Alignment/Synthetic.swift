import Foundation
import PairVocabulary
import Imaging

/// A procedural colour texture defined at every real coordinate, so that a pair can be rendered through a known
/// homography without any resampling error: multi-octave value noise (pink-ish spectrum, with coarse chroma
/// variation) plus sharp-edged discs of random colour, as a stand-in for a photographed scene.
public struct ProceduralTexture: Sendable {
    public var seed: UInt64

    public init(seed: UInt64) { self.seed = seed }

    @inline(__always)
    private func hash(_ x: Int, _ y: Int, _ k: UInt64) -> Float {
        var z = seed &+ UInt64(bitPattern: Int64(x)) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(bitPattern: Int64(y)) &* 0xC2B2_AE3D_27D4_EB4F
            &+ k &* 0x1656_67B1_9E37_79F9
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Float(z >> 40) / Float(1 << 24)
    }

    @inline(__always)
    private func noise(_ x: Double, _ y: Double, _ k: UInt64) -> Float {
        let fx = x.rounded(.down), fy = y.rounded(.down)
        let ix = Int(fx), iy = Int(fy)
        var tx = Float(x - fx), ty = Float(y - fy)
        tx = tx * tx * (3 - 2 * tx)
        ty = ty * ty * (3 - 2 * ty)
        let a = hash(ix, iy, k), b = hash(ix + 1, iy, k), c = hash(ix, iy + 1, k), d = hash(ix + 1, iy + 1, k)
        return (a + (b - a) * tx) + ((c + (d - c) * tx) - (a + (b - a) * tx)) * ty
    }

    /// The colour at a point (pixel units), each channel in about [0.05, 0.95].
    public func colour(_ x: Double, _ y: Double) -> (Float, Float, Float) {
        var grey: Float = 0, total: Float = 0
        var period = 2.5, amplitude: Float = 1, octave: UInt64 = 1
        while period < 600 {
            grey += amplitude * (noise(x / period, y / period, octave) - 0.5)
            total += amplitude
            period *= 2
            amplitude *= 1.45
            octave += 1
        }
        grey = 0.5 + 1.1 * grey / total
        let cr = noise(x / 300, y / 300, 101) - 0.5, cb = noise(x / 300, y / 300, 102) - 0.5
        var r = grey + 0.35 * cr, g = grey - 0.1 * (cr + cb), b = grey + 0.35 * cb
        // Discs with sharp (but not aliased) edges, one per 64-px cell, checked in the 3x3 neighbourhood.
        let cell = 64.0
        let cx = Int((x / cell).rounded(.down)), cy = Int((y / cell).rounded(.down))
        for j in (cy - 1)...(cy + 1) {
            for i in (cx - 1)...(cx + 1) where hash(i, j, 200) < 0.45 {
                let ox = (Double(i) + Double(hash(i, j, 201))) * cell, oy = (Double(j) + Double(hash(i, j, 202))) * cell
                let radius = 4 + 36 * Double(hash(i, j, 203))
                let d = hypot(x - ox, y - oy) - radius
                if d < 0.7 {
                    let cover = Float(min(1, max(0, 0.5 - d / 1.4)))
                    let shade = 0.7 + 0.3 * noise(x / 3, y / 3, 300)
                    r += cover * (hash(i, j, 204) * shade - r)
                    g += cover * (hash(i, j, 205) * shade - g)
                    b += cover * (hash(i, j, 206) * shade - b)
                }
            }
        }
        func clamp(_ v: Float) -> Float { min(max(0.05 + 0.9 * v, 0.02), 0.98) }
        return (clamp(r), clamp(g), clamp(b))
    }

    /// Renders the texture seen through `map` (output pixel -> texture point).
    public func render(width: Int, height: Int, map: @Sendable (Double, Double) -> (Double, Double)) -> RGBImage {
        let n = width * height
        var pixels = [Float](repeating: 0, count: 3 * n)
        pixels.withUnsafeMutableBufferPointer { buf in
            let p = buf.baseAddress!
            Parallel.forEach(count: height, minChunk: 4) { rows in
                for y in rows {
                    for x in 0..<width {
                        let (u, v) = map(Double(x), Double(y))
                        let (r, g, b) = colour(u, v)
                        let i = y * width + x
                        p[i] = r
                        p[n + i] = g
                        p[2 * n + i] = b
                    }
                }
            }
        }
        return RGBImage(width: width, height: height, transfer: .display, pixels: pixels)
    }
}

/// A synthetic shallow/deep-DOF pair with known geometry and colour: the alignment tests' and benchmark's ground
/// truth.
public struct SyntheticPair: Sendable {
    public var source: RGBImage
    public var target: RGBImage
    /// The true source -> target map.
    public var homography: Homography
    /// target = gain * scene + offset, per channel.
    public var gain: [Double]
    public var offset: [Double]

    /// A moving object: a disc textured differently, at `centre` in the source and displaced by `displacement` in
    /// the target (beyond what the homography does).
    public struct MovingObject: Sendable {
        public var centre: (Double, Double)
        public var radius: Double
        public var displacement: (Double, Double)
        public init(centre: (Double, Double), radius: Double, displacement: (Double, Double)) {
            self.centre = centre
            self.radius = radius
            self.displacement = displacement
        }
    }

    /// - Parameters:
    ///   - defocusRadius: disc blur radius (pixels) applied to the source where x > `defocusFrom` * width.
    ///   - targetSeed: a different seed renders an unrelated scene in the target.
    public static func make(width: Int, height: Int, homography: Homography, defocusRadius: Int = 0,
                            defocusFrom: Double = 0.5, gain: [Double] = [1, 1, 1], offset: [Double] = [0, 0, 0],
                            noise: Float = 0, seed: UInt64 = 1, targetSeed: UInt64? = nil,
                            movingObject: MovingObject? = nil, targetSize: (Int, Int)? = nil) -> SyntheticPair {
        let scene = ProceduralTexture(seed: seed)
        let object = ProceduralTexture(seed: seed &+ 7777)
        let targetScene = ProceduralTexture(seed: targetSeed ?? seed)
        let inverse = homography.inverse ?? .identity
        // The source is rendered with a margin as wide as the defocus, blurred, then cropped: the scene goes on
        // beyond the frame, so the blur near the edges sees real content rather than repeated edge pixels.
        let margin = defocusRadius
        let m = Double(margin)
        var source = scene.render(width: width + 2 * margin, height: height + 2 * margin) { ($0 - m, $1 - m) }
        let (tw, th) = targetSize ?? (width, height)
        var target = targetScene.render(width: tw, height: th) { x, y in
            let p = inverse.apply(x, y)
            return (p.x, p.y)
        }
        if let o = movingObject {
            let objectOrigin = o.centre
            func paint(_ image: inout RGBImage, displacement: (Double, Double), map: (Double, Double) -> (Double, Double)) {
                let n = image.planeSize
                for y in 0..<image.height {
                    for x in 0..<image.width {
                        let (u, v) = map(Double(x), Double(y))
                        let du = u - objectOrigin.0 - displacement.0, dv = v - objectOrigin.1 - displacement.1
                        guard hypot(du, dv) < o.radius else { continue }
                        let (r, g, b) = object.colour(du, dv)
                        let i = y * image.width + x
                        image.pixels[i] = r
                        image.pixels[n + i] = g
                        image.pixels[2 * n + i] = b
                    }
                }
            }
            paint(&source, displacement: (0, 0)) { ($0 - m, $1 - m) }
            paint(&target, displacement: o.displacement) { x, y in
                let p = inverse.apply(x, y)
                return (p.x, p.y)
            }
        }
        if defocusRadius > 0 {
            source = discBlur(source, radius: defocusRadius, fromX: margin + Int(defocusFrom * Double(width)))
                .cropped(x: margin, y: margin, width: width, height: height)
        }
        // target = gain * scene + offset
        let n = tw * th
        for c in 0..<3 {
            for i in 0..<n {
                target.pixels[c * n + i] = Float(gain[c]) * target.pixels[c * n + i] + Float(offset[c])
            }
        }
        if noise > 0 {
            var rng = SplitMix64(seed: seed &* 31 &+ 5)
            for image in [0, 1] {
                var img = image == 0 ? source : target
                for i in img.pixels.indices {
                    img.pixels[i] = min(max(img.pixels[i] + noise * rng.gaussian(), 0), 1)
                }
                if image == 0 { source = img } else { target = img }
            }
        }
        return SyntheticPair(source: source, target: target, homography: homography, gain: gain, offset: offset)
    }

    /// Disc (pillbox) blur of radius r for columns x >= fromX, with a 2r-wide blend at the boundary: the
    /// defocused half of a shallow-DOF image.
    static func discBlur(_ image: RGBImage, radius r: Int, fromX: Int) -> RGBImage {
        let w = image.width, h = image.height, n = image.planeSize
        var out = image
        var spans: [(Int, Int)] = []
        var area = 0
        for dy in -r...r {
            let half = Int((Double(r * r - dy * dy) + 0.25).squareRoot())
            spans.append((dy, half))
            area += 2 * half + 1
        }
        let norm = 1 / Float(area)
        let start = max(0, fromX - r)
        image.pixels.withUnsafeBufferPointer { src in
            out.pixels.withUnsafeMutableBufferPointer { dst in
                let s = src.baseAddress!, d = dst.baseAddress!
                Parallel.forEach(count: 3 * h, minChunk: 4) { items in
                    var prefix = [Float](repeating: 0, count: w + 1)
                    for item in items {
                        let c = item / h, y = item % h
                        var acc = [Float](repeating: 0, count: w)
                        for (dy, half) in spans {
                            let yy = min(max(y + dy, 0), h - 1)
                            let row = s + c * n + yy * w
                            prefix[0] = 0
                            for x in 0..<w { prefix[x + 1] = prefix[x] + row[x] }
                            for x in start..<w {
                                let lo = max(x - half, 0), hi = min(x + half, w - 1)
                                // Edge pixels are repeated for the part of the span outside the image.
                                var sum = prefix[hi + 1] - prefix[lo]
                                sum += Float(max(0, (x - half) * -1)) * row[0]
                                sum += Float(max(0, x + half - (w - 1))) * row[w - 1]
                                acc[x] += sum
                            }
                        }
                        for x in start..<w {
                            let blend = min(1, max(0, Float(x - start) / Float(2 * r)))
                            let i = c * n + y * w + x
                            d[i] = (1 - blend) * s[i] + blend * acc[x] * norm
                        }
                    }
                }
            }
        }
        return out
    }
}
