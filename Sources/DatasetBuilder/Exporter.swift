import AtomicFiles
import Foundation
import PairVocabulary
import ThreadSupport
import GRDB
import Imaging
#if canImport(Glibc)
import Glibc
#endif

/// The folder layout of an exported test set, as the official loaders read it.
public enum ExportFormat: String, Sendable, CaseIterable {
    /// `source/NAME.png`, `target/NAME.png`.
    case realdof
    /// `test_c/source/NAME.png`, `test_c/target/NAME.png`, plus `test_l/source`, `test_r/source` when every pair
    /// has dual-pixel views.
    case dpdd
}

public struct ExportOptions: Sendable {
    public var format: ExportFormat
    public var split: SplitSelection
    /// 8 or 16 bits per sample.
    public var depth: Int
    /// The long side of every image at most this many pixels (area averaging); nil keeps the size.
    public var maxSize: Int?
    /// A title for the datasheet.
    public var title: String

    public init(format: ExportFormat = .realdof, split: SplitSelection = .only(.test), depth: Int = 8, maxSize: Int? = nil,
                title: String = "rigctl defocus-deblurring test set") {
        self.format = format
        self.split = split
        self.depth = depth
        self.maxSize = maxSize
        self.title = title
    }
}

/// What an export wrote.
public struct ExportReport: Sendable, Equatable {
    public let folder: URL
    public let pairs: Int
    /// Files written, relative to the folder, sorted.
    public let files: [String]
}

/// Writes accepted pairs as a test set others can trust: only accepted (and not review-rejected) pairs of the split,
/// images the loaders accept, `manifest.json`, `manifest.csv`, `README.md` and `SHA256SUMS`.
///
/// The export is deterministic (pairs ordered by scene, name and content key; no timestamps of the export itself),
/// so exporting twice gives byte-identical files. It is built in a temporary sibling folder and renamed into place,
/// so a killed export leaves either the previous export or none, never a half-written one.
public struct Exporter: Sendable {
    public var options: ExportOptions

    public init(options: ExportOptions) {
        self.options = options
    }

    static let stagingPrefix = AtomicFile.temporaryMarker + "export-"
    static let retiredPrefix = AtomicFile.temporaryMarker + "retired-"

