import CLibRaw
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
    public func decode(_ url: URL) throws -> (image: RGBImage, metadata: CaptureMetadata) {
        try decode(readFile(url), path: url.path)
    }

    public func decode(_ data: Data, path: String) throws -> (image: RGBImage, metadata: CaptureMetadata) {
        try withSession(data, path: path) { session in
            let metadata = session.metadata()
            let image = try session.process(demosaic: demosaic, adjustMaximumThreshold: adjustMaximumThreshold)
            return (image, metadata)
        }
    }

    /// Reads only the metadata (no unpacking), for cataloguing.
    public func metadata(_ url: URL) throws -> CaptureMetadata {
        try withSession(readFile(url), path: url.path) { $0.metadata() }
    }

    private func withSession<T>(_ data: Data, path: String, _ body: (LibRawSession) throws -> T) throws -> T {
        try data.withUnsafeBytes { raw in
            let session = try LibRawSession(bytes: raw, path: path)
            defer { session.close() }
            return try body(session)
        }
    }
}

/// One libraw handle over a buffer the caller keeps alive.
private final class LibRawSession {
    let handle: UnsafeMutablePointer<libraw_data_t>
    let path: String
    /// Set by libraw's data-error callback (for example "unexpected end of file" while unpacking).
    var dataErrors = 0

    init(bytes: UnsafeRawBufferPointer, path: String) throws {
        self.path = path
        guard let handle = libraw_init(0) else {
            throw ImagingError.unreadable(path: path, reason: "libraw could not be initialised")
        }
        self.handle = handle
        libraw_set_dataerror_handler(handle, { context, _, _ in
            guard let context else { return }
            Unmanaged<LibRawSession>.fromOpaque(context).takeUnretainedValue().dataErrors += 1
        }, Unmanaged.passUnretained(self).toOpaque())
        guard bytes.count > 0 else {
            libraw_close(handle)
            throw ImagingError.corrupt(path: path, format: "RAW", detail: "the file is empty")
        }
        let rc = libraw_open_buffer(handle, UnsafeMutableRawPointer(mutating: bytes.baseAddress!), bytes.count)
        if rc != LIBRAW_SUCCESS.rawValue {
            // A file that does not even start like a RAW format is unsupported, not damaged.
            let error = Self.looksLikeRaw(bytes)
                ? Self.error(rc, path: path, stage: "opening")
                : ImagingError.unsupported(path: path, detail: "not a PNG, JPEG or camera RAW file")
            libraw_close(handle)
            throw error
        }
    }

    func close() { libraw_close(handle) }

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

    func metadata() -> CaptureMetadata {
        let d = handle.pointee
        var m = CaptureMetadata()
        m.make = Self.string(d.idata.make)
        m.model = Self.string(d.idata.model)
        m.serialNumber = Self.string(d.shootinginfo.BodySerial)
        if d.other.aperture > 0 { m.aperture = Double(d.other.aperture) }
        if d.other.shutter > 0 { m.exposureTime = Double(d.other.shutter) }
        if d.other.iso_speed > 0 { m.iso = Int(d.other.iso_speed.rounded()) }
        if d.other.focal_len > 0 { m.focalLength = Double(d.other.focal_len) }
        if d.other.timestamp > 0 {
            // libraw turned the EXIF wall clock into time_t with mktime (local time); undo that to get the wall
            // clock back, and keep it as UTC so that a file reads the same in every time zone.
            var t = d.other.timestamp
            var local = tm()
            localtime_r(&t, &local)
            m.captureTime = Date(timeIntervalSince1970: TimeInterval(timegm(&local)))
        }
        return m
    }

    func process(demosaic: Demosaic, adjustMaximumThreshold: Float) throws -> RGBImage {
        handle.pointee.params.use_camera_wb = 1
        handle.pointee.params.no_auto_bright = 1
        handle.pointee.params.output_bps = 16
        handle.pointee.params.output_color = 1
        handle.pointee.params.user_qual = demosaic.rawValue
        handle.pointee.params.gamm.0 = 1
        handle.pointee.params.gamm.1 = 1
        handle.pointee.params.adjust_maximum_thr = adjustMaximumThreshold

        var rc = libraw_unpack(handle)
        if rc != LIBRAW_SUCCESS.rawValue { throw Self.error(rc, path: path, stage: "unpacking") }
        if dataErrors > 0 {
            throw ImagingError.corrupt(path: path, format: "RAW", detail: "the image data is truncated or unreadable")
        }
        rc = libraw_dcraw_process(handle)
        if rc != LIBRAW_SUCCESS.rawValue { throw Self.error(rc, path: path, stage: "processing") }
        if dataErrors > 0 {
            throw ImagingError.corrupt(path: path, format: "RAW", detail: "the image data is truncated or unreadable")
        }
        var err: Int32 = 0
        guard let processed = libraw_dcraw_make_mem_image(handle, &err) else {
            throw Self.error(err, path: path, stage: "rendering")
        }
        defer { libraw_dcraw_clear_mem(processed) }
        let p = processed.pointee
        guard p.type == LIBRAW_IMAGE_BITMAP, p.colors == 3, p.bits == 16, p.width > 0, p.height > 0 else {
            throw ImagingError.unsupported(path: path, detail: "libraw produced \(p.colors) colours at \(p.bits) bits")
        }
        let w = Int(p.width), h = Int(p.height), n = w * h
        let dataOffset = MemoryLayout<libraw_processed_image_t>.offset(of: \libraw_processed_image_t.data)!
        let samples = (UnsafeRawPointer(processed) + dataOffset).assumingMemoryBound(to: UInt16.self)
        var pixels = [Float](repeating: 0, count: 3 * n)
        let scale: Float = 1 / 65535
        pixels.withUnsafeMutableBufferPointer { out in
            for i in 0..<n {
                out[i] = Float(samples[3 * i]) * scale
                out[n + i] = Float(samples[3 * i + 1]) * scale
                out[2 * n + i] = Float(samples[3 * i + 2]) * scale
            }
        }
        return RGBImage(width: w, height: h, transfer: .linear, pixels: pixels)
    }

    static func string<T>(_ tuple: T) -> String {
        withUnsafeBytes(of: tuple) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespaces)
        }
    }
}
