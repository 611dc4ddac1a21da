import Foundation
import Imaging

/// One test pair on disk: the defocused input and its all-in-focus ground truth.
public struct ImagePair: Sendable, Equatable, Codable {
    /// The name that identifies the pair (the file name without extension).
    public var name: String
    public var source: URL
    public var target: URL

    public init(name: String, source: URL, target: URL) {
        self.name = name
        self.source = source
        self.target = target
    }
}

/// Folder layouts of the public defocus test sets.
public enum PairLayout: String, Sendable, CaseIterable, Codable {
    /// `source/` and `target/` side by side (RealDOF).
    case realdof
    /// `test_c/source` and `test_c/target` (DPDD; `test_l`, `test_r` hold the dual-pixel views and are not needed).
    case dpdd

    /// Guesses the layout from what the folder holds.
    public static func detect(_ root: URL) -> PairLayout? {
        let fm = FileManager.default
        if fm.fileExists(atPath: root.appendingPathComponent("test_c/source").path) { return .dpdd }
        if fm.fileExists(atPath: root.appendingPathComponent("source").path) { return .realdof }
        return nil
    }

    func folders(_ root: URL) -> (source: URL, target: URL) {
        switch self {
        case .realdof: (root.appendingPathComponent("source"), root.appendingPathComponent("target"))
        case .dpdd: (root.appendingPathComponent("test_c/source"), root.appendingPathComponent("test_c/target"))
        }
    }
}

public enum PairFolderError: Error, CustomStringConvertible, Equatable {
    case notAPairFolder(path: String)
    case missingFolder(path: String)
    case unmatched(root: String, sourceOnly: [String], targetOnly: [String])
    case duplicateName(folder: String, name: String)
    case empty(path: String)

    public var description: String {
        switch self {
        case .notAPairFolder(let path):
            "\(path) has neither source/ (RealDOF layout) nor test_c/source (DPDD layout)"
        case .missingFolder(let path): "\(path) is missing"
        case .unmatched(let root, let s, let t):
            "\(root): inputs and ground truths do not match by name"
                + (s.isEmpty ? "" : "; only in source: " + s.prefix(10).joined(separator: ", "))
                + (t.isEmpty ? "" : "; only in target: " + t.prefix(10).joined(separator: ", "))
                + (s.count + t.count > 20 ? " ..." : "")
        case .duplicateName(let folder, let name): "\(folder) holds two images named \(name) (different extensions)"
        case .empty(let path): "\(path) holds no images"
        }
    }
}

/// Finds the pairs of a test set folder, matching input and ground truth by file name - not by sorted order,
/// as the official loaders do, which silently misaligns a set with one file missing.
public enum PairFolder {
    static let imageExtensions: Set<String> = ["png", "jpg", "jpeg", "tif", "tiff", "dng", "cr2", "nef", "arw"]

    public static func pairs(in root: URL, layout: PairLayout? = nil) throws -> [ImagePair] {
        guard let layout = layout ?? PairLayout.detect(root) else { throw PairFolderError.notAPairFolder(path: root.path) }
        let (sourceDir, targetDir) = layout.folders(root)
        let sources = try images(in: sourceDir)
        let targets = try images(in: targetDir)
        let sourceOnly = sources.keys.filter { targets[$0] == nil }.sorted()
        let targetOnly = targets.keys.filter { sources[$0] == nil }.sorted()
        guard sourceOnly.isEmpty && targetOnly.isEmpty else {
            throw PairFolderError.unmatched(root: root.path, sourceOnly: sourceOnly, targetOnly: targetOnly)
        }
        guard !sources.isEmpty else { throw PairFolderError.empty(path: sourceDir.path) }
        return sources.keys.sorted().map { ImagePair(name: $0, source: sources[$0]!, target: targets[$0]!) }
    }

    /// Image files of a folder by name without extension.
    static func images(in folder: URL) throws -> [String: URL] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw PairFolderError.missingFolder(path: folder.path)
        }
        var result: [String: URL] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() where !name.hasPrefix(".") {
            let url = folder.appendingPathComponent(name)
            guard imageExtensions.contains(url.pathExtension.lowercased()) else { continue }
            let stem = url.deletingPathExtension().lastPathComponent
            if result[stem] != nil { throw PairFolderError.duplicateName(folder: folder.path, name: stem) }
            result[stem] = url
        }
        return result
    }
}
