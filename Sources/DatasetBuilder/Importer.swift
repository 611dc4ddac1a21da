import Foundation
import PairVocabulary
import Imaging
#if canImport(Glibc)
import Glibc
#endif

/// Folder layouts of existing pair sets that `import` understands.
public enum ImportLayout: String, Sendable, CaseIterable {
    /// RealDOF: `source/NAME` and `target/NAME`.
    case realdof
    /// DPDD: `test_c/source/NAME`, `test_c/target/NAME`, optionally `test_l/source/NAME` and `test_r/source/NAME`.
    case dpdd
    /// One folder per pair: `NAME/source.EXT` and `NAME/target.EXT`.
    case pairs
}

/// What `import` did.
public struct ImportReport: Sendable, Equatable {
    /// Pairs newly catalogued.
    public var added: [String] = []
    /// Pairs whose files were already catalogued (same hashes): nothing was changed.
    public var alreadyPresent: [String] = []
    /// Problems that kept a file or pair out: a name on one side only, differing image sizes.
    public var mismatches: [String] = []
    /// Files that were not imported, and why: links, devices, names that are not UTF-8, images that do not decode.
    /// A pair with such a file is not catalogued.
    public var refused: [String] = []
    /// Image files skipped on purpose, and why: hidden names (`.name.png`, as editors and file managers leave them).
    public var skipped: [String] = []
    /// Pairs whose scene, split, verdict and alignment came from a rigctl export's `manifest.json`.
    public var fromManifest = 0
    /// Why a `manifest.json` in the folder was not used (no `SHA256SUMS` beside it); nil when it was, or there is none.
    public var manifestNote: String?
    /// File names refused while listing, so that their partners are not reported again as mismatches.
    var refusedNames = Set<String>()
}

/// Catalogues existing pair sets. Files are matched by name; every file that has no partner is reported.
///
/// The folder is read through its descriptor (`ConfinedFolder`): only regular files inside it are imported, never
/// what a symbolic link points at, and every image is decoded before it is catalogued, so a damaged, truncated or
/// foreign file is listed in the report instead of becoming an accepted test pair.
public struct Importer: Sendable {
    public var layout: ImportLayout
    /// All pairs go into this scene; nil gives each pair its own scene named after the file.
    public var scene: String?
    public var tags: [String]
    /// The split the pairs join; nil: the one a rigctl export recorded for each pair, else test.
    public var split: Split?

    /// The image files `import` considers: those `export` can read back.
    public static let imageExtensions: Set<String> = ["png", "jpg", "jpeg"]

    public init(layout: ImportLayout, scene: String? = nil, tags: [String] = [], split: Split? = nil) {
        self.layout = layout
        self.scene = scene
        self.tags = tags
        self.split = split
    }

    /// A pair found in the folder, before it is catalogued. Paths are relative to the import folder.
    struct Candidate {
        let name: String
        let source: String
        let target: String
        let left: String?
        let right: String?
        let origin: String
    }

    public func run(from folder: URL, into dataset: Dataset, progress: ((String) -> Void)? = nil) throws -> ImportReport {
        var report = ImportReport()
        let root: ConfinedFolder
        do {
            root = try ConfinedFolder(path: folder.path)
        } catch DatasetError.unreadable(_, let reason) {
            let missing = reason == "not a folder" || reason == String(cString: strerror(ENOENT))
            throw DatasetError.badLayout(path: folder.path, detail: missing ? "not a folder" : "cannot be read: \(reason)")
        }
        let candidates = try scan(root, report: &report)
        var records: ExportRecords?
        switch try ExportRecords.read(from: root) {
        case .none: break
        case .ignored(let why): report.manifestNote = why
        case .records(let found): records = found
        }
        candidateLoop: for candidate in candidates {
            let roles: [(PairImageRole, String)] = [(.source, candidate.source), (.target, candidate.target)]
                + [(PairImageRole.left, candidate.left), (.right, candidate.right)].compactMap { role, path in path.map { (role, $0) } }
            var loaded: [LoadedImage] = []
            for (role, path) in roles {
                do {
                    loaded.append(try Self.load(path, role: role, from: root))
                } catch {
                    report.refused.append("\(candidate.name): \(Self.reason(error, path: path))")
                    continue candidateLoop
                }
            }
            if let first = loaded.first?.image,
               let other = loaded.dropFirst().first(where: { $0.image.map { ($0.width, $0.height) != (first.width, first.height) } ?? false }),
               let size = other.image {
                report.mismatches.append("\(candidate.name): \(other.url.lastPathComponent) is \(size.width)x\(size.height) "
                                         + "but the source is \(first.width)x\(first.height)")
                continue
            }
            let record = records?.bySource[candidate.source]
            let input = record?.pairInput(source: root.url(candidate.source), target: root.url(candidate.target),
                                          left: candidate.left.map(root.url), right: candidate.right.map(root.url),
                                          scene: scene, tags: tags, split: split, origin: candidate.origin)
                ?? PairInput(
                    scene: SceneInput(name: scene ?? candidate.name, tags: tags), name: candidate.name,
                    source: root.url(candidate.source), target: root.url(candidate.target),
                    left: candidate.left.map(root.url), right: candidate.right.map(root.url),
                    verdict: .accepted, split: split ?? .test, origin: candidate.origin)
            let result = try dataset.addPair(input, preloaded: loaded)
            if let record, result.created {
                report.fromManifest += 1
                if record.review != .unreviewed { try dataset.review(pair: result.id, state: record.review, note: nil) }
            }
            if result.created {
                report.added.append(candidate.name)
            } else {
                report.alreadyPresent.append(candidate.name)
            }
            progress?(candidate.name)
        }
        return report
    }

