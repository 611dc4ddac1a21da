import AtomicFiles
import CodecShims
import Foundation

/// PNG files, 8 and 16 bit, grey, grey + alpha, RGB and RGBA, through libpng.
public enum PNGFile {
    /// Decodes PNG bytes; `path` only names the file in errors.
    /// Images of more than `maxPixels` pixels are refused before their pixels are allocated (see `ImageLimits`).
    public static func decode(_ data: Data, path: String, maxPixels: Int = ImageLimits.maxPixels) throws -> AnyRaster {
        var width: UInt32 = 0, height: UInt32 = 0
        var channels: Int32 = 0, depth: Int32 = 0
        var pixels: UnsafeMutableRawPointer?
        var message = [CChar](repeating: 0, count: 256)
        let rc = data.withUnsafeBytes { raw -> Int32 in
            rc_png_decode(raw.bindMemory(to: UInt8.self).baseAddress, raw.count, UInt64(max(maxPixels, 0)), &width,
                          &height, &channels, &depth, &pixels, &message, message.count)
        }
        if rc == 3 { throw ImageLimits.tooLarge(path: path, width: Int(width), height: Int(height), limit: maxPixels) }
        guard rc == 0, let pixels else {
            throw ImagingError.corrupt(path: path, format: "PNG", detail: messageText(message))
        }
        defer { rc_free(pixels) }
        let count = Int(width) * Int(height) * Int(channels)
        if depth == 16 {
            let samples = Array(UnsafeBufferPointer(start: pixels.assumingMemoryBound(to: UInt16.self), count: count))
            return .sixteen(Raster16(width: Int(width), height: Int(height), channels: Int(channels), samples: samples))
        }
        let samples = Array(UnsafeBufferPointer(start: pixels.assumingMemoryBound(to: UInt8.self), count: count))
        return .eight(Raster8(width: Int(width), height: Int(height), channels: Int(channels), samples: samples))
    }

    public static func read(_ url: URL) throws -> AnyRaster {
        try decode(readFile(url), path: url.path)
    }

    /// Encodes a raster; `compressionLevel` is zlib's 0-9 (6 is libpng's default, lower is faster).
    public static func encode<S>(_ raster: Raster<S>, compressionLevel: Int = 6, path: String = "<memory>") throws -> Data {
        precondition(S.bitWidth == 8 || S.bitWidth == 16, "PNG holds 8- or 16-bit samples")
        var out: UnsafeMutablePointer<UInt8>?
        var size = 0
        var message = [CChar](repeating: 0, count: 256)
        let rc = raster.samples.withUnsafeBytes { raw in
            rc_png_encode(raw.baseAddress, UInt32(raster.width), UInt32(raster.height), Int32(raster.channels),
                          Int32(S.bitWidth), Int32(compressionLevel), &out, &size, &message, message.count)
        }
        guard rc == 0, let out else {
            throw ImagingError.writeFailed(path: path, reason: "PNG encoding failed: " + messageText(message))
        }
        defer { rc_free(out) }
        return Data(bytes: out, count: size)
    }

    /// Writes a raster atomically.
    public static func write<S>(_ raster: Raster<S>, to url: URL, compressionLevel: Int = 6) throws {
        try AtomicFile.write(encode(raster, compressionLevel: compressionLevel, path: url.path), to: url)
    }

    /// Writes an RGB image as an 8- or 16-bit RGB PNG, values as they are (no transfer conversion).
    public static func write(_ image: RGBImage, to url: URL, bitDepth: Int = 8, compressionLevel: Int = 6) throws {
        switch bitDepth {
        case 8: try write(image.raster8(), to: url, compressionLevel: compressionLevel)
        case 16: try write(image.raster16(), to: url, compressionLevel: compressionLevel)
        default: throw ImagingError.writeFailed(path: url.path, reason: "bit depth must be 8 or 16, not \(bitDepth)")
        }
    }
}

/// JPEG files through libjpeg-turbo: 8-bit RGB or grey.
public enum JPEGFile {
    public static func decode(_ data: Data, path: String, maxPixels: Int = ImageLimits.maxPixels) throws -> Raster8 {
        var width: UInt32 = 0, height: UInt32 = 0
        var channels: Int32 = 0
        var pixels: UnsafeMutablePointer<UInt8>?
        var message = [CChar](repeating: 0, count: 256)
        let rc = data.withUnsafeBytes { raw -> Int32 in
            rc_jpeg_decode(raw.bindMemory(to: UInt8.self).baseAddress, raw.count, UInt64(max(maxPixels, 0)), &width,
                           &height, &channels, &pixels, &message, message.count)
        }
        if rc == 3 { throw ImageLimits.tooLarge(path: path, width: Int(width), height: Int(height), limit: maxPixels) }
        if rc == 2 { throw ImagingError.unsupported(path: path, detail: messageText(message)) }
        guard rc == 0, let pixels else {
            throw ImagingError.corrupt(path: path, format: "JPEG", detail: messageText(message))
        }
        defer { rc_free(pixels) }
        let count = Int(width) * Int(height) * Int(channels)
        return Raster8(width: Int(width), height: Int(height), channels: Int(channels),
                       samples: Array(UnsafeBufferPointer(start: pixels, count: count)))
    }

    public static func read(_ url: URL) throws -> Raster8 {
        try decode(readFile(url), path: url.path)
    }

    /// Encodes 8-bit RGB or grey; cameras (and the virtual camera) write JPEG alongside RAW.
    public static func encode(_ raster: Raster8, quality: Int = 92, path: String = "<memory>") throws -> Data {
        var out: UnsafeMutablePointer<UInt8>?
        var size = 0
        var message = [CChar](repeating: 0, count: 256)
        let rc = raster.samples.withUnsafeBufferPointer { buf in
            rc_jpeg_encode(buf.baseAddress, UInt32(raster.width), UInt32(raster.height), Int32(raster.channels),
                           Int32(quality), &out, &size, &message, message.count)
        }
        guard rc == 0, let out else {
            throw ImagingError.writeFailed(path: path, reason: "JPEG encoding failed: " + messageText(message))
        }
        defer { rc_free(out) }
        return Data(bytes: out, count: size)
    }
}

/// The NUL-terminated text a C codec left in `buffer`.
func messageText(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
