import Foundation
import Imaging

/// The settings a frame is exposed with, in physical units.
public struct ExposureSettings: Sendable, Equatable, Codable {
    public var fNumber: Double
    /// Seconds.
    public var exposureTime: Double
    public var iso: Int
    /// Metres from the camera to the plane in focus.
    public var focusDistance: Double

    public init(fNumber: Double, exposureTime: Double, iso: Int, focusDistance: Double) {
        self.fNumber = fNumber
        self.exposureTime = exposureTime
        self.iso = iso
        self.focusDistance = focusDistance
    }
}

/// What makes one physical camera of a rig differ from the other: where it sits, whether it sees the scene
/// through the beam splitter's mirror, how its sensor responds to colour, and its noise.
public struct CameraCharacter: Sendable, Equatable, Codable {
    /// Lens focal length in millimetres.
    public var focalLength: Double
    /// Sensor width in millimetres (the frame's pixel pitch is this over the frame width).
    public var sensorWidth: Double
    /// Shift of the camera's view, in pixels of the frame.
    public var offsetX: Double
    public var offsetY: Double
    public var rotationDegrees: Double
    /// Magnification relative to the scene (a slightly different lens-to-subject distance).
    public var scale: Double
    /// The camera sees the scene in the beam splitter's mirror: its frames are flipped left-right.
    public var mirrored: Bool
    /// Per-channel sensitivity (R, G, B).
    public var colourGains: [Double]
    /// Read noise in electrons; shot noise follows from the full-well capacity and the ISO.
    public var readNoise: Double
    public var fullWell: Double
    /// Seed of the noise, so that runs are reproducible.
    public var noiseSeed: UInt64

    public init(focalLength: Double = 50, sensorWidth: Double = 36, offsetX: Double = 0, offsetY: Double = 0,
                rotationDegrees: Double = 0, scale: Double = 1, mirrored: Bool = false,
                colourGains: [Double] = [1, 1, 1], readNoise: Double = 3, fullWell: Double = 30000, noiseSeed: UInt64 = 1) {
        self.focalLength = focalLength
        self.sensorWidth = sensorWidth
        self.offsetX = offsetX
        self.offsetY = offsetY
        self.rotationDegrees = rotationDegrees
        self.scale = scale
        self.mirrored = mirrored
        self.colourGains = colourGains
        self.readNoise = readNoise
        self.fullWell = fullWell
        self.noiseSeed = noiseSeed
    }
}

/// Renders what a camera would record of a scene.
///
/// The sharp scene is warped to the camera's viewpoint, defocused per pixel by the thin-lens circle of confusion
/// (blur diameter `A * f * |D - S| / (D * (S - f))` for aperture diameter `A = f / N`, focus distance `S`, object
/// distance `D`), scaled by the exposure, passed through the camera's colour response, mosaicked and given
/// shot and read noise. The defocus kernel is a Gaussian with the variance of the blur disc, applied as a stack of
/// blur levels blended per pixel; occlusion at depth edges is not modelled.
public struct FrameRenderer: Sendable {
    public var character: CameraCharacter
    public var width: Int
    public var height: Int

    /// Sensor values at this exposure factor reach 0.18 of white for a scene value of 0.18 (f/4, 1/125 s, ISO 100).
    static let referenceExposure = (1.0 / 125) / 16

    public init(character: CameraCharacter, width: Int, height: Int) {
        self.character = character
        self.width = width
        self.height = height
    }

    /// Blur-disc diameter in pixels of this frame for an object `distance` metres away.
    public func blurDiameter(distance: Double, settings: ExposureSettings) -> Double {
        let f = character.focalLength
        let s = max(settings.focusDistance * 1000, f * 1.01)
        let d = max(distance * 1000, f * 1.01)
        let aperture = f / settings.fNumber
        let coc = aperture * f * abs(d - s) / (d * (s - f))
        return coc / (character.sensorWidth / Double(width))
    }

    /// The noiseless linear image the sensor would see (before mosaicking), for tests and previews.
    public func renderLinear(_ scene: Scene, settings: ExposureSettings) -> RGBImage {
        let (warped, depth) = warp(scene)
        var blurred = defocus(warped, depth: depth, settings: settings)
        let exposure = Float(settings.exposureTime * Double(settings.iso) / 100 / (settings.fNumber * settings.fNumber)
                             / Self.referenceExposure)
        let n = width * height
        blurred.withUnsafeMutableBufferPointer { px in
            for c in 0..<3 {
                let g = exposure * Float(character.colourGains.count == 3 ? character.colourGains[c] : 1)
                for i in 0..<n { px[c * n + i] = min(px[c * n + i] * g, 1) }
            }
        }
        return RGBImage(width: width, height: height, transfer: .linear, pixels: blurred)
    }