    public func run(from dataset: Dataset, to out: URL) throws -> ExportReport {
        guard options.depth == 8 || options.depth == 16 else {
            throw DatasetError.invalidInput("--depth must be 8 or 16, not \(options.depth)")
        }
        if let maxSize = options.maxSize, maxSize < 8 {
            throw DatasetError.invalidInput("--max-size must be at least 8 pixels, not \(maxSize)")
        }
        let out = out.standardizedFileURL
        let parent = out.deletingLastPathComponent()
        try Self.refuseInside(dataset, out)
        // What a killed export of this name left beside it goes first, whatever this one then finds.
        Self.removeLeftovers(in: parent, for: out.lastPathComponent)
        let previous = try Self.checkReplaceable(out)
        // Chosen before anything is written: an export that would hold no pair stops here and says why.
        let details = try selectPairs(dataset)
        do {
            try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        } catch {
            throw DatasetError.writeFailed(path: parent.path, reason: error.localizedDescription)
        }

        let staging = parent.appendingPathComponent(Self.temporaryName(Self.stagingPrefix, for: out.lastPathComponent))
        var finished = false
        defer { if !finished { try? FileManager.default.removeItem(at: staging) } }
        let layout = Layout(format: options.format, sides: details.allSatisfy { $0.left != nil && $0.right != nil }
                            && !details.isEmpty && options.format == .dpdd)
        for dir in layout.folders {
            try Self.makeDirectory(staging.appendingPathComponent(dir))
        }
        let digits = max(4, String(details.count).count)
        // Pairs are independent: read, check, convert and write them on all cores; the order of the manifest comes
        // from the index, so the result does not depend on which finishes first.
        let results = ResultSlots<[PairImageRole: WrittenImage]>(count: details.count)
        DispatchQueue.concurrentPerform(iterations: details.count) { index in
            let detail = details[index]
            let number = String(repeating: "0", count: max(0, digits - String(index + 1).count)) + String(index + 1)
            let name = "\(number)_\(SafeName.component(detail.scene, fallback: "scene"))"
            var sides: [(PairImageRole, FileInfo)] = [(.source, detail.source), (.target, detail.target)]
            if layout.sides, let left = detail.left, let right = detail.right {
                sides += [(.left, left), (.right, right)]
            }
            do {
                var written: [PairImageRole: WrittenImage] = [:]
                for (role, file) in sides {
                    let relative = "\(layout.folder(for: role))/\(name).png"
                    let (data, width, height) = try image(file, in: dataset)
                    try Durable.writePlain(data, to: staging.appendingPathComponent(relative).path)
                    written[role] = WrittenImage(path: relative, sha: SHA256Hex.of(data), width: width, height: height,
                                                 name: name)
                }
                results.set(index, written)
            } catch {
                results.fail(error)
            }
        }
        if let error = results.error { throw error }
        var entries: [ManifestPair] = []
        var exportedHashes: [String: String] = [:]
        for (index, detail) in details.enumerated() {
            let written = results.value(index) ?? [:]
            for image in written.values { exportedHashes[image.path] = image.sha }
            entries.append(ManifestPair(name: written[.source]?.name ?? "", detail: detail, written: written))
        }
        let manifest = Manifest(format: options.format.rawValue, split: options.split.rawValue, depth: options.depth,
                                maxSize: options.maxSize, pairCount: entries.count, pairs: entries)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let extra: [(String, Data)] = [
            ("manifest.json", try encoder.encode(manifest) + Data("\n".utf8)),
            ("manifest.csv", Data(Self.csv(entries).utf8)),
            ("README.md", Data(datasheet(entries, details: details, layout: layout).utf8)),
        ]
        for (name, data) in extra {
            try Durable.writePlain(data, to: staging.appendingPathComponent(name).path)
            exportedHashes[name] = SHA256Hex.of(data)
        }
        // The marker that lets a later export replace this folder: it names the dataset and lists every file the
        // export wrote, and nothing else is ever removed. It is rigctl's, not the data's, so SHA256SUMS leaves it
        // out: the sums stay the same for the same data whichever dataset path made it (export -> import ->
        // export), and a copy that drops the hidden file still passes `sha256sum -c`.
        let marker = ExportMarker(dataset: dataset.root.path, options: options,
                                  files: (exportedHashes.keys + ["SHA256SUMS"]).sorted())
        try Durable.writePlain(Data(marker.text.utf8), to: staging.appendingPathComponent(ExportMarker.name).path)
        let sums = exportedHashes.keys.sorted().map { "\(exportedHashes[$0] ?? "")  \($0)\n" }.joined()
        try Durable.writePlain(Data(sums.utf8), to: staging.appendingPathComponent("SHA256SUMS").path)
        let written = (exportedHashes.keys + ["SHA256SUMS", ExportMarker.name]).sorted()
        // Everything is flushed before the folder is renamed into place: files, then their folders.
        try Durable.fsyncAll(written.map { staging.appendingPathComponent($0).path })
        try Durable.fsyncAll(Set(layout.folders.flatMap { [$0, ($0 as NSString).deletingLastPathComponent] })
            .filter { !$0.isEmpty }.sorted().map { staging.appendingPathComponent($0).path } + [staging.path])

        // Swap the finished folder into place; an earlier export is moved aside first and removed after.
        var retired: URL?
        if previous != nil {
            let aside = parent.appendingPathComponent(Self.temporaryName(Self.retiredPrefix, for: out.lastPathComponent))
            guard rename(out.path, aside.path) == 0 else {
                throw DatasetError.writeFailed(path: out.path, reason: String(cString: strerror(errno)))
            }
            retired = aside
        }
        guard rename(staging.path, out.path) == 0 else {
            throw DatasetError.writeFailed(path: out.path, reason: String(cString: strerror(errno)))
        }
        finished = true
        AtomicFile.syncDirectory(parent.path)
        if let retired { Self.removeExport(retired, listed: previous ?? []) }
        return ExportReport(folder: out, pairs: entries.count, files: written)
    }

    /// The pairs of the split, in export order. An export that would hold no pair is an error that says why.
    func selectPairs(_ dataset: Dataset) throws -> [PairDetail] {
        let (clause, arguments) = Dataset.splitClause(options.split)
        let details = try dataset.read { db in
            let ids = try Int64.fetchAll(db, sql: """
                SELECT p.id FROM pair p JOIN scene s ON s.id = p.sceneId
                WHERE \(Dataset.usableClause(.export))\(clause)
                ORDER BY s.name, p.name, p.contentKey
                """, arguments: arguments)
            return try ids.map { try Dataset.pairDetail(id: $0, in: db) }
        }
        if details.isEmpty, let reason = try dataset.emptySelectionReason(options.split, for: .export) {
            throw DatasetError.invalidInput(reason)
        }
        return details
    }

