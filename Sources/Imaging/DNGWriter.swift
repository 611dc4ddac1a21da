import AtomicFiles
import Foundation

/// The colour filter layout of a Bayer sensor, named by its top-left 2x2 block.
public enum CFAPattern: String, Sendable, Codable, CaseIterable {
    case rggb, bggr, grbg, gbrg

    /// Colour (0 red, 1 green, 2 blue) of each site of the 2x2 block, row-major.
    public var colors: [Int] {
        switch self {
        case .rggb: [0, 1, 1, 2]
        case .bggr: [2, 1, 1, 0]
        case .grbg: [1, 0, 2, 1]
        case .gbrg: [1, 2, 0, 1]
        }
    }

    @inlinable
    public func color(x: Int, y: Int) -> Int { colors[(y & 1) * 2 + (x & 1)] }
}

/// A raw Bayer frame: one 16-bit sample per photosite, as a sensor reads it out.
public struct BayerFrame: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public var pattern: CFAPattern
    public var samples: [UInt16]
    public var blackLevel: Int
    public var whiteLevel: Int

    public init(width: Int, height: Int, pattern: CFAPattern = .rggb, samples: [UInt16],
                blackLevel: Int = 0, whiteLevel: Int = 65535) {
        precondition(width > 0 && height > 0 && width % 2 == 0 && height % 2 == 0, "a Bayer frame has an even size")
        precondition(samples.count == width * height, "sample count does not match the size")
        precondition(blackLevel >= 0 && whiteLevel > blackLevel && whiteLevel <= 65535, "bad black/white levels")
        self.width = width
        self.height = height
        self.pattern = pattern
        self.samples = samples
        self.blackLevel = blackLevel
        self.whiteLevel = whiteLevel
    }

    /// Mosaics a linear RGB image: each photosite keeps the channel its filter passes, scaled between the black
    /// and white levels.
    public init(mosaicking image: RGBImage, pattern: CFAPattern = .rggb, blackLevel: Int = 0, whiteLevel: Int = 65535) {
        let w = image.width & ~1, h = image.height & ~1
        var samples = [UInt16](repeating: 0, count: w * h)
        let range = Float(whiteLevel - blackLevel)
        let n = image.planeSize
        image.pixels.withUnsafeBufferPointer { px in
            for y in 0..<h {
                for x in 0..<w {
                    let c = pattern.color(x: x, y: y)
                    let v = min(max(px[c * n + y * image.width + x], 0), 1)
                    samples[y * w + x] = UInt16(Float(blackLevel) + (v * range).rounded())
                }
            }
        }
        self.init(width: w, height: h, pattern: pattern, samples: samples, blackLevel: blackLevel, whiteLevel: whiteLevel)
    }
}

/// What a camera records about a shot; written to DNG and read back from any RAW by `RawDecoder`.
public struct CaptureMetadata: Sendable, Equatable, Codable {
    public var make: String
    public var model: String
    public var serialNumber: String
    /// f-number, e.g. 2.8.
    public var aperture: Double?
    /// Exposure time in seconds.
    public var exposureTime: Double?
    public var iso: Int?
    /// Focal length in millimetres.
    public var focalLength: Double?
    /// The camera's wall-clock capture time (EXIF has no time zone: it is stored and read back as UTC).
    public var captureTime: Date?

    public init(make: String = "", model: String = "", serialNumber: String = "", aperture: Double? = nil,
                exposureTime: Double? = nil, iso: Int? = nil, focalLength: Double? = nil, captureTime: Date? = nil) {
        self.make = make
        self.model = model
        self.serialNumber = serialNumber
        self.aperture = aperture
        self.exposureTime = exposureTime
        self.iso = iso
        self.focalLength = focalLength
        self.captureTime = captureTime
    }
}

/// Writes minimal DNG files: one uncompressed Bayer CFA image with the tags libraw needs, plus EXIF.
///
/// The virtual camera produces its frames with this, and the tests use it to make RAW files with known content,
/// so the real libraw path is exercised without downloaded samples.
public enum DNGWriter {
    /// XYZ (D65) -> linear sRGB. Used as ColorMatrix1 it declares the camera's native space to be linear sRGB,
    /// so libraw's sRGB output reproduces the mosaicked values.
    public static let srgbColorMatrix: [Double] = [
        3.2404542, -1.5371385, -0.4985314,
        -0.9692660, 1.8760108, 0.0415560,
        0.0556434, -0.2040259, 1.0572252,
    ]

