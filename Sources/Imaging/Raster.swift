/// An interleaved integer image as files store it: 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA) channels.
public struct Raster<Sample: FixedWidthInteger & UnsignedInteger & Sendable>: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let channels: Int
    public var samples: [Sample]

    public init(width: Int, height: Int, channels: Int, samples: [Sample]) {
        precondition(width > 0 && height > 0, "a raster needs a positive size")
        precondition((1...4).contains(channels), "a raster has 1 to 4 channels")
        precondition(samples.count == width * height * channels, "sample count does not match the size")
        self.width = width
        self.height = height
        self.channels = channels
        self.samples = samples
    }

    public static var bitDepth: Int { Sample.bitWidth }
}

public typealias Raster8 = Raster<UInt8>
public typealias Raster16 = Raster<UInt16>

/// A decoded raster of either depth, as a PNG may hold.
public enum AnyRaster: Sendable, Equatable {
    case eight(Raster8)
    case sixteen(Raster16)

    public var width: Int {
        switch self { case .eight(let r): r.width; case .sixteen(let r): r.width }
    }
    public var height: Int {
        switch self { case .eight(let r): r.height; case .sixteen(let r): r.height }
    }
    public var channels: Int {
        switch self { case .eight(let r): r.channels; case .sixteen(let r): r.channels }
    }
    public var bitDepth: Int {
        switch self { case .eight: 8; case .sixteen: 16 }
    }

    /// The raster as an RGB image: grey is replicated, alpha is dropped.
    public func rgbImage(transfer: Transfer = .display) -> RGBImage {
        switch self {
        case .eight(let r): RGBImage(raster: r, transfer: transfer)
        case .sixteen(let r): RGBImage(raster: r, transfer: transfer)
        }
    }
}

extension RGBImage {
    /// Converts interleaved integer samples to [0, 1] floats; grey is replicated to RGB and alpha dropped.
    public init<S>(raster: Raster<S>, transfer: Transfer = .display) {
        let n = raster.width * raster.height
        let scale = 1 / Float(S.max)
        var out = [Float](repeating: 0, count: 3 * n)
        let ch = raster.channels
        raster.samples.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                if ch >= 3 {
                    for i in 0..<n {
                        dst[i] = Float(src[i * ch]) * scale
                        dst[n + i] = Float(src[i * ch + 1]) * scale
                        dst[2 * n + i] = Float(src[i * ch + 2]) * scale
                    }
                } else {
                    for i in 0..<n {
                        let v = Float(src[i * ch]) * scale
                        dst[i] = v
                        dst[n + i] = v
                        dst[2 * n + i] = v
                    }
                }
            }
        }
        self.init(width: raster.width, height: raster.height, transfer: transfer, pixels: out)
    }

    /// Interleaved RGB samples, values clamped to [0, 1] and rounded to the nearest level. Total: NaN becomes 0 and
    /// infinities the nearest end, so no value can trap the integer conversion.
    public func raster<S>(_ type: S.Type = S.self) -> Raster<S> {
        let n = planeSize
        let maxValue = Float(S.max)
        var out = [S](repeating: 0, count: 3 * n)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for c in 0..<3 {
                    for i in 0..<n {
                        let x = src[c * n + i]
                        // Comparisons with NaN are false, so NaN takes the 0 branch (min/max would pass it on).
                        let v = (x > 0 ? (x < 1 ? x : 1) : 0) * maxValue
                        dst[i * 3 + c] = S((v + 0.5).rounded(.down))
                    }
                }
            }
        }
        return Raster(width: width, height: height, channels: 3, samples: out)
    }

    public func raster8() -> Raster8 { raster(UInt8.self) }
    public func raster16() -> Raster16 { raster(UInt16.self) }
}
