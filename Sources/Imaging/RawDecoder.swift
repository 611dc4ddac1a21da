import CLibRaw
import CRawChild
import Foundation

/// Demosaicing algorithms libraw offers (its `user_qual` numbers).
public enum Demosaic: Int32, Sendable, Codable, CaseIterable {
    case bilinear = 0
    case vng = 1
    case ppg = 2
    case ahd = 3
    case dcb = 4
}

/// Decodes camera RAW files (and DNG) through libraw into linear RGB.
///
/// The settings are those of `dcraw_emu -w -W -T -g 1 1 -q 3 -4`, which the RealBlur dataset used: camera white
/// balance, no auto-brightness, gamma 1 (linear), 16-bit output, AHD demosaicing by default.
///
/// libraw's `adjust_maximum_thr` is kept at its default of 0.75, as dcraw_emu has it: when the brightest sample
/// lies between 75% and 100% of the white level, libraw takes that sample as the white level, so a frame whose
/// highlights nearly clip is scaled up slightly. Set `adjustMaximumThreshold` to 0 for a fixed scale.
public struct RawDecoder: Sendable {
    public var demosaic: Demosaic
    public var adjustMaximumThreshold: Float

    public init(demosaic: Demosaic = .ahd, adjustMaximumThreshold: Float = 0.75) {
        self.demosaic = demosaic
        self.adjustMaximumThreshold = adjustMaximumThreshold
    }

    /// Decodes the pixels and reads the metadata.
    public func decode(_ url: URL, maxPixels: Int = ImageLimits.maxPixels) throws -> (image: RGBImage, metadata: CaptureMetadata) {
        try decode(readFile(url), path: url.path, maxPixels: maxPixels)
    }

    /// Images of more than `maxPixels` pixels are refused before libraw unpacks them (see `ImageLimits`).
    public func decode(_ data: Data, path: String, maxPixels: Int = ImageLimits.maxPixels) throws
        -> (image: RGBImage, metadata: CaptureMetadata)
    {
        var output = try LibRawChild.run(data, path: path, decode: true, demosaic: demosaic,
                                         adjustMaximumThreshold: adjustMaximumThreshold, maxPixels: maxPixels)
        defer { rc_raw_release(&output) }
        let r = output.result
        let w = Int(r.width), h = Int(r.height), n = w * h
        guard let samples = output.pixels, n > 0 else {
            throw ImagingError.corrupt(path: path, format: "RAW", detail: "the decoder returned no pixels")
        }
        var pixels = [Float](repeating: 0, count: 3 * n)
        let scale: Float = 1 / 65535
        pixels.withUnsafeMutableBufferPointer { out in
            for i in 0..<n {
                out[i] = Float(samples[3 * i]) * scale
                out[n + i] = Float(samples[3 * i + 1]) * scale
                out[2 * n + i] = Float(samples[3 * i + 2]) * scale
            }
        }
        return (RGBImage(width: w, height: h, transfer: .linear, pixels: pixels), LibRawChild.metadata(r))
    }

    /// Reads only the metadata (no unpacking), for cataloguing.
    public func metadata(_ url: URL) throws -> CaptureMetadata {
        let path = url.path
        var output = try LibRawChild.run(try readFile(url), path: path, decode: false, demosaic: demosaic,
                                         adjustMaximumThreshold: adjustMaximumThreshold, maxPixels: Int.max)
        defer { rc_raw_release(&output) }
        return LibRawChild.metadata(output.result)
    }
}