    public static func encode(_ frame: BayerFrame, metadata: CaptureMetadata,
                              colorMatrix: [Double] = srgbColorMatrix,
                              asShotNeutral: [Double] = [1, 1, 1]) -> Data {
        precondition(colorMatrix.count == 9 && asShotNeutral.count == 3)
        let stripBytes = frame.width * frame.height * 2
        let model = metadata.model.isEmpty ? "Virtual" : metadata.model
        let make = metadata.make.isEmpty ? "rigctl" : metadata.make

        var ifd0 = TIFFDirectory()
        ifd0.add(254, .long([0]))
        ifd0.add(256, .long([UInt32(frame.width)]))
        ifd0.add(257, .long([UInt32(frame.height)]))
        ifd0.add(258, .short([16]))
        ifd0.add(259, .short([1]))
        ifd0.add(262, .short([32803]))  // CFA
        ifd0.add(271, .ascii(make))
        ifd0.add(272, .ascii(model))
        ifd0.add(273, .long([0]))  // strip offset, patched below
        ifd0.add(274, .short([1]))
        ifd0.add(277, .short([1]))
        ifd0.add(278, .long([UInt32(frame.height)]))
        ifd0.add(279, .long([UInt32(stripBytes)]))
        ifd0.add(284, .short([1]))
        ifd0.add(305, .ascii("rigctl"))
        if let date = metadata.captureTime { ifd0.add(306, .ascii(exifDate(date))) }
        ifd0.add(33421, .short([2, 2]))
        ifd0.add(33422, .byte(frame.pattern.colors.map(UInt8.init)))
        ifd0.add(34665, .long([0]))  // EXIF IFD offset, patched below
        ifd0.add(50706, .byte([1, 4, 0, 0]))
        ifd0.add(50707, .byte([1, 1, 0, 0]))
        ifd0.add(50708, .ascii(make + " " + model))
        ifd0.add(50714, .long([UInt32(frame.blackLevel)]))
        ifd0.add(50717, .long([UInt32(frame.whiteLevel)]))
        ifd0.add(50721, .srational(colorMatrix.map(rational)))
        ifd0.add(50728, .rational(asShotNeutral.map(rational)))
        if !metadata.serialNumber.isEmpty { ifd0.add(50735, .ascii(metadata.serialNumber)) }
        ifd0.add(50778, .short([21]))  // D65

        var exif = TIFFDirectory()
        if let t = metadata.exposureTime { exif.add(33434, .rational([rational(t)])) }
        if let f = metadata.aperture { exif.add(33437, .rational([rational(f)])) }
        if let iso = metadata.iso { exif.add(34855, .short([UInt16(clamping: iso)])) }
        if let date = metadata.captureTime { exif.add(36867, .ascii(exifDate(date))) }
        if let fl = metadata.focalLength { exif.add(37386, .rational([rational(fl)])) }
        if !metadata.serialNumber.isEmpty { exif.add(42033, .ascii(metadata.serialNumber)) }

        // Layout: header, IFD0 (+ its data), EXIF IFD (+ its data), strip.
        let ifd0Offset = 8
        let exifOffset = ifd0Offset + ifd0.encodedSize
        let stripOffset = (exifOffset + exif.encodedSize + 15) & ~15
        ifd0.add(273, .long([UInt32(stripOffset)]))
        ifd0.add(34665, .long([UInt32(exifOffset)]))

        var out = Data(capacity: stripOffset + stripBytes)
        out.append(contentsOf: [0x49, 0x49, 42, 0])
        out.appendLE(UInt32(ifd0Offset))
        ifd0.encode(into: &out, at: ifd0Offset)
        exif.encode(into: &out, at: exifOffset)
        out.append(Data(count: stripOffset - out.count))
        frame.samples.withUnsafeBufferPointer { buf in
            for v in buf { out.appendLE(v) }
        }
        return out
    }

    public static func write(_ frame: BayerFrame, metadata: CaptureMetadata, to url: URL,
                             colorMatrix: [Double] = srgbColorMatrix, asShotNeutral: [Double] = [1, 1, 1]) throws {
        try AtomicFile.write(encode(frame, metadata: metadata, colorMatrix: colorMatrix, asShotNeutral: asShotNeutral),
                             to: url)
    }

