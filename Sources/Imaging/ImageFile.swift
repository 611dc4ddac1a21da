import Foundation

/// The file formats rigctl reads, told apart by their first bytes rather than their names.
public enum ImageFormat: String, Sendable, Codable {
    case png, jpeg, raw

    /// PNG and JPEG by signature; anything else is handed to libraw, which knows the RAW formats.
    public static func sniff(_ data: Data) -> ImageFormat {
        let head = [UInt8](data.prefix(8))
        if head.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if head.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        return .raw
    }
}

/// Reads any supported image into an `RGBImage`: PNG (display values), JPEG (display values), RAW (linear).
public enum ImageFile {
    public static func read(_ url: URL, demosaic: Demosaic = .ahd) throws -> RGBImage {
        try readWithMetadata(url, demosaic: demosaic).image
    }

    /// The image and, for a RAW file, what libraw reads of its camera and exposure (make, model, serial,
    /// aperture, ...): which body took it. PNG and JPEG give no metadata.
    public static func readWithMetadata(_ url: URL, demosaic: Demosaic = .ahd) throws -> (image: RGBImage, metadata: CaptureMetadata?) {
        try decodeWithMetadata(try readFile(url), path: url.path, demosaic: demosaic)
    }

    /// Decodes bytes already read (through a confined open, say); `path` names them in messages. PNG and JPEG of
    /// more than `maxPixels` are refused before their pixels are allocated.
    public static func decode(_ data: Data, path: String, maxPixels: Int = ImageLimits.maxPixels,
                              demosaic: Demosaic = .ahd) throws -> RGBImage {
        try decodeWithMetadata(data, path: path, maxPixels: maxPixels, demosaic: demosaic).image
    }

    static func decodeWithMetadata(_ data: Data, path: String, maxPixels: Int = ImageLimits.maxPixels,
                                   demosaic: Demosaic) throws -> (image: RGBImage, metadata: CaptureMetadata?) {
        switch ImageFormat.sniff(data) {
        case .png: return (try PNGFile.decode(data, path: path, maxPixels: maxPixels).rgbImage(), nil)
        case .jpeg: return (RGBImage(raster: try JPEGFile.decode(data, path: path, maxPixels: maxPixels)), nil)
        case .raw:
            if data.isEmpty { throw ImagingError.corrupt(path: path, format: "image", detail: "the file is empty") }
            let decoded = try RawDecoder(demosaic: demosaic).decode(data, path: path, maxPixels: maxPixels)
            return (decoded.image, decoded.metadata)
        }
    }
}