    /// The PNG bytes to export for a catalogued image: the file itself when it already is an RGB PNG of the asked
    /// depth and size, else decoded, downscaled and re-encoded. The file's hash is checked against the catalogue.
    func image(_ file: FileInfo, in dataset: Dataset) throws -> (Data, Int, Int) {
        let url = dataset.url(file.path)
        let data = try dataset.files.read(file.path)
        let sha = SHA256Hex.of(data)
        guard sha == file.sha256 else { throw DatasetError.hashMismatch(path: url.path, expected: file.sha256, actual: sha) }
        if let header = PNGHeader(data), header.colourType == 2, header.bitDepth == options.depth,
           RGBImage.fittedSize(width: header.width, height: header.height, maxSide: options.maxSize ?? .max)
               == (header.width, header.height) {
            return (data, header.width, header.height)
        }
        var picture: RGBImage
        do {
            switch ImageFormat.sniff(data) {
            case .png: picture = try PNGFile.decode(data, path: url.path).rgbImage()
            case .jpeg: picture = RGBImage(raster: try JPEGFile.decode(data, path: url.path))
            case .raw: throw DatasetError.invalidInput("\(url.path): only PNG and JPEG images can be exported")
            }
        } catch let error as ImagingError {
            throw DatasetError.unreadable(path: url.path, reason: error.description)
        }
        if let maxSize = options.maxSize { picture = picture.downscaled(maxSide: maxSize) }
        do {
            let png = options.depth == 16 ? try PNGFile.encode(picture.raster16(), path: url.path)
                : try PNGFile.encode(picture.raster8(), path: url.path)
            return (png, picture.width, picture.height)
        } catch let error as ImagingError {
            throw DatasetError.writeFailed(path: url.path, reason: error.description)
        }
    }

    static func makeDirectory(_ url: URL) throws {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw DatasetError.writeFailed(path: url.path, reason: error.localizedDescription)
        }
    }

    /// An output inside the dataset would make it inconsistent (orphans, or worse, replaced managed folders).
    static func refuseInside(_ dataset: Dataset, _ out: URL) throws {
        let root = realPath(dataset.root.path)
        let target = realPath(out.path)
        if target == root || target.hasPrefix(root + "/") {
            throw DatasetError.invalidInput("--out \(out.path) is inside the dataset \(dataset.root.path); choose a folder outside it")
        }
    }

    /// The real path of `path`: its longest existing ancestor resolved, the rest appended as given.
    static func realPath(_ path: String) -> String {
        var head = (path as NSString).standardizingPath
        var tail: [String] = []
        while !head.isEmpty && head != "/" {
            if let resolved = realpath(head, nil) {
                defer { free(resolved) }
                return ([String(cString: resolved)] + tail.reversed()).joined(separator: "/")
            }
            tail.append((head as NSString).lastPathComponent)
            head = (head as NSString).deletingLastPathComponent
        }
        return "/" + tail.reversed().joined(separator: "/")
    }

    /// An existing output folder is replaced only when it is empty or an export made by rigctl: it holds our marker,
    /// and nothing but the files the marker lists (and their folders). Returns the listed files (nil: no folder).
    static func checkReplaceable(_ out: URL) throws -> [String]? {
        var st = stat()
        guard lstat(out.path, &st) == 0 else { return nil }
        guard (st.st_mode & S_IFMT) == S_IFDIR else { throw DatasetError.refusingToOverwrite(path: out.path) }
        if (try? FileManager.default.contentsOfDirectory(atPath: out.path))?.isEmpty == true { return [] }
        let folder = try ConfinedFolder(path: out.path)
        let found = folder.walk("")
        // Only empty folders: what an interrupted removal of an earlier export leaves.
        if found.files.isEmpty && found.links.isEmpty && found.others.isEmpty { return [] }
        guard let text = try? folder.read(ExportMarker.name), let listed = ExportMarker.files(in: String(decoding: text, as: UTF8.self))
        else { throw DatasetError.refusingToOverwrite(path: out.path) }
        let allowed = Set(listed + [ExportMarker.name])
        if let stray = (found.links + found.others).first ?? found.files.first(where: { !allowed.contains($0) }) {
            throw DatasetError.invalidInput("\(out.path) is an earlier export, but \(stray) was not written by it; "
                                            + "move it away or choose another folder")
        }
        return listed + [ExportMarker.name]
    }

    /// Removes the files an earlier export listed, then its folders once empty; anything else stays.
    static func removeExport(_ folder: URL, listed: [String]) {
        guard let confined = try? ConfinedFolder(path: folder.path) else { return }
        var folders = Set<String>()
        for path in listed {
            confined.removeFile(path)
            var parent = (path as NSString).deletingLastPathComponent
            // Paths are relative (`ExportMarker.files`); the bound on the walk holds whatever they are.
            while !parent.isEmpty && parent != "/" && !folders.contains(parent) {
                folders.insert(parent)
                parent = (parent as NSString).deletingLastPathComponent
            }
        }
        folders.formUnion(confined.walk("").folders)
        for sub in folders.sorted(by: { $0.count > $1.count }) { confined.removeEmptyFolder(sub) }
        rmdir(folder.path)
    }

    /// A short hidden name beside the output: the prefix, 8 hex digits of the output's name (so a later export of
    /// the same name finds the leftovers of a killed one) and 6 random ones.
    static func temporaryName(_ prefix: String, for name: String) -> String {
        prefix + SHA256Hex.of(name).prefix(8) + "-" + AtomicFile.temporaryName().suffix(6)
    }

    /// Removes staging and retired folders that a killed export of the same name left in `parent`.
    static func removeLeftovers(in parent: URL, for name: String) {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: parent.path)) ?? []
        let tag = SHA256Hex.of(name).prefix(8) + "-"
        for entry in entries where entry.hasPrefix(stagingPrefix + tag) || entry.hasPrefix(retiredPrefix + tag) {
            let url = parent.appendingPathComponent(entry)
            if entry.hasPrefix(retiredPrefix), let listed = try? checkReplaceable(url) {
                removeExport(url, listed: listed)
            } else if entry.hasPrefix(stagingPrefix) {
                try? FileManager.default.removeItem(at: url)
            }
        }
    }

    struct Layout {
        let format: ExportFormat
        /// Whether the dual-pixel side views are written.
        let sides: Bool

        func folder(for role: PairImageRole) -> String {
            switch (format, role) {
            case (.realdof, let role): role.rawValue
            case (.dpdd, .source): "test_c/source"
            case (.dpdd, .target): "test_c/target"
            case (.dpdd, .left): "test_l/source"
            case (.dpdd, .right): "test_r/source"
            }
        }

        var folders: [String] {
            ([.source, .target] + (sides ? [.left, .right] : [])).map(folder(for:))
        }
    }
}

