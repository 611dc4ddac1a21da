import Foundation
import Imaging
import PairVocabulary

/// Shift, rotation and scale of the deep camera's view against the shallow one's, from one pair of live-view
/// frames: what a person turns the beam splitter's screws against.
public struct LiveViewMeasurement: Codable, Sendable, Equatable {
    public var frame: Int
    /// Where the shallow frame's centre lands in the deep frame (mirror undone), in full-sensor pixels.
    public var shiftX: Double
    public var shiftY: Double
    /// Degrees, positive counter-clockwise in x-right/y-up terms (clockwise on screen).
    public var rotationDegrees: Double
    public var scale: Double
    /// Registration correlation (1 is a perfect match).
    public var correlation: Double
    /// Live-view frame size and the factor to full-sensor pixels.
    public var liveViewWidth: Int
    public var liveViewHeight: Int
    public var sensorScale: Double
    /// Where `sensorScale` came from ("--sensor-width", "Nikon live-view header", ...); nil: live-view pixels.
    public var sensorScaleSource: String?
    /// Focus: `LiveViewFocus.sharpness` of each view (mirror undone) and their ratio, shallow over deep (nil when
    /// the deep view is flat).
    public var shallowSharpness: Double?
    public var deepSharpness: Double?
    public var sharpnessRatio: Double?

    /// The shallow frame's centre and a step of a quarter width right of it, carried into the deep frame by `h`
    /// (shallow live-view pixels -> deep live-view pixels, mirror undone).
    public init(_ h: Homography, width: Int, height: Int, frame: Int, sensorScale: Double, correlation: Double) {
        let cx = Double(width - 1) / 2, cy = Double(height - 1) / 2, r = Double(width) / 4
        let c = h.apply(cx, cy), e = h.apply(cx + r, cy)
        let dx = e.x - c.x, dy = e.y - c.y
        self.frame = frame
        shiftX = (c.x - cx) * sensorScale
        shiftY = (c.y - cy) * sensorScale
        rotationDegrees = atan2(dy, dx) * 180 / .pi
        scale = (dx * dx + dy * dy).squareRoot() / r
        self.correlation = correlation
        liveViewWidth = width
        liveViewHeight = height
        self.sensorScale = sensorScale
    }
}

/// Coarse registration for live view: both frames reduced to at most `maxSide` pixels across and registered
/// there (grey, coarse to fine, as the aligner registers), the map carried back to the frames' own pixels.
/// Colour matching, the quality figures and the aligned images of a full alignment are left out: live view
/// needs only the geometry, a few times a second.
public struct LiveViewRegistration: Sendable {
    public var maxSide: Int
    public var options: RegistrationOptions

    /// 240 px: measured on the virtual rig (LiveViewBenchmark, docs/rig.md), the offsets stay within 0.1 sensor
    /// pixel and 0.005 degrees of a registration at full live-view size, at a fraction of its cost; smaller sizes
    /// drift (120 px: 0.9 px).
    public init(maxSide: Int = 240, options: RegistrationOptions = RegistrationOptions()) {
        self.maxSide = maxSide
        self.options = options
    }

    public struct Result: Sendable {
        /// Source (shallow) -> target (deep, mirror already undone) pixels of the frames given.
        public var homography: Homography
        /// The registration's normalised correlation at the finest level.
        public var correlation: Double
        /// Why the optimisation stopped short (the map is then its last estimate, the correlation tells how bad).
        public var failure: String?
    }

    public func register(source: RGBImage, target: RGBImage) throws -> Result {
        for (name, image) in [("source", source), ("target", target)] where min(image.width, image.height) < 32 {
            throw AlignmentError.badImage(name: name, detail: "\(image.width)x\(image.height) live view is too small (at least 32 px a side)")
        }
        let s = source.downscaled(maxSide: maxSide), t = target.downscaled(maxSide: maxSide)
        let reg = Alignment.register(source: Plane(luma: s), target: Plane(t, weights: channelBalance(source: s, target: t)),
                                     initial: nil, options: options)
        func size(_ image: RGBImage) -> FrameSize { FrameSize(width: image.width, height: image.height) }
        let map = Homography.scaling(from: size(t), to: size(target)) * reg.homography * .scaling(from: size(source), to: size(s))
        return Result(homography: map, correlation: reg.correlation, failure: reg.failure)
    }
}