    /// The raw frame: rendered, mosaicked (RGGB) with 14-bit samples and noise.
    public func renderBayer(_ scene: Scene, settings: ExposureSettings, shot: UInt64) -> BayerFrame {
        let linear = renderLinear(scene, settings: settings)
        let w = width & ~1, h = height & ~1
        let black = 512, white = 16383
        let range = Float(white - black)
        let gainFactor = Double(settings.iso) / 100
        let fullWell = Float(character.fullWell / gainFactor)
        let readSigma = Float(character.readNoise * gainFactor / character.fullWell)
        var rng = NoiseGenerator(seed: character.noiseSeed &* 0x9E37_79B9_7F4A_7C15 &+ shot)
        var samples = [UInt16](repeating: 0, count: w * h)
        let n = width * height
        linear.pixels.withUnsafeBufferPointer { px in
            for y in 0..<h {
                for x in 0..<w {
                    let c = CFAPattern.rggb.color(x: x, y: y)
                    let v = px[c * n + y * width + x]
                    let sigma = (v / fullWell + readSigma * readSigma).squareRoot()
                    let noisy = min(max(v + sigma * rng.gaussian(), 0), 1)
                    samples[y * w + x] = UInt16(Float(black) + (noisy * range).rounded())
                }
            }
        }
        return BayerFrame(width: w, height: h, pattern: .rggb, samples: samples, blackLevel: black, whiteLevel: white)
    }

    /// Resamples the scene (image and depth) into this camera's view: scale and rotation about the centre, the
    /// offset, and the mirror.
    func warp(_ scene: Scene) -> (image: [Float], depth: [Float]) {
        let n = width * height, sn = scene.width * scene.height
        var image = [Float](repeating: 0, count: 3 * n)
        var depth = [Float](repeating: 0, count: n)
        let theta = character.rotationDegrees * .pi / 180
        let cosT = Float(cos(theta) / character.scale), sinT = Float(sin(theta) / character.scale)
        // Frame size may differ from the scene's: map frame coordinates onto scene coordinates.
        let sx = Float(scene.width) / Float(width), sy = Float(scene.height) / Float(height)
        let cx = Float(width - 1) / 2, cy = Float(height - 1) / 2
        let ox = Float(character.offsetX), oy = Float(character.offsetY)
        scene.image.pixels.withUnsafeBufferPointer { src in
            scene.depth.withUnsafeBufferPointer { srcDepth in
                for y in 0..<height {
                    for xOut in 0..<width {
                        let x = character.mirrored ? width - 1 - xOut : xOut
                        let dx = Float(x) - cx - ox, dy = Float(y) - cy - oy
                        let u = (cosT * dx + sinT * dy + cx) * sx
                        let v = (-sinT * dx + cosT * dy + cy) * sy
                        let uc = min(max(u, 0), Float(scene.width - 1)), vc = min(max(v, 0), Float(scene.height - 1))
                        let x0 = Int(uc), y0 = Int(vc)
                        let x1 = min(x0 + 1, scene.width - 1), y1 = min(y0 + 1, scene.height - 1)
                        let fx = uc - Float(x0), fy = vc - Float(y0)
                        let i = y * width + xOut
                        let a = y0 * scene.width + x0, b = y0 * scene.width + x1
                        let c = y1 * scene.width + x0, d = y1 * scene.width + x1
                        for ch in 0..<3 {
                            let o = ch * sn
                            let top = src[o + a] + (src[o + b] - src[o + a]) * fx
                            let bottom = src[o + c] + (src[o + d] - src[o + c]) * fx
                            image[ch * n + i] = top + (bottom - top) * fy
                        }
                        // Depth is not interpolated across edges: take the nearest sample.
                        depth[i] = srcDepth[(fy < 0.5 ? y0 : y1) * scene.width + (fx < 0.5 ? x0 : x1)]
                    }
                }
            }
        }
        return (image, depth)
    }

    /// Diameters (pixels) of the blur levels; each pixel blends the two levels around its own diameter.
    static let levels: [Float] = [0, 1, 1.5, 2, 3, 4, 5.5, 7.5, 10, 13, 17, 22, 29, 38, 50, 65, 85]

