import Foundation
import Imaging

/// What a virtual camera photographs: a sharp, noiseless image with the distance of every pixel.
///
/// Defocus needs depth, so a scene is always an all-in-focus image plus a depth map; the cameras render their
/// frames from it for their own aperture, focus and position.
public struct Scene: Sendable {
    public let name: String
    /// Linear-light RGB, all in focus.
    public let image: RGBImage
    /// Distance from the camera in metres, one per pixel, row-major.
    public let depth: [Float]

    public init(name: String, image: RGBImage, depth: [Float]) throws {
        guard depth.count == image.width * image.height else {
            throw VirtualCameraError.badScene(name: name, reason: "the depth map has \(depth.count) values for a \(image.width)x\(image.height) image")
        }
        guard depth.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw VirtualCameraError.badScene(name: name, reason: "depths must be positive finite distances in metres")
        }
        self.name = name
        self.image = image.linearized()
        self.depth = depth
    }

    public var width: Int { image.width }
    public var height: Int { image.height }

    /// Loads a user scene: any image rigctl reads plus a depth image whose first channel maps 0...1 linearly to
    /// `near`...`far` metres (so an 8- or 16-bit grey PNG works).
    public static func load(image imageURL: URL, depth depthURL: URL, near: Float = 1, far: Float = 10) throws -> Scene {
        guard near > 0, far > near else {
            throw VirtualCameraError.badScene(name: imageURL.lastPathComponent, reason: "the depth range must satisfy 0 < near < far")
        }
        let image = try ImageFile.read(imageURL)
        let depthImage = try ImageFile.read(depthURL)
        guard depthImage.width == image.width, depthImage.height == image.height else {
            throw VirtualCameraError.badScene(name: imageURL.lastPathComponent,
                                              reason: "the depth map \(depthURL.lastPathComponent) is \(depthImage.width)x\(depthImage.height), the image \(image.width)x\(image.height)")
        }
        // PNG/JPEG depth maps are data, not light: use the stored values as they are.
        let plane = depthImage.plane(0)
        let depth = plane.map { near + min(max($0, 0), 1) * (far - near) }
        return try Scene(name: imageURL.deletingPathExtension().lastPathComponent, image: image, depth: depth)
    }

    /// One of the procedural scenes, at the given size. The same arguments always give the same scene.
    public static func builtIn(_ kind: BuiltInScene, width: Int, height: Int, seed: UInt64 = 1) -> Scene {
        var builder = SceneBuilder(width: width, height: height, seed: seed)
        switch kind {
        case .planes: builder.planes()
        case .slope: builder.slope()
        case .cards: builder.cards()
        }
        // The builder guarantees positive depths and a matching size.
        return Scene(uncheckedName: kind.rawValue, image: RGBImage(width: width, height: height, transfer: .linear, pixels: builder.pixels), depth: builder.depth)
    }

    private init(uncheckedName: String, image: RGBImage, depth: [Float]) {
        self.name = uncheckedName
        self.image = image
        self.depth = depth
    }
}

/// The procedural scenes. Every one is textured everywhere, so that alignment and sharpness measures have
/// something to lock on to, and spans several depths, so that the two cameras' defocus differs.
public enum BuiltInScene: String, Sendable, CaseIterable, Codable {
    /// Textured planes at 1.5, 2.5, 4 and 12 m in front of each other.
    case planes
    /// A textured floor receding from 1 m to 30 m, with a wall behind.
    case slope
    /// Many overlapping textured cards at random depths (a dead-leaves scene).
    case cards
}

/// Deterministic value noise and the scene layouts.
private struct SceneBuilder {
    let width: Int
    let height: Int
    let seed: UInt64
    var pixels: [Float]
    var depth: [Float]

    init(width: Int, height: Int, seed: UInt64) {
        self.width = width
        self.height = height
        self.seed = seed
        pixels = [Float](repeating: 0, count: 3 * width * height)
        depth = [Float](repeating: 10, count: width * height)
    }

    /// A texture: coloured multi-octave value noise, optionally with a periodic pattern, in linear light.
    struct Texture {
        var base: (Float, Float, Float)
        var tint: (Float, Float, Float)
        var scale: Float
        var seed: UInt64
        var pattern: Pattern

        enum Pattern { case none, bricks, stripes, checker, dots }
    }

