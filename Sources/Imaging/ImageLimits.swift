import Foundation

/// How large an image the decoders accept. A small compressed file can claim an enormous image (a 95 KB PNG of
/// 100 megapixels), so the limit comes from the memory decoding will take - the decoded samples plus the float
/// image built from them, about `bytesPerPixel` per pixel - against half the memory this machine has available,
/// and never more than 400 megapixels. `RIGCTL_MAX_MEGAPIXELS` sets it explicitly (to raise it for a real
/// large image, or lower it).
public enum ImageLimits {
    /// Decoded samples (up to 8 bytes per pixel, and the copy Swift keeps) plus 12 bytes of planar float RGB.
    public static let bytesPerPixel = 32
    public static let hardMaxPixels = 400_000_000
    public static let environmentKey = "RIGCTL_MAX_MEGAPIXELS"

    /// The limit in pixels, read once per process.
    public static let maxPixels: Int = {
        if let text = ProcessInfo.processInfo.environment[environmentKey], let megapixels = Double(text),
           megapixels.isFinite, megapixels > 0 {
            return Int(min(megapixels * 1_000_000, Double(Int.max / 2)))
        }
        return fromMemory(availableBytes())
    }()

    /// Half of `available` bytes at `bytesPerPixel`, at least 16 megapixels (every camera image), at most 400.
    public static func fromMemory(_ available: Int64?) -> Int {
        guard let available, available > 0 else { return hardMaxPixels }
        return Int(max(16_000_000, min(Int64(hardMaxPixels), available / 2 / Int64(bytesPerPixel))))
    }

    /// `MemAvailable` from /proc/meminfo (Linux), else the physical memory.
    static func availableBytes() -> Int64? {
        if let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
           let kib = Int64(line.split(separator: " ").dropFirst().first ?? "") {
            return kib * 1024
        }
        return Int64(ProcessInfo.processInfo.physicalMemory)
    }

    static func tooLarge(path: String, width: Int, height: Int, limit: Int) -> ImagingError {
        let pixels = Double(width) * Double(height)
        let gb = pixels * Double(bytesPerPixel) / 1e9
        let size = String(format: "%.1f megapixels); decoding it needs about %.1f GB, more than the limit of %.1f",
                          pixels / 1e6, gb, Double(limit) / 1e6)
        return .unsupported(path: path, detail: "the image is \(width)x\(height) (\(size) megapixels set from this "
                            + "machine's memory (set \(environmentKey) to raise it)")
    }
}
