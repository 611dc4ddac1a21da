import Alignment
import DatasetBuilder
import Foundation
import WebServing
import Imaging
import PairVocabulary
import ThreadSupport

/// Which image of a pair a URL asks for. Names, not paths: the file is looked up in the catalogue.
/// An image the review server renders for a pair; in URLs by its name (`/image/source`, `/image/difference`).
public enum PairImageKind: Sendable, Hashable, CaseIterable, RawRepresentable {
    /// One of the pair's aligned images.
    case aligned(PairImageRole)
    /// |source - target|, amplified four times: where the pair disagrees.
    case difference
    /// The source camera's original frame, uncropped (the page draws the crop over it).
    case original
    /// A model's output; which model is a separate parameter (`?model=` in URLs), looked up among the pair's
    /// evaluations.
    case output

    public static let allCases: [PairImageKind] = PairImageRole.allCases.map(Self.aligned) + [.difference, .original, .output]

    public init?(rawValue: String) {
        guard let kind = Self.allCases.first(where: { $0.rawValue == rawValue }) else { return nil }
        self = kind
    }

    public var rawValue: String {
        switch self {
        case .aligned(let role): role.rawValue
        case .difference: "difference"
        case .original: "original"
        case .output: "output"
        }
    }
}

public enum PairImageEncoding: String, Sendable {
    case png, jpeg

    var contentType: String { self == .png ? "image/png" : "image/jpeg" }
}

/// One encoded image and the tag that names its content.
public struct EncodedImage: Sendable {
    public let data: Data
    public let contentType: String
    public let etag: String
}

/// What one request may make the server decode, and how many decodes may run at once: together they bound the
/// memory images take (a small PNG can declare 10000x10000; each distinct `size=` misses the cache).
public struct ImageBudget: Sendable {
    /// Pixels of one decoded image (a difference decodes two).
    public var maxPixels: Int
    /// Decodes and renders in flight; one more is refused with 503 rather than queued.
    public var maxRenders: Int

    public init(maxPixels: Int = PairImageLimit.maxPixels, maxRenders: Int = 4) {
        self.maxPixels = maxPixels
        self.maxRenders = maxRenders
    }
}

/// Decodes, scales and encodes a pair's images on demand and keeps the most recent results, up to a byte budget.
/// Files are read only through the dataset's confined open, so only the files the catalogue manages are served.
final class ImageService: Sendable {
    private let dataset: Dataset
    private let cache: LockedValue<ByteBoundedCache>
    let budget: ImageBudget
    private let renders = LockedValue(0)

    init(dataset: Dataset, cacheBytes: Int = 64 << 20, budget: ImageBudget = ImageBudget()) {
        self.dataset = dataset
        cache = LockedValue(ByteBoundedCache(limit: cacheBytes))
        self.budget = budget
    }

    /// Runs one decode or render if fewer than `maxRenders` are running, else refuses it (503).
    private func rendering<T>(_ body: () throws -> T) throws -> T {
        let admitted = renders.withLock { (count: inout Int) -> Bool in
            guard count < budget.maxRenders else { return false }
            count += 1
            return true
        }
        guard admitted else {
            throw HTTPFailure(status: .serviceUnavailable,
                              message: "\(budget.maxRenders) images are being rendered already; try again in a moment")
        }
        defer { renders.withLock { $0 -= 1 } }
        return try body()
    }

    /// The tag of an image, known from the catalogue's hashes without decoding anything (so a 304 costs one
    /// read of the catalogue).
    func etag(for pair: PairDetail, kind: PairImageKind, model: String? = nil, size: Int?,
              encoding: PairImageEncoding) throws -> String {
        let hashes = try files(pair, kind, model: model).map { String($0.sha256.prefix(16)) }.joined(separator: "-")
        return "\"\(hashes)-\(kind.rawValue)-\(size.map(String.init) ?? "full")-\(encoding.rawValue)\""
    }

    func image(for pair: PairDetail, kind: PairImageKind, model: String? = nil, size: Int?,
               encoding: PairImageEncoding) throws -> EncodedImage {
        let tag = try etag(for: pair, kind: kind, model: model, size: size, encoding: encoding)
        if let hit = cache.withLock({ $0.get(tag) }) {
            return EncodedImage(data: hit, contentType: encoding.contentType, etag: tag)
        }
        let files = try files(pair, kind, model: model)
        let first = try dataset.readManagedFile(files[0])
        let data: Data
        if kind != .difference, size == nil, encoding == .png, ImageFormat.sniff(first) == .png {
            // Full size as stored: the catalogued PNG itself (16-bit files stay 16-bit).
            data = first
        } else {
            data = try rendering {
                var image: RGBImage
                if kind == .difference {
                    image = try Self.difference(try decode(first, files[0]), try decode(files[1]), pair: pair)
                } else {
                    image = try decode(first, files[0])
                }
                if let size { image = image.downscaled(maxSide: size) }
                let raster = image.raster8()
                return encoding == .png ? try PNGFile.encode(raster, compressionLevel: 3)
                                        : try JPEGFile.encode(raster, quality: 90)
            }
        }
        cache.withLock { $0.put(tag, data) }
        return EncodedImage(data: data, contentType: encoding.contentType, etag: tag)
    }