/// `.rigctl-export`: the mark of a folder that `export` made. It names the dataset and the export's options and
/// lists every file written, so that a later export replaces exactly those and refuses a folder that holds more.
struct ExportMarker {
    static let name = ".rigctl-export"
    static let firstLine = "rigctl export"

    let dataset: String
    let options: ExportOptions
    let files: [String]

    var text: String {
        var s = Self.firstLine + "\n"
        s += "dataset: \(dataset)\n"
        s += "format: \(options.format.rawValue), split: \(options.split.rawValue), depth: \(options.depth), "
            + "max size: \(options.maxSize.map(String.init) ?? "none")\n"
        s += "files:\n" + files.map { $0 + "\n" }.joined()
        return s
    }

    /// The files a marker lists; nil when the text is not a marker, or lists anything but plain relative paths
    /// inside the folder (a marker is read from disk, so it may be crafted: `/etc/x`, `../x`, `a//b` make it none).
    static func files(in text: String) -> [String]? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.first == firstLine, let start = lines.firstIndex(of: "files:") else { return nil }
        let listed = lines[(start + 1)...].filter { !$0.isEmpty }
        guard listed.allSatisfy(isPlainRelativePath) else { return nil }
        return listed
    }

    /// A path below the folder: components that are neither empty, `.` nor `..`, and no NUL.
    static func isPlainRelativePath(_ path: String) -> Bool {
        !path.contains("\0") && !path.split(separator: "/", omittingEmptySubsequences: false)
            .contains { $0.isEmpty || $0 == "." || $0 == ".." }
    }
}

/// One exported image.
struct WrittenImage: Sendable {
    let path: String
    let sha: String
    let width: Int
    let height: Int
    let name: String
}

/// Results of parallel work by index, and the first error.
final class ResultSlots<T: Sendable>: Sendable {
    private struct Slots {
        var values: [T?]
        var firstError: Error?
    }
    private let state: LockedValue<Slots>

    init(count: Int) { state = LockedValue(Slots(values: Array(repeating: nil, count: count))) }

    func set(_ index: Int, _ value: T) { state.withLock { $0.values[index] = value } }

    func fail(_ error: Error) { state.withLock { if $0.firstError == nil { $0.firstError = error } } }

    func value(_ index: Int) -> T? { state.withLock { $0.values[index] } }

    var error: Error? { state.withLock { $0.firstError } }
}

/// Width, height, bit depth and colour type from a PNG's IHDR chunk.
struct PNGHeader {
    let width: Int
    let height: Int
    let bitDepth: Int
    let colourType: Int

    init?(_ data: Data) {
        guard data.count >= 26 else { return nil }
        let b = [UInt8](data.prefix(26))
        guard b.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]), b[12...15].elementsEqual("IHDR".utf8)
        else { return nil }
        func be32(_ i: Int) -> Int { b[i...i + 3].reduce(0) { $0 << 8 | Int($1) } }
        width = be32(16)
        height = be32(20)
        bitDepth = Int(b[24])
        colourType = Int(b[25])
    }
}