    static func hash(_ x: Int32, _ y: Int32, _ seed: UInt64) -> Float {
        var h = UInt64(bitPattern: Int64(x)) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(bitPattern: Int64(y)) &* 0xC2B2_AE3D_27D4_EB4F ^ seed
        h ^= h >> 31
        h = h &* 0xBF58_476D_1CE4_E5B9
        h ^= h >> 29
        return Float(h >> 40) / Float(1 << 24)
    }

    static func valueNoise(_ x: Float, _ y: Float, _ seed: UInt64) -> Float {
        let x0 = floorf(x), y0 = floorf(y)
        let fx = x - x0, fy = y - y0
        let sx = fx * fx * (3 - 2 * fx), sy = fy * fy * (3 - 2 * fy)
        let ix = Int32(x0), iy = Int32(y0)
        let a = hash(ix, iy, seed), b = hash(ix + 1, iy, seed)
        let c = hash(ix, iy + 1, seed), d = hash(ix + 1, iy + 1, seed)
        return (a + (b - a) * sx) + ((c + (d - c) * sx) - (a + (b - a) * sx)) * sy
    }

    static func fbm(_ x: Float, _ y: Float, _ seed: UInt64) -> Float {
        var sum: Float = 0, amp: Float = 0.5, fx = x, fy = y
        for octave in 0..<5 {
            sum += amp * valueNoise(fx, fy, seed &+ UInt64(octave))
            fx *= 2.03
            fy *= 2.03
            amp *= 0.5
        }
        return sum / 0.97
    }

    /// The texture at (u, v). `footprint` is the size of one pixel in texture units: detail finer than a pixel
    /// fades to its mean instead of aliasing into moire (a camera's lens and sensor average it the same way).
    func sample(_ t: Texture, u: Float, v: Float, footprint: Float = 1) -> (Float, Float, Float) {
        let n = Self.fbm(u / t.scale, v / t.scale, t.seed)
        let fine = Self.valueNoise(u / (t.scale * 0.08), v / (t.scale * 0.08), t.seed &+ 99)
        let fineWeight = min(max(1 - footprint / (t.scale * 0.16), 0), 1)
        var m: Float = 0.55 + 0.7 * (n - 0.5) + 0.25 * (fine - 0.5) * fineWeight
        let patternWeight = min(max(1 - footprint / (t.scale * 0.5), 0), 1)
        var factor: Float = 1
        var mean: Float = 1
        switch t.pattern {
        case .none: break
        case .bricks:
            let bw = t.scale * 1.6, bh = t.scale * 0.7
            let row = floorf(v / bh)
            let shifted = u + (Int(row) % 2 == 0 ? 0 : bw / 2)
            let mortarU = shifted - floorf(shifted / bw) * bw, mortarV = v - row * bh
            if mortarU < t.scale * 0.12 || mortarV < t.scale * 0.12 { factor = 0.35 }
            mean = 0.85
        case .stripes:
            factor = 0.6 + 0.4 * (sinf(u / t.scale * 6.3 + 3 * n) > 0 ? 1 : 0)
            mean = 0.8
        case .checker:
            let cu = Int(floorf(u / t.scale)), cv = Int(floorf(v / t.scale))
            factor = (cu + cv) % 2 == 0 ? 1 : 0.45
            mean = 0.725
        case .dots:
            let cu = u / t.scale - floorf(u / t.scale) - 0.5, cv = v / t.scale - floorf(v / t.scale) - 0.5
            if cu * cu + cv * cv < 0.09 { factor = 0.3 }
            mean = 0.8
        }
        m *= mean + (factor - mean) * patternWeight
        m = min(max(m, 0.02), 1.4)
        let mix = Self.valueNoise(u / (t.scale * 3), v / (t.scale * 3), t.seed &+ 7)
        let r = (t.base.0 * (1 - mix) + t.tint.0 * mix) * m
        let g = (t.base.1 * (1 - mix) + t.tint.1 * mix) * m
        let b = (t.base.2 * (1 - mix) + t.tint.2 * mix) * m
        return (min(r, 1), min(g, 1), min(b, 1))
    }

    mutating func put(_ x: Int, _ y: Int, _ c: (Float, Float, Float), _ d: Float) {
        let n = width * height, i = y * width + x
        pixels[i] = c.0
        pixels[n + i] = c.1
        pixels[2 * n + i] = c.2
        depth[i] = d
    }

    /// Fills the pixels where `inside` holds with a texture at a constant depth (a fronto-parallel plane).
    mutating func plane(_ t: Texture, depth d: Float, inside: (Int, Int) -> Bool) {
        for y in 0..<height {
            for x in 0..<width where inside(x, y) {
                put(x, y, sample(t, u: Float(x), v: Float(y)), d)
            }
        }
    }

