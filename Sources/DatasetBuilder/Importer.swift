import Foundation

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
}

/// Catalogues existing pair sets. Files are matched by name; every file that has no partner is reported.
public struct Importer: Sendable {
    public var layout: ImportLayout
    /// All pairs go into this scene; nil gives each pair its own scene named after the file.
    public var scene: String?
    public var tags: [String]
    public var split: Split

    /// The image files `import` considers: those `export` can read back.
    public static let imageExtensions: Set<String> = ["png", "jpg", "jpeg"]

    public init(layout: ImportLayout, scene: String? = nil, tags: [String] = [], split: Split = .test) {
        self.layout = layout
        self.scene = scene
        self.tags = tags
        self.split = split
    }

    /// A pair found in the folder, before it is catalogued.
    struct Candidate {
        let name: String
        let source: URL
        let target: URL
        let left: URL?
        let right: URL?
        let origin: String
    }

    public func run(from folder: URL, into dataset: Dataset, progress: ((String) -> Void)? = nil) throws -> ImportReport {
        var report = ImportReport()
        let candidates = try scan(folder, report: &report)
        for candidate in candidates {
            if let problem = sizeMismatch(candidate) {
                report.mismatches.append(problem)
                continue
            }
            let input = PairInput(
                scene: SceneInput(name: scene ?? candidate.name, tags: tags), name: candidate.name,
                source: candidate.source, target: candidate.target, left: candidate.left, right: candidate.right,
                verdict: .accepted, split: split, origin: candidate.origin)
            let result = try dataset.addPair(input)
            if result.created {
                report.added.append(candidate.name)
            } else {
                report.alreadyPresent.append(candidate.name)
            }
            progress?(candidate.name)
        }
        return report
    }