    /// Reads one image through the folder's descriptor and decodes it completely.
    static func load(_ path: String, role: PairImageRole, from root: ConfinedFolder) throws -> LoadedImage {
        let data = try root.read(path)
        let full = root.full(path)
        try PairImageLimit.check(data, path: full)
        let info: ImageInfo
        switch ImageFormat.sniff(data) {
        case .png:
            let raster = try PNGFile.decode(data, path: full)
            info = ImageInfo(width: raster.width, height: raster.height, channels: raster.channels, bitDepth: raster.bitDepth)
        case .jpeg:
            let raster = try JPEGFile.decode(data, path: full)
            info = ImageInfo(width: raster.width, height: raster.height, channels: raster.channels, bitDepth: 8)
        case .raw:
            throw DatasetError.unreadable(path: full, reason: data.isEmpty ? "the file is empty" : "not a PNG or JPEG image")
        }
        return LoadedImage(role: role, url: root.url(path), data: data, image: info)
    }

    static func reason(_ error: Error, path: String) -> String {
        switch error {
        case DatasetError.unreadable(_, let reason): "\(path): \(reason)"
        case DatasetError.unsafePath(_, let detail): "\(path): \(detail)"
        case ImagingError.corrupt(_, let format, let detail): "\(path): a damaged \(format) file (\(detail))"
        case ImagingError.unsupported(_, let detail): "\(path): \(detail)"
        case ImagingError.unreadable(_, let reason): "\(path): \(reason)"
        default: "\(path): \(error)"
        }
    }

    func scan(_ root: ConfinedFolder, report: inout ImportReport) throws -> [Candidate] {
        switch layout {
        case .realdof:
            return try matchByName(root, sourceDir: "source", targetDir: "target", extras: [:], report: &report)
        case .dpdd:
            var extras: [String: String] = [:]
            for side in ["l", "r"] where try Self.isFolder("test_\(side)/source", in: root) {
                extras[side] = "test_\(side)/source"
            }
            return try matchByName(root, sourceDir: "test_c/source", targetDir: "test_c/target", extras: extras,
                                   report: &report)
        case .pairs:
            return try pairFolders(root, report: &report)
        }
    }

    /// Whether `relative` is a folder; a link there is refused, not followed.
    static func isFolder(_ relative: String, in root: ConfinedFolder) throws -> Bool {
        switch try root.kind(relative) {
        case .directory: return true
        case .link: throw DatasetError.unsafePath(path: root.full(relative), detail: "a symbolic link, which import does not follow")
        default: return false
        }
    }

    /// Image files directly in `dir`, by name, sorted. Links, devices and names that are not UTF-8 are refused
    /// (listed in the report).
    static func images(in dir: String, of root: ConfinedFolder, report: inout ImportReport) throws -> [String] {
        var names: [String] = []
        for entry in try root.entries(dir) {
            guard let name = entry.name else {
                report.refused.append("\(dir)/\(entry.printable): the name is not valid UTF-8")
                continue
            }
            guard imageExtensions.contains((name as NSString).pathExtension.lowercased()) else { continue }
            if name.hasPrefix(".") {
                // Not imported, but said: a pair whose image is hidden would otherwise vanish without a word.
                if case .file = entry.kind { report.skipped.append("\(dir)/\(name): a hidden file, which import skips") }
                continue
            }
            switch entry.kind {
            case .file: names.append(name)
            case .link:
                report.refused.append("\(dir)/\(name): a symbolic link, which import does not follow")
                report.refusedNames.insert(name)
            case .special:
                report.refused.append("\(dir)/\(name): not a regular file")
                report.refusedNames.insert(name)
            case .directory, .missing: continue
            }
        }
        return names
    }

