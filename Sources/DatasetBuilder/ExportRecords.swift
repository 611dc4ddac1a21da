import Foundation
import PairVocabulary

/// What a rigctl export records about its pairs (`manifest.json`), read back when that export is imported, so that
/// export -> import keeps each pair's scene, tags, split, verdict, reasons, review state and alignment instead of
/// making every pair a scene of its own.
///
/// The records are trusted only as far as `SHA256SUMS` vouches for them: every file it lists must hash as listed,
/// and it must list `manifest.json` and the images. An export whose files changed since is refused, naming the
/// file; a manifest without `SHA256SUMS` is not used (the report says so) and the images import as a plain set.
struct ExportRecords {
    /// The manifest's pairs by their source image's path in the folder.
    let bySource: [String: ManifestPair]

    enum Outcome {
        case none
        case ignored(String)
        case records(ExportRecords)
    }

    static func read(from root: ConfinedFolder) throws -> Outcome {
        guard case .file = try root.kind("manifest.json") else { return .none }
        guard case .file = try root.kind("SHA256SUMS") else {
            return .ignored("manifest.json has no SHA256SUMS beside it, so its records (scenes, splits, verdicts) were not used")
        }
        let sums = String(decoding: try root.read("SHA256SUMS"), as: UTF8.self)
        var listed: [String: String] = [:]
        for line in sums.split(separator: "\n") where !line.isEmpty {
            // `sha256sum` format: 64 hex digits, two spaces (or space and `*`), the path.
            let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0].count == 64 else {
                throw DatasetError.badLayout(path: root.full("SHA256SUMS"), detail: "a line that is not `HASH  PATH`: \(line.prefix(80))")
            }
            var path = String(parts[1])
            if path.hasPrefix(" ") || path.hasPrefix("*") { path.removeFirst() }
            guard !path.hasPrefix("/"), !path.split(separator: "/").contains("..") else {
                throw DatasetError.badLayout(path: root.full("SHA256SUMS"), detail: "a path outside the folder: \(path.prefix(80))")
            }
            listed[path] = parts[0].lowercased()
        }
        guard listed["manifest.json"] != nil else {
            throw DatasetError.badLayout(path: root.full("SHA256SUMS"), detail: "it does not list manifest.json")
        }
        for (path, sha) in listed.sorted(by: { $0.key < $1.key }) where SHA256Hex.of(try root.read(path)) != sha {
            throw DatasetError.badLayout(path: root.full(path),
                                         detail: "changed since the export (its SHA-256 differs from SHA256SUMS); import refuses an altered export")
        }
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: try root.read("manifest.json"))
        } catch let error as DecodingError {
            throw DatasetError.badLayout(path: root.full("manifest.json"), detail: "not a rigctl manifest (\(error.localizedDescription))")
        }
        var bySource: [String: ManifestPair] = [:]
        for pair in manifest.pairs {
            guard let source = pair.files[.source], let sha = pair.sha256[.source], listed[source] == sha else {
                throw DatasetError.badLayout(path: root.full("manifest.json"),
                                             detail: "pair \(pair.name)'s source image is not in SHA256SUMS")
            }
            bySource[source] = pair
        }
        return .records(ExportRecords(bySource: bySource))
    }
}

extension ManifestPair {
    /// The pair as the export described it. A scene, tags or split the person gave on the command line win.
    func pairInput(source: URL, target: URL, left: URL?, right: URL?, scene: String?, tags: [String], split: Split?,
                   origin: String) -> PairInput {
        let colour = alignment.colourModel.flatMap { model in
            alignment.colourParameters.flatMap { ColourFit(model: model, parameters: $0, residual: alignment.colourResidual) }
        }
        var input = PairInput(
            scene: SceneInput(name: scene ?? self.scene, tags: Array(Set(self.tags + tags)).sorted()), name: name,
            source: source, target: target, left: left, right: right,
            homography: alignment.homography.flatMap { try? Homography($0) }, colour: colour, crop: alignment.crop,
            quality: alignment.quality, verdict: verdict, reasons: reasons, split: split ?? self.split,
            origin: "\(origin) (exported \(self.origin) pair \(pairKey))")
        // Two pairs of one export can hold the same images (a restarted camera sent the same frames); each stays
        // its own pair, and importing the export again still adds nothing.
        input.identity = "rigctl export pair \(pairKey)"
        input.provenance = provenance
        return input
    }
}