    var unit: Float { Float(min(width, height)) / 40 }

    mutating func planes() {
        let u = unit
        let w = width, h = height
        plane(Texture(base: (0.10, 0.22, 0.08), tint: (0.30, 0.35, 0.12), scale: u * 1.2, seed: seed &+ 1, pattern: .none),
              depth: 12) { _, _ in true }
        plane(Texture(base: (0.45, 0.18, 0.10), tint: (0.55, 0.35, 0.25), scale: u, seed: seed &+ 2, pattern: .bricks),
              depth: 4) { x, y in x > w / 2 && y < h * 3 / 4 }
        plane(Texture(base: (0.55, 0.55, 0.50), tint: (0.20, 0.25, 0.45), scale: u * 0.9, seed: seed &+ 3, pattern: .checker),
              depth: 2.5) { x, y in x > w / 5 && x < w * 3 / 5 && y > h / 5 && y < h * 4 / 5 }
        let cx = Float(w) * 0.22, cy = Float(h) * 0.68, r = Float(min(w, h)) * 0.22
        plane(Texture(base: (0.60, 0.45, 0.15), tint: (0.25, 0.50, 0.55), scale: u * 0.7, seed: seed &+ 4, pattern: .stripes),
              depth: 1.5) { x, y in
            let dx = Float(x) - cx, dy = Float(y) - cy
            return dx * dx + dy * dy < r * r
        }
    }

    mutating func slope() {
        let u = unit
        let horizon = height * 2 / 5
        let wall = Texture(base: (0.35, 0.33, 0.30), tint: (0.20, 0.28, 0.40), scale: u, seed: seed &+ 11, pattern: .bricks)
        plane(wall, depth: 30) { _, y in y < horizon }
        let floor = Texture(base: (0.40, 0.30, 0.18), tint: (0.15, 0.30, 0.12), scale: 0.25, seed: seed &+ 12, pattern: .checker)
        // A ground plane seen from 1.5 m height: distance grows as 1 / (rows below the horizon).
        for y in horizon..<height {
            let below = Float(y - horizon + 1) / Float(height - horizon)
            let d = min(30, 1.0 / below)
            // One pixel spans 4d/width across and 4 d^2 / (rows below the horizon) along the floor.
            let footprint = max(4 * d / Float(width), 4 * d * d / Float(height - horizon))
            for x in 0..<width {
                let lateral = (Float(x) - Float(width) / 2) / Float(width) * d
                put(x, y, sample(floor, u: lateral * 4, v: d * 4, footprint: footprint), d)
            }
        }
    }

    mutating func cards() {
        let u = unit
        plane(Texture(base: (0.25, 0.25, 0.28), tint: (0.35, 0.30, 0.20), scale: u * 1.5, seed: seed &+ 21, pattern: .dots),
              depth: 15) { _, _ in true }
        var rng = seed &+ 0x5EED
        func next() -> Float {
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            return Float(rng >> 40) / Float(1 << 24)
        }
        let patterns: [Texture.Pattern] = [.none, .bricks, .stripes, .checker, .dots]
        // Far cards first, so nearer ones cover them.
        var cards: [(x: Float, y: Float, w: Float, h: Float, d: Float, t: Texture)] = []
        for i in 0..<28 {
            let d = 1.2 + next() * 10
            let t = Texture(base: (0.1 + 0.6 * next(), 0.1 + 0.6 * next(), 0.1 + 0.6 * next()),
                            tint: (0.1 + 0.6 * next(), 0.1 + 0.6 * next(), 0.1 + 0.6 * next()),
                            scale: u * (0.5 + next()), seed: seed &+ UInt64(100 + i), pattern: patterns[Int(next() * 4.99)])
            let cw = Float(width) * (0.08 + 0.2 * next()) * 3 / d + 20, ch = Float(height) * (0.08 + 0.2 * next()) * 3 / d + 20
            cards.append((next() * Float(width) - cw / 2, next() * Float(height) - ch / 2, cw, ch, d, t))
        }
        for card in cards.sorted(by: { $0.d > $1.d }) {
            let x0 = max(0, Int(card.x)), x1 = min(width, Int(card.x + card.w))
            let y0 = max(0, Int(card.y)), y1 = min(height, Int(card.y + card.h))
            guard x0 < x1, y0 < y1 else { continue }
            for y in y0..<y1 {
                for x in x0..<x1 { put(x, y, sample(card.t, u: Float(x), v: Float(y)), card.d) }
            }
        }
    }
}