    private func files(_ pair: PairDetail, _ kind: PairImageKind, model: String?) throws -> [FileInfo] {
        if kind == .output {
            guard let model else { throw HTTPFailure.badRequest("name the model: ?model=NAME") }
            guard let output = pair.evaluations.first(where: { $0.model == model })?.output else {
                throw HTTPFailure.notFound("pair \(pair.id) has no stored output of model \(model)")
            }
            return [output]
        }
        let files: [FileInfo?] = switch kind {
        case .aligned(let role): [pair.file(role)]
        case .difference: [pair.source, pair.target]
        case .original: [pair.capture?.shot(.source)?.file]
        case .output: []
        }
        let present = files.compactMap { $0 }
        guard present.count == files.count else {
            throw HTTPFailure.notFound("pair \(pair.id) has no \(kind.rawValue) image")
        }
        return present
    }

    /// The misalignment map of the stored (aligned, cropped) pair as JSON, measured on first request and kept in
    /// the image cache under the pair's hashes, so that it is measured again only when the files change.
    func misalignment(for pair: PairDetail) throws -> Data {
        let tag = "misalignment-\(pair.source.sha256)-\(pair.target.sha256)"
        if let hit = cache.withLock({ $0.get(tag) }) { return hit }
        let data = try rendering {
            let source = try decode(pair.source)
            let target = try decode(pair.target)
            guard source.width == target.width, source.height == target.height else {
                throw HTTPFailure(status: .conflict, message: "pair \(pair.id): source is \(source.width)x\(source.height), "
                                  + "target \(target.width)x\(target.height); no misalignment map")
            }
            let thresholds = VerdictThresholds()
            let report = try measureMisalignment(source: source, target: target, thresholds: thresholds)
            return try Responses.jsonEncoder.encode(MisalignmentMap(report: report, width: source.width,
                                                                     height: source.height, thresholds: thresholds))
        }
        cache.withLock { $0.put(tag, data) }
        return data
    }

    private func decode(_ file: FileInfo) throws -> RGBImage {
        try decode(try dataset.readManagedFile(file), file)
    }

    /// Decodes a managed file's bytes within the per-request pixel budget; a larger image is refused (413) before
    /// its pixels are allocated.
    private func decode(_ data: Data, _ file: FileInfo) throws -> RGBImage {
        let image: RGBImage
        do {
            image = try ImageFile.decode(data, path: file.path, maxPixels: budget.maxPixels)
        } catch let error as ImagingError {
            // The decoders' size refusal names the limit's environment setting; other unsupported files stay 500.
            if case .unsupported(_, let detail) = error, detail.contains(ImageLimits.environmentKey) {
                throw HTTPFailure(status: .contentTooLarge, message: "\(file.path) is larger than this server decodes "
                                  + "(\(budget.maxPixels / 1_000_000) megapixels): \(error)")
            }
            throw error
        }
        return image.transfer == .display ? image : image.displayEncoded()
    }

    static func difference(_ a: RGBImage, _ b: RGBImage, pair: PairDetail) throws -> RGBImage {
        guard a.width == b.width, a.height == b.height else {
            throw HTTPFailure(status: .conflict, message: "pair \(pair.id): source is \(a.width)x\(a.height), "
                              + "target \(b.width)x\(b.height); no difference image")
        }
        var out = a
        for i in out.pixels.indices { out.pixels[i] = min(1, abs(a.pixels[i] - b.pixels[i]) * 4) }
        return out
    }
}

/// What the pair view draws: each block's residual shift in pixels (null where not measured: defocused, flat),
/// the blocks that fail the checks, and the thresholds they are judged by, in the stored images' pixels.
struct MisalignmentMap: Encodable {
    struct Block: Encodable {
        let x: Int, y: Int, dx: Double, dy: Double, shift: Double, correlation: Double
    }

    let width: Int
    let height: Int
    let blockSize: Int
    let columns: Int
    let rows: Int
    let measured: Int
    let map: [[Double?]]
    let misaligned: [Block]
    let medianShift: Double?
    let p95Shift: Double?
    let maxShift: Double?
    let maxBlockShift: Double
    let minBlockCorrelation: Double

    init(report r: MisalignmentReport, width: Int, height: Int, thresholds: VerdictThresholds) {
        func finite(_ v: Double) -> Double? { v.isFinite ? v : nil }
        self.width = width
        self.height = height
        blockSize = r.blockSize
        columns = r.columns
        rows = r.rows
        measured = r.measured
        map = r.map.map { row in row.map { $0.flatMap(finite) } }
        misaligned = r.misaligned.map { Block(x: $0.x, y: $0.y, dx: $0.dx, dy: $0.dy, shift: $0.shift, correlation: $0.correlation) }
        medianShift = finite(r.medianShift)
        p95Shift = finite(r.p95Shift)
        maxShift = finite(r.maxShift)
        maxBlockShift = thresholds.maxBlockShift
        minBlockCorrelation = thresholds.minBlockCorrelation
    }
}

/// Least-recently-used entries, evicted once their bytes exceed the limit; an entry larger than a quarter of the
/// limit is not kept at all, so one huge image cannot empty the cache.
public struct ByteBoundedCache: Sendable {
    public let limit: Int
    private var entries: [String: (data: Data, used: UInt64)] = [:]
    private var clock: UInt64 = 0
    public private(set) var bytes = 0

    public init(limit: Int) { self.limit = limit }

    public var count: Int { entries.count }

    public mutating func get(_ key: String) -> Data? {
        guard let entry = entries[key] else { return nil }
        clock += 1
        entries[key] = (entry.data, clock)
        return entry.data
    }

    public mutating func put(_ key: String, _ data: Data) {
        guard data.count <= limit / 4 else { return }
        clock += 1
        if let old = entries[key] { bytes -= old.data.count }
        entries[key] = (data, clock)
        bytes += data.count
        while bytes > limit, let oldest = entries.min(by: { $0.value.used < $1.value.used }) {
            bytes -= oldest.value.data.count
            entries[oldest.key] = nil
        }
    }
}