    private func matchByName(_ root: ConfinedFolder, sourceDir: String, targetDir: String, extras: [String: String],
                             report: inout ImportReport) throws -> [Candidate] {
        for dir in [sourceDir, targetDir] where try !Self.isFolder(dir, in: root) {
            throw DatasetError.badLayout(path: root.path,
                                         detail: "the \(layout.rawValue) layout needs a \(dir)/ folder, which is missing")
        }
        let sources = try Self.images(in: sourceDir, of: root, report: &report)
        let targets = Set(try Self.images(in: targetDir, of: root, report: &report))
        var extraNames: [String: Set<String>] = [:]
        for (side, dir) in extras.sorted(by: { $0.key < $1.key }) {
            extraNames[side] = Set(try Self.images(in: dir, of: root, report: &report))
        }
        var out: [Candidate] = []
        for name in sources {
            guard targets.contains(name) else {
                if !report.refusedNames.contains(name) {
                    report.mismatches.append("\(sourceDir)/\(name) has no \(targetDir)/\(name)")
                }
                continue
            }
            var sidePaths: [String: String] = [:]
            var complete = true
            for (side, dir) in extras.sorted(by: { $0.key < $1.key }) {
                if extraNames[side]?.contains(name) == true {
                    sidePaths[side] = "\(dir)/\(name)"
                } else {
                    report.mismatches.append("\(sourceDir)/\(name) has no \(dir)/\(name)")
                    complete = false
                }
            }
            guard complete else { continue }
            out.append(Candidate(
                name: (name as NSString).deletingPathExtension,
                source: "\(sourceDir)/\(name)", target: "\(targetDir)/\(name)",
                left: sidePaths["l"], right: sidePaths["r"],
                origin: "import:\(layout.rawValue):\(sourceDir)/\(name)"))
        }
        let sourceSet = Set(sources)
        // A partner that was refused is reported once, as refused, not again as a mismatch.
        for name in targets.sorted() where !sourceSet.contains(name) && !report.refusedNames.contains(name) {
            report.mismatches.append("\(targetDir)/\(name) has no \(sourceDir)/\(name)")
        }
        for (side, dir) in extras.sorted(by: { $0.key < $1.key }) {
            for name in (extraNames[side] ?? []).sorted() where !sourceSet.contains(name) {
                report.mismatches.append("\(dir)/\(name) has no \(sourceDir)/\(name)")
            }
        }
        return out
    }

    private func pairFolders(_ root: ConfinedFolder, report: inout ImportReport) throws -> [Candidate] {
        var out: [Candidate] = []
        for entry in try root.entries("") {
            guard let name = entry.name else {
                report.refused.append("\(entry.printable): the name is not valid UTF-8")
                continue
            }
            guard !name.hasPrefix(".") else { continue }
            if entry.kind == .link {
                report.refused.append("\(name): a symbolic link, which import does not follow")
                continue
            }
            guard entry.kind == .directory else { continue }
            let files = try Self.images(in: name, of: root, report: &report)
            func find(_ stem: String) -> String? { files.first { ($0 as NSString).deletingPathExtension == stem } }
            let found = PairImageRole.allCases.map { find($0.rawValue) }
            guard let source = found[0], let target = found[1] else {
                let missing = found[0] == nil ? "source" : "target"
                report.mismatches.append("\(name)/ has no \(missing) image")
                continue
            }
            out.append(Candidate(
                name: name, source: "\(name)/\(source)", target: "\(name)/\(target)",
                left: found[2].map { "\(name)/\($0)" }, right: found[3].map { "\(name)/\($0)" },
                origin: "import:pairs:\(name)/\(source)"))
        }
        if out.isEmpty && report.mismatches.isEmpty && report.refused.isEmpty {
            throw DatasetError.badLayout(path: root.path, detail: "no NAME/source.* and NAME/target.* pair folders")
        }
        return out
    }
}