/// libraw, run in a child process (see rc_raw_run): a file that crashes libraw is an error of that file, not the
/// end of rigctl. Debian's libraw 0.20 aborts on a crafted Hasselblad model name (an unbounded strcat fixed
/// upstream in 0.22), and the fuzzer found it within two minutes.
enum LibRawChild {
    static func run(_ data: Data, path: String, decode: Bool, demosaic: Demosaic, adjustMaximumThreshold: Float,
                    maxPixels: Int) throws -> rc_raw_output
    {
        guard !data.isEmpty else { throw ImagingError.corrupt(path: path, format: "RAW", detail: "the file is empty") }
        var output = rc_raw_output()
        var message = [CChar](repeating: 0, count: 256)
        let rc = data.withUnsafeBytes { bytes in
            rc_raw_run(bytes.baseAddress, bytes.count, decode ? 1 : 0, demosaic.rawValue, adjustMaximumThreshold,
                       UInt64(max(maxPixels, 0)), &output, &message, message.count)
        }
        switch rc {
        case 0: break
        case 1:
            let status = output.status
            let how = status == 0 ? "gave an unreadable answer for it"
                : (status & 0x7f) != 0 ? "crashed on it (signal \(status & 0x7f))" : "failed on it (exit status \((status >> 8) & 0xff))"
            throw ImagingError.corrupt(path: path, format: "RAW", detail: "libraw \(String(cString: libraw_version())) \(how)")
        default:
            throw ImagingError.unreadable(path: path, reason: "the RAW decoder could not run: \(String(cString: message))")
        }
        let r = output.result
        let failure: ImagingError?
        switch Int(r.stage) {
        case Int(RC_RAW_OK): failure = nil
        case Int(RC_RAW_OPENING):
            // A file that does not even start like a RAW format is unsupported, not damaged.
            failure = data.withUnsafeBytes(looksLikeRaw)
                ? error(r.code, path: path, stage: "opening")
                : ImagingError.unsupported(path: path, detail: "not a PNG, JPEG or camera RAW file")
        case Int(RC_RAW_UNPACKING): failure = error(r.code, path: path, stage: "unpacking")
        case Int(RC_RAW_PROCESSING): failure = error(r.code, path: path, stage: "processing")
        case Int(RC_RAW_RENDERING): failure = error(r.code, path: path, stage: "rendering")
        case Int(RC_RAW_DATA_ERRORS):
            failure = .corrupt(path: path, format: "RAW", detail: "the image data is truncated or unreadable")
        case Int(RC_RAW_TOO_LARGE):
            failure = ImageLimits.tooLarge(path: path, width: Int(r.width), height: Int(r.height), limit: maxPixels)
        case Int(RC_RAW_UNEXPECTED_OUTPUT):
            failure = .unsupported(path: path, detail: "libraw produced \(r.colors) colours at \(r.bits) bits")
        default: failure = .unreadable(path: path, reason: "libraw could not be initialised")
        }
        if let failure {
            rc_raw_release(&output)
            throw failure
        }
        return output
    }

    /// Signatures of the RAW containers libraw reads: TIFF-based (DNG, CR2, NEF, ARW, ...), Olympus, Panasonic,
    /// Fujifilm, Canon CR3 (ISO BMFF), Minolta, Sigma, Phase One.
    static func looksLikeRaw(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let head = Array(bytes.prefix(12))
        let signatures: [[UInt8]] = [
            [0x49, 0x49, 0x2A, 0x00], [0x4D, 0x4D, 0x00, 0x2A], [0x49, 0x49, 0x52, 0x4F], [0x49, 0x49, 0x52, 0x53],
            [0x49, 0x49, 0x55, 0x00], Array("FUJIFILM".utf8), [0x00, 0x4D, 0x52, 0x4D], Array("FOVb".utf8),
            [0x49, 0x49, 0x49, 0x49],
        ]
        if signatures.contains(where: { head.starts(with: $0) }) { return true }
        return head.count >= 8 && Array(head[4..<8]) == Array("ftyp".utf8)
    }

    static func error(_ rc: Int32, path: String, stage: String) -> ImagingError {
        let message = String(cString: libraw_strerror(rc))
        if rc == LIBRAW_FILE_UNSUPPORTED.rawValue {
            return .unsupported(path: path, detail: "not an image format rigctl reads (libraw: \(message))")
        }
        return .corrupt(path: path, format: "RAW", detail: "\(stage): \(message)")
    }

    static func metadata(_ r: rc_raw_result) -> CaptureMetadata {
        var m = CaptureMetadata()
        m.make = string(r.make)
        m.model = string(r.model)
        m.serialNumber = string(r.serial)
        if r.aperture > 0 { m.aperture = Double(r.aperture) }
        if r.shutter > 0 { m.exposureTime = Double(r.shutter) }
        if r.iso > 0 { m.iso = Int(r.iso.rounded()) }
        if r.focal_length > 0 { m.focalLength = Double(r.focal_length) }
        if r.timestamp > 0 {
            // libraw turned the EXIF wall clock into time_t with mktime (local time, in the child, which has this
            // process's environment); undo that to get the wall clock back, and keep it as UTC so that a file reads
            // the same in every time zone.
            var t = time_t(r.timestamp)
            var local = tm()
            localtime_r(&t, &local)
            m.captureTime = Date(timeIntervalSince1970: TimeInterval(timegm(&local)))
        }
        return m
    }

    static func string<T>(_ tuple: T) -> String {
        withUnsafeBytes(of: tuple) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespaces)
        }
    }
}