/// The images written per live-view frame.
public enum LiveViewImages {
    /// The deep view flipped back by the rig's mirror, so that it reads like the shallow one.
    public static func flipped(_ image: RGBImage, _ mirror: Mirror) -> RGBImage {
        guard mirror != .none else { return image }
        var out = image
        let w = image.width, h = image.height
        for ch in 0..<3 {
            for y in 0..<h {
                for x in 0..<w {
                    let sx = mirror == .horizontal ? w - 1 - x : x, sy = mirror == .vertical ? h - 1 - y : y
                    out[ch, x, y] = image[ch, sx, sy]
                }
            }
        }
        return out
    }

    public static func sideBySide(_ a: RGBImage, _ b: RGBImage) -> RGBImage {
        let h = max(a.height, b.height)
        var out = RGBImage(width: a.width + b.width, height: h, transfer: a.transfer)
        for ch in 0..<3 {
            for y in 0..<a.height { for x in 0..<a.width { out[ch, x, y] = a[ch, x, y] } }
            for y in 0..<b.height { for x in 0..<b.width { out[ch, a.width + x, y] = b[ch, x, y] } }
        }
        return out
    }

    /// The overlays a person aligns the splitter against.
    public enum Overlay: String, Sendable, CaseIterable {
        /// |shallow - deep| x4: edges that do not line up show as bright fringes.
        case difference
        /// Tiles taken alternately from the shallow and the deep view: a misaligned edge breaks at tile borders.
        case checkerboard
    }

    public static func overlay(_ kind: Overlay, _ a: RGBImage, _ b: RGBImage) -> RGBImage {
        kind == .difference ? difference(a, b) : checkerboard(a, b)
    }

    /// Squares of `tile` pixels (default: an eighth of the shorter side, at least 8), the top-left one from `a`.
    public static func checkerboard(_ a: RGBImage, _ b: RGBImage, tile: Int? = nil) -> RGBImage {
        let w = min(a.width, b.width), h = min(a.height, b.height)
        let t = max(1, tile ?? max(8, min(w, h) / 8))
        var out = RGBImage(width: w, height: h, transfer: a.transfer)
        for ch in 0..<3 {
            for y in 0..<h {
                for x in 0..<w { out[ch, x, y] = (x / t + y / t) % 2 == 0 ? a[ch, x, y] : b[ch, x, y] }
            }
        }
        return out
    }

    /// |shallow - deep| per channel, brightened: edges that do not line up show as bright fringes.
    public static func difference(_ a: RGBImage, _ b: RGBImage) -> RGBImage {
        let w = min(a.width, b.width), h = min(a.height, b.height)
        var out = RGBImage(width: w, height: h, transfer: a.transfer)
        for ch in 0..<3 { for y in 0..<h { for x in 0..<w { out[ch, x, y] = min(1, 4 * abs(a[ch, x, y] - b[ch, x, y])) } } }
        return out
    }
}

/// A focus-difference estimate from two live-view frames: how much fine detail each view holds, independent of
/// its brightness and contrast.
public enum LiveViewFocus {
    /// Mean squared Laplacian of the luminance over the luminance's variance, in the central half of the frame
    /// (where the two views overlap whatever the splitter's misalignment). A blurred view loses its high
    /// frequencies first, so the figure falls with defocus; dividing by the variance cancels exposure, white
    /// balance and contrast differences between the bodies. 0 for a flat frame.
    public static func sharpness(_ image: RGBImage) -> Double {
        let w = image.width, h = image.height
        let x0 = w / 4, x1 = max(x0 + 3, w - w / 4), y0 = h / 4, y1 = max(y0 + 3, h - h / 4)
        guard w >= 3, h >= 3 else { return 0 }
        func luma(_ x: Int, _ y: Int) -> Double {
            0.2126 * Double(image[0, x, y]) + 0.7152 * Double(image[1, x, y]) + 0.0722 * Double(image[2, x, y])
        }
        var sum = 0.0, sumSquares = 0.0, energy = 0.0, count = 0.0
        for y in max(1, y0)..<min(h - 1, y1) {
            for x in max(1, x0)..<min(w - 1, x1) {
                let v = luma(x, y)
                let laplacian = 4 * v - luma(x - 1, y) - luma(x + 1, y) - luma(x, y - 1) - luma(x, y + 1)
                sum += v
                sumSquares += v * v
                energy += laplacian * laplacian
                count += 1
            }
        }
        guard count > 0 else { return 0 }
        let variance = sumSquares / count - (sum / count) * (sum / count)
        return variance > 1e-12 ? energy / count / variance : 0
    }
}
