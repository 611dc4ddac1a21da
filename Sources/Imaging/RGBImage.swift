import Foundation

/// How the sample values of an image relate to light.
public enum Transfer: String, Sendable, Codable {
    /// Proportional to scene light, as RAW decoding produces it.
    case linear
    /// Display-encoded values (sRGB-like), as PNG and JPEG files hold them.
    case display
}

/// The one image type of rigctl: planar float32 RGB with values in [0, 1].
///
/// Planar storage (all of R, then G, then B) is what the network engine and the alignment code consume
/// directly, so pixels are laid out once on decode and never shuffled again.
public struct RGBImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public var transfer: Transfer
    /// R plane, then G plane, then B plane; each `width * height` values, row-major.
    public var pixels: [Float]

    public static let channels = 3

    public init(width: Int, height: Int, transfer: Transfer = .display, pixels: [Float]) {
        precondition(width > 0 && height > 0, "an image needs a positive size")
        precondition(pixels.count == 3 * width * height, "pixel count does not match \(width)x\(height)x3")
        self.width = width
        self.height = height
        self.transfer = transfer
        self.pixels = pixels
    }

    /// A black image.
    public init(width: Int, height: Int, transfer: Transfer = .display) {
        self.init(width: width, height: height, transfer: transfer,
                  pixels: [Float](repeating: 0, count: 3 * width * height))
    }

    public var planeSize: Int { width * height }

    @inlinable
    public subscript(channel: Int, x: Int, y: Int) -> Float {
        get { pixels[channel * width * height + y * width + x] }
        set { pixels[channel * width * height + y * width + x] = newValue }
    }

    /// The pixels of one channel, row-major.
    public func plane(_ channel: Int) -> ArraySlice<Float> {
        pixels[(channel * planeSize)..<((channel + 1) * planeSize)]
    }

    /// A copy of the rectangle `x..<x+width`, `y..<y+height`.
    public func cropped(x: Int, y: Int, width w: Int, height h: Int) -> RGBImage {
        precondition(x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= width && y + h <= height,
                     "crop \(w)x\(h)+\(x)+\(y) is outside \(width)x\(height)")
        var out = [Float](repeating: 0, count: 3 * w * h)
        for c in 0..<3 {
            for row in 0..<h {
                let src = c * planeSize + (y + row) * width + x
                let dst = c * w * h + row * w
                for i in 0..<w { out[dst + i] = pixels[src + i] }
            }
        }
        return RGBImage(width: w, height: h, transfer: transfer, pixels: out)
    }

    /// The image with the sRGB transfer function applied (linear -> display); display images are returned as is.
    public func displayEncoded() -> RGBImage {
        guard transfer == .linear else { return self }
        var out = self
        out.transfer = .display
        for i in out.pixels.indices { out.pixels[i] = SRGB.encode(pixels[i]) }
        return out
    }

    /// The image with the sRGB transfer function removed (display -> linear); linear images are returned as is.
    public func linearized() -> RGBImage {
        guard transfer == .display else { return self }
        var out = self
        out.transfer = .linear
        for i in out.pixels.indices { out.pixels[i] = SRGB.decode(pixels[i]) }
        return out
    }
}

/// The sRGB transfer function (IEC 61966-2-1).
public enum SRGB {
    @inlinable
    public static func encode(_ linear: Float) -> Float {
        let v = min(max(linear, 0), 1)
        return v <= 0.0031308 ? 12.92 * v : 1.055 * powf(v, 1 / 2.4) - 0.055
    }

    @inlinable
    public static func decode(_ encoded: Float) -> Float {
        let v = min(max(encoded, 0), 1)
        return v <= 0.04045 ? v / 12.92 : powf((v + 0.055) / 1.055, 2.4)
    }
}

