import Foundation

/// The most pixels an image in the catalogue may have. The review server decodes at most this many per request
/// (`ImageBudget`), so an image the catalogue accepts is one a person can look at; it is also far above any camera a
/// beam-splitter rig carries (a 61-megapixel body is 9504x6336). A 291 KB PNG can declare 10000x10000, which import
/// used to accept, and every look at it cost 3 GB.
public enum PairImageLimit {
    public static let maxPixels = 64_000_000

    /// The dimensions a PNG or JPEG file declares, read from its header without decoding; nil for anything else.
    static func declaredSize(_ data: Data) -> (width: Int, height: Int)? {
        if let png = PNGHeader(data) { return (png.width, png.height) }
        return jpegSize(data)
    }

    /// The frame header (SOFn) of a JPEG: markers are walked from the start until one is found.
    static func jpegSize(_ data: Data) -> (width: Int, height: Int)? {
        let b = [UInt8](data.prefix(1 << 20))
        guard b.count > 4, b[0] == 0xFF, b[1] == 0xD8 else { return nil }
        var i = 2
        while i + 9 < b.count {
            guard b[i] == 0xFF else { return nil }
            let marker = b[i + 1]
            if marker == 0xFF { i += 1; continue }
            if marker == 0xD8 || marker == 0x01 || (0xD0...0xD7).contains(marker) { i += 2; continue }
            let length = Int(b[i + 2]) << 8 | Int(b[i + 3])
            guard length >= 2 else { return nil }
            if (0xC0...0xCF).contains(marker), ![0xC4, 0xC8, 0xCC].contains(marker) {
                let height = Int(b[i + 5]) << 8 | Int(b[i + 6])
                let width = Int(b[i + 7]) << 8 | Int(b[i + 8])
                return (width, height)
            }
            i += 2 + length
        }
        return nil
    }

    /// Refuses an image whose header declares more than `maxPixels`, naming the file, its size and the limit.
    static func check(_ data: Data, path: String) throws {
        guard let (width, height) = declaredSize(data), width * height > maxPixels else { return }
        throw DatasetError.unreadable(path: path, reason: String(
            format: "the image declares %dx%d (%.1f megapixels), more than the %d megapixels a catalogued image may have",
            width, height, Double(width * height) / 1e6, maxPixels / 1_000_000))
    }
}