    func scan(_ folder: URL, report: inout ImportReport) throws -> [Candidate] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DatasetError.badLayout(path: folder.path, detail: "not a folder")
        }
        switch layout {
        case .realdof:
            return try matchByName(folder, sourceDir: "source", targetDir: "target", extras: [:], report: &report)
        case .dpdd:
            var extras: [String: String] = [:]
            for side in ["l", "r"] where Self.isDirectory(folder.appendingPathComponent("test_\(side)/source")) {
                extras[side] = "test_\(side)/source"
            }
            return try matchByName(folder, sourceDir: "test_c/source", targetDir: "test_c/target", extras: extras,
                                   report: &report)
        case .pairs:
            return try pairFolders(folder, report: &report)
        }
    }

    static func isDirectory(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    /// Image files directly in `dir`, by name, sorted.
    static func images(in dir: URL) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: dir.path)
                .filter { !$0.hasPrefix(".") && imageExtensions.contains(($0 as NSString).pathExtension.lowercased()) }
                .sorted()
        } catch {
            throw DatasetError.unreadable(path: dir.path, reason: error.localizedDescription)
        }
    }

    private func matchByName(_ folder: URL, sourceDir: String, targetDir: String, extras: [String: String],
                             report: inout ImportReport) throws -> [Candidate] {
        for dir in [sourceDir, targetDir] where !Self.isDirectory(folder.appendingPathComponent(dir)) {
            throw DatasetError.badLayout(path: folder.path,
                                         detail: "the \(layout.rawValue) layout needs a \(dir)/ folder, which is missing")
        }
        let sources = try Self.images(in: folder.appendingPathComponent(sourceDir))
        let targets = Set(try Self.images(in: folder.appendingPathComponent(targetDir)))
        var extraNames: [String: Set<String>] = [:]
        for (side, dir) in extras { extraNames[side] = Set(try Self.images(in: folder.appendingPathComponent(dir))) }
        var out: [Candidate] = []
        for name in sources {
            guard targets.contains(name) else {
                report.mismatches.append("\(sourceDir)/\(name) has no \(targetDir)/\(name)")
                continue
            }
            var sideURLs: [String: URL] = [:]
            var complete = true
            for (side, dir) in extras.sorted(by: { $0.key < $1.key }) {
                if extraNames[side]?.contains(name) == true {
                    sideURLs[side] = folder.appendingPathComponent("\(dir)/\(name)")
                } else {
                    report.mismatches.append("\(sourceDir)/\(name) has no \(dir)/\(name)")
                    complete = false
                }
            }
            guard complete else { continue }
            out.append(Candidate(
                name: (name as NSString).deletingPathExtension,
                source: folder.appendingPathComponent("\(sourceDir)/\(name)"),
                target: folder.appendingPathComponent("\(targetDir)/\(name)"),
                left: sideURLs["l"], right: sideURLs["r"],
                origin: "import:\(layout.rawValue):\(sourceDir)/\(name)"))
        }
        let sourceSet = Set(sources)
        for name in targets.sorted() where !sourceSet.contains(name) {
            report.mismatches.append("\(targetDir)/\(name) has no \(sourceDir)/\(name)")
        }
        for (side, dir) in extras.sorted(by: { $0.key < $1.key }) {
            for name in (extraNames[side] ?? []).sorted() where !sourceSet.contains(name) {
                report.mismatches.append("\(dir)/\(name) has no \(sourceDir)/\(name)")
            }
        }
        return out
    }

    private func pairFolders(_ folder: URL, report: inout ImportReport) throws -> [Candidate] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { !$0.hasPrefix(".") }.sorted()
        } catch {
            throw DatasetError.unreadable(path: folder.path, reason: error.localizedDescription)
        }
        var out: [Candidate] = []
        for name in names {
            let dir = folder.appendingPathComponent(name)
            guard Self.isDirectory(dir) else { continue }
            let files = try Self.images(in: dir)
            func find(_ stem: String) -> String? { files.first { ($0 as NSString).deletingPathExtension == stem } }
            let found = ["source", "target", "left", "right"].map(find)
            guard let source = found[0], let target = found[1] else {
                let missing = found[0] == nil ? "source" : "target"
                report.mismatches.append("\(name)/ has no \(missing) image")
                continue
            }
            out.append(Candidate(
                name: name, source: dir.appendingPathComponent(source), target: dir.appendingPathComponent(target),
                left: found[2].map { dir.appendingPathComponent($0) }, right: found[3].map { dir.appendingPathComponent($0) },
                origin: "import:pairs:\(name)/\(source)"))
        }
        if out.isEmpty && report.mismatches.isEmpty {
            throw DatasetError.badLayout(path: folder.path, detail: "no NAME/source.* and NAME/target.* pair folders")
        }
        return out
    }

    /// Source and target (and side views) must have the same pixel size; checked from PNG headers without decoding.
    func sizeMismatch(_ candidate: Candidate) -> String? {
        let urls = [candidate.source, candidate.target] + [candidate.left, candidate.right].compactMap { $0 }
        let sizes = urls.map(Self.pngSize)
        guard let first = sizes[0] else { return nil }
        for (url, size) in zip(urls.dropFirst(), sizes.dropFirst()) {
            if let size, size != first {
                return "\(candidate.name): \(url.lastPathComponent) is \(size.0)x\(size.1) but the source is \(first.0)x\(first.1)"
            }
        }
        return nil
    }

    /// Width and height from a PNG's IHDR chunk; nil for other formats or unreadable files.
    static func pngSize(_ url: URL) -> (Int, Int)? {
        guard let handle = FileHandle(forReadingAtPath: url.path) else { return nil }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 24), head.count == 24 else { return nil }
        let bytes = [UInt8](head)
        guard bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]), bytes[12...15].elementsEqual("IHDR".utf8) else { return nil }
        func be32(_ i: Int) -> Int { bytes[i...i + 3].reduce(0) { $0 << 8 | Int($1) } }
        return (be32(16), be32(20))
    }
}