    static func exifDate(_ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var tm = tm()
        gmtime_r(&t, &tm)
        return String(format: "%04d:%02d:%02d %02d:%02d:%02d", Int(tm.tm_year) + 1900, Int(tm.tm_mon) + 1,
                      Int(tm.tm_mday), Int(tm.tm_hour), Int(tm.tm_min), Int(tm.tm_sec))
    }

    /// The closest fraction with a denominator up to one million (continued fractions).
    static func rational(_ value: Double) -> (Int64, Int64) {
        guard value.isFinite else { return (0, 1) }
        let sign: Int64 = value < 0 ? -1 : 1
        var x = abs(value)
        var (h0, h1): (Int64, Int64) = (0, 1)
        var (k0, k1): (Int64, Int64) = (1, 0)
        for _ in 0..<40 {
            let a = Int64(x.rounded(.down))
            let h2 = a * h1 + h0, k2 = a * k1 + k0
            if k2 > 1_000_000 || h2 > Int64(Int32.max) { break }
            (h0, h1, k0, k1) = (h1, h2, k1, k2)
            let frac = x - Double(a)
            if frac < 1e-12 { break }
            x = 1 / frac
        }
        if k1 == 0 { return (0, 1) }
        return (sign * h1, k1)
    }
}

/// One TIFF image file directory, written little-endian with entries sorted by tag.
struct TIFFDirectory {
    enum Value {
        case byte([UInt8])
        case ascii(String)
        case short([UInt16])
        case long([UInt32])
        case rational([(Int64, Int64)])
        case srational([(Int64, Int64)])

        var type: UInt16 {
            switch self {
            case .byte: 1
            case .ascii: 2
            case .short: 3
            case .long: 4
            case .rational: 5
            case .srational: 10
            }
        }

        var bytes: Data {
            var d = Data()
            switch self {
            case .byte(let v): d.append(contentsOf: v)
            case .ascii(let s): d.append(contentsOf: Array(s.utf8) + [0])
            case .short(let v): for x in v { d.appendLE(x) }
            case .long(let v): for x in v { d.appendLE(x) }
            case .rational(let v): for (n, q) in v { d.appendLE(UInt32(clamping: n)); d.appendLE(UInt32(clamping: q)) }
            case .srational(let v): for (n, q) in v { d.appendLE(UInt32(bitPattern: Int32(clamping: n))); d.appendLE(UInt32(bitPattern: Int32(clamping: q))) }
            }
            return d
        }

        var count: Int {
            switch self {
            case .byte(let v): v.count
            case .ascii(let s): s.utf8.count + 1
            case .short(let v): v.count
            case .long(let v): v.count
            case .rational(let v): v.count
            case .srational(let v): v.count
            }
        }
    }

    private(set) var entries: [(tag: UInt16, value: Value)] = []

    mutating func add(_ tag: UInt16, _ value: Value) {
        entries.removeAll { $0.tag == tag }
        entries.append((tag, value))
        entries.sort { $0.tag < $1.tag }
    }

    private var outOfLineSize: Int {
        entries.reduce(0) { total, e in
            let n = e.value.bytes.count
            return total + (n > 4 ? (n + 1) & ~1 : 0)
        }
    }

    var encodedSize: Int { 2 + entries.count * 12 + 4 + outOfLineSize }

    func encode(into out: inout Data, at offset: Int) {
        precondition(out.count == offset, "directory written at the wrong place")
        var data = Data()
        let dataStart = offset + 2 + entries.count * 12 + 4
        out.appendLE(UInt16(entries.count))
        for e in entries {
            let bytes = e.value.bytes
            out.appendLE(e.tag)
            out.appendLE(e.value.type)
            out.appendLE(UInt32(e.value.count))
            if bytes.count <= 4 {
                out.append(bytes)
                out.append(Data(count: 4 - bytes.count))
            } else {
                out.appendLE(UInt32(dataStart + data.count))
                data.append(bytes)
                if data.count % 2 == 1 { data.append(0) }
            }
        }
        out.appendLE(UInt32(0))  // no next IFD
        out.append(data)
    }
}

extension Data {
    mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        var v = value.littleEndian
        Swift.withUnsafeBytes(of: &v) { append(contentsOf: $0) }
    }
}