    func defocus(_ image: [Float], depth: [Float], settings: ExposureSettings) -> [Float] {
        let n = width * height
        let maxLevel = Self.levels.last!
        var diameters = [Float](repeating: 0, count: n)
        var largest: Float = 0
        for i in 0..<n {
            let d = min(Float(blurDiameter(distance: Double(depth[i]), settings: settings)), maxLevel)
            diameters[i] = d
            largest = max(largest, d)
        }
        var out = [Float](repeating: 0, count: 3 * n)
        for (k, level) in Self.levels.enumerated() {
            if k > 0 && Self.levels[k - 1] >= largest { break }
            let lower = k > 0 ? Self.levels[k - 1] : 0
            let upper = k + 1 < Self.levels.count ? Self.levels[k + 1] : level
            // Weight of this level at a pixel: a tent over the neighbouring levels' diameters.
            var weights = [Float](repeating: 0, count: n)
            var any = false
            for i in 0..<n {
                let d = diameters[i]
                var w: Float = 0
                if d == level { w = 1 }
                else if d < level && d > lower { w = (d - lower) / (level - lower) }
                else if d > level && d < upper { w = (upper - d) / (upper - level) }
                weights[i] = w
                if w > 0 { any = true }
            }
            guard any else { continue }
            let blurred = level < 0.5 ? image : GaussianBlur.apply(image, width: width, height: height, sigma: level / 4)
            for c in 0..<3 {
                let o = c * n
                for i in 0..<n where weights[i] > 0 { out[o + i] += weights[i] * blurred[o + i] }
            }
        }
        return out
    }
}

/// Separable Gaussian blur of a planar RGB buffer: a direct kernel for small sigmas, three running box filters
/// (which converge to a Gaussian) for large ones.
enum GaussianBlur {
    static func apply(_ image: [Float], width: Int, height: Int, sigma: Float) -> [Float] {
        var out = image
        let n = width * height
        var scratch = [Float](repeating: 0, count: max(width, height))
        var line = [Float](repeating: 0, count: max(width, height))
        out.withUnsafeMutableBufferPointer { px in
            for c in 0..<3 {
                let plane = px.baseAddress! + c * n
                for y in 0..<height { blurLine(plane + y * width, stride: 1, count: width, sigma: sigma, &line, &scratch) }
                for x in 0..<width { blurLine(plane + x, stride: width, count: height, sigma: sigma, &line, &scratch) }
            }
        }
        return out
    }

    static func blurLine(_ p: UnsafeMutablePointer<Float>, stride: Int, count: Int, sigma: Float,
                         _ line: inout [Float], _ scratch: inout [Float]) {
        for i in 0..<count { line[i] = p[i * stride] }
        if sigma < 2 {
            let radius = Int((sigma * 3).rounded(.up))
            var kernel = [Float](repeating: 0, count: 2 * radius + 1)
            var sum: Float = 0
            for k in -radius...radius {
                let v = expf(-Float(k * k) / (2 * sigma * sigma))
                kernel[k + radius] = v
                sum += v
            }
            for i in 0..<count {
                var acc: Float = 0
                for k in -radius...radius {
                    let j = min(max(i + k, 0), count - 1)
                    acc += kernel[k + radius] * line[j]
                }
                p[i * stride] = acc / sum
            }
            return
        }
        // Three box passes of radius r have variance 3 * ((2r+1)^2 - 1) / 12 = sigma^2.
        let r = max(1, Int((((4 * sigma * sigma + 1).squareRoot()) - 1) / 2 + 0.5))
        for _ in 0..<3 {
            boxPass(&line, count: count, radius: r, &scratch)
        }
        for i in 0..<count { p[i * stride] = line[i] }
    }

    static func boxPass(_ line: inout [Float], count: Int, radius r: Int, _ scratch: inout [Float]) {
        let norm = 1 / Float(2 * r + 1)
        var acc: Float = 0
        for k in -r...r { acc += line[min(max(k, 0), count - 1)] }
        for i in 0..<count {
            scratch[i] = acc * norm
            acc += line[min(i + r + 1, count - 1)] - line[max(i - r, 0)]
        }
        for i in 0..<count { line[i] = scratch[i] }
    }
}

/// A fast seeded generator of standard normal samples (xorshift + Box-Muller).
struct NoiseGenerator {
    var state: UInt64
    var spare: Float?

    init(seed: UInt64) { state = seed == 0 ? 0x1234_5678 : seed }

    mutating func uniform() -> Float {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return (Float(state >> 40) + 0.5) / Float(1 << 24)
    }

    mutating func gaussian() -> Float {
        if let s = spare { spare = nil; return s }
        let u1 = uniform(), u2 = uniform()
        let r = (-2 * logf(u1)).squareRoot()
        spare = r * sinf(2 * .pi * u2)
        return r * cosf(2 * .pi * u2)
    }
}
