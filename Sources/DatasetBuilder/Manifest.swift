import Foundation
import PairVocabulary

/// `manifest.json` of an export.
struct Manifest: Codable {
    let format: String
    let split: String
    let depth: Int
    let maxSize: Int?
    let pairCount: Int
    let pairs: [ManifestPair]
}

/// One shot's camera and exposure in a manifest.
public struct ManifestShot: Sendable, Codable, Equatable {
    public let make: String
    public let model: String
    public let serial: String
    public let aperture: Double?
    public let exposureTime: Double?
    public let iso: Int?
    public let focalLength: Double?
    public let captureTime: String?
}

struct ManifestAlignment: Codable {
    /// Row-major, source -> target in the cameras' original frames (see `Homography`).
    let homography: [Double]?
    let colourModel: ColourModel?
    let colourParameters: [Double]?
    let colourResidual: Double?
    let crop: CropRect?
    let quality: QualityFigures
}

/// One pair in `manifest.json`: what was written, where it came from, and how it was made.
struct ManifestPair: Codable {
    let name: String
    /// Role to the exported file, relative to the export folder.
    let files: [PairImageRole: String]
    /// Role to the exported file's SHA-256.
    let sha256: [PairImageRole: String]
    let width: Int
    let height: Int
    let scene: String
    let tags: [String]
    let pairKey: String
    let captureTime: String?
    let cameras: [ShotRole: ManifestShot]?
    let skew: Double?
    let alignment: ManifestAlignment
    let verdict: Verdict
    let reasons: [String]
    let review: ReviewState
    /// The pair's split in the dataset (train, test or unused).
    let split: Split
    /// SHA-256 of the dataset files the pair was made from: `aligned/<role>` and `original/<role>` (for a pair
    /// imported from a rigctl export, those that export recorded).
    let sourceFiles: [String: String]
    let origin: String
    /// Figures the catalogue holds as non-finite numbers (only a crafted one does), written as null or left out:
    /// "name: value" (see `FiniteFigures`); absent when there are none.
    let nonFinite: [String]?

    init(name: String, detail: PairDetail, written: [PairImageRole: WrittenImage]) {
        var figures = FiniteFigures()
        self.name = name
        files = written.mapValues(\.path)
        sha256 = written.mapValues(\.sha)
        width = written[.source]?.width ?? 0
        height = written[.source]?.height ?? 0
        scene = detail.scene
        tags = detail.tags
        let capture = detail.capture
        // A pair imported from a rigctl export keeps what that export recorded (see `PairProvenance`).
        let recorded = capture == nil ? detail.provenance : nil
        pairKey = recorded?.pairKey ?? detail.key
        captureTime = recorded?.captureTime
            ?? (capture?.triggerTime ?? capture?.shot(.source)?.settings.captureTime).map(ISOTime.string)
        if let recorded {
            cameras = recorded.cameras
        } else if let capture {
            var shots: [ShotRole: ManifestShot] = [:]
            for shot in capture.shots {
                let s = shot.settings
                shots[shot.role] = ManifestShot(make: shot.camera.make, model: shot.camera.model, serial: shot.camera.serial,
                                                aperture: figures.value(s.aperture, "cameras.\(shot.role.rawValue).aperture"),
                                                exposureTime: figures.value(s.exposureTime, "cameras.\(shot.role.rawValue).exposureTime"),
                                                iso: s.iso,
                                                focalLength: figures.value(s.focalLength, "cameras.\(shot.role.rawValue).focalLength"),
                                                captureTime: s.captureTime.map(ISOTime.string))
            }
            cameras = shots
        } else {
            cameras = nil
        }
        skew = recorded?.skew ?? figures.value(capture?.skew, "skew")
        let residual = figures.value(detail.colour?.residual, "alignment.colourResidual")
        alignment = ManifestAlignment(homography: detail.homography?.m, colourModel: detail.colour?.model,
                                      colourParameters: detail.colour?.parameters, colourResidual: residual,
                                      crop: detail.crop, quality: detail.quality)
        verdict = detail.verdict
        reasons = detail.reasons
        review = detail.reviewState
        split = detail.split
        var sources: [String: String] = ["aligned/source": detail.source.sha256, "aligned/target": detail.target.sha256]
        if let left = detail.left { sources["aligned/left"] = left.sha256 }
        if let right = detail.right { sources["aligned/right"] = right.sha256 }
        for shot in capture?.shots ?? [] { sources["original/\(shot.role.rawValue)"] = shot.file.sha256 }
        sourceFiles = recorded?.sourceFiles ?? sources
        origin = recorded?.origin ?? detail.origin
        nonFinite = figures.notes.isEmpty ? nil : figures.notes
    }
}

/// UTC timestamps with milliseconds, the same on every machine.
enum ISOTime {
    static func string(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}

extension Exporter {
    static let csvColumns = [
        "name", "scene", "tags", "capture_time",
        "source_camera", "source_serial", "source_aperture", "source_exposure_time", "source_iso", "source_focal_length",
        "target_camera", "target_serial", "target_aperture", "target_exposure_time", "target_iso", "target_focal_length",
        "skew", "width", "height", "homography", "colour_model", "colour_residual", "crop", "quality",
        "verdict", "review", "split", "source_sha256", "target_sha256",
        "aligned_source_sha256", "aligned_target_sha256", "original_source_sha256", "original_target_sha256",
    ]

    /// `manifest.csv`: one row per pair, RFC 4180 quoting, numbers in Swift's shortest round-trip form. Text that a
    /// spreadsheet would run as a formula (a leading `=`, `+`, `-`, `@`, tab or carriage return, as a scene name
    /// from a downloaded dataset may have) is prefixed with `'`.
    static func csv(_ pairs: [ManifestPair]) -> String {
        func field(_ raw: String) -> String {
            var value = raw
            // Numbers and lists of numbers (a homography "-0.5 1 0 ...") cannot call anything and stay as they are.
            if let first = value.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first),
               value.unicodeScalars.contains(where: { !"0123456789.eE+- ".unicodeScalars.contains($0) }) {
                value = "'" + value
            }
            guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
            return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        func number(_ value: Double?) -> String { value.map { "\($0)" } ?? "" }
        var lines = [csvColumns.joined(separator: ",")]
        for p in pairs {
            var row: [String] = [p.name, p.scene, p.tags.joined(separator: ";"), p.captureTime ?? ""]
            for role in ShotRole.allCases {
                let shot = p.cameras?[role]
                row += [shot.map { "\($0.make) \($0.model)" } ?? "", shot?.serial ?? "", number(shot?.aperture),
                        number(shot?.exposureTime), shot?.iso.map(String.init) ?? "", number(shot?.focalLength)]
            }
            let a = p.alignment
            row += [number(p.skew), "\(p.width)", "\(p.height)",
                    a.homography.map { $0.map { "\($0)" }.joined(separator: " ") } ?? "",
                    a.colourModel?.rawValue ?? "", number(a.colourResidual),
                    a.crop.map { "\($0.width)x\($0.height)+\($0.x)+\($0.y)" } ?? "",
                    a.quality.names.map { "\($0)=\(a.quality[$0] ?? 0)" }.joined(separator: ";"),
                    p.verdict.rawValue, p.review.rawValue, p.split.rawValue, p.sha256[.source] ?? "", p.sha256[.target] ?? "",
                    p.sourceFiles["aligned/source"] ?? "", p.sourceFiles["aligned/target"] ?? "",
                    p.sourceFiles["original/source"] ?? "", p.sourceFiles["original/target"] ?? ""]
            lines.append(row.map(field).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The README datasheet: what is in the set, from which cameras and apertures, and how it was aligned.
    func datasheet(_ pairs: [ManifestPair], details: [PairDetail], layout: Layout) -> String {
        var s = "# \(options.title)\n\n"
        let sizeNote = options.maxSize.map { ", long side at most \($0) pixels (area-averaged downscaling)" } ?? ""
        s += options.split == .all ? "\(pairs.count) pairs of every split, exported by rigctl in the "
            : "\(pairs.count) pairs of the `\(options.split.rawValue)` split, exported by rigctl in the "
        s += "`\(options.format.rawValue)` layout as \(options.depth)-bit RGB PNG\(sizeNote). "
        s += "Only pairs that the automatic checks accepted (or flagged for review and a person approved) and no reviewer rejected are included.\n\n"

        s += "## Contents\n\n| | |\n|---|---|\n"
        s += "| pairs | \(pairs.count) |\n| scenes | \(Set(pairs.map(\.scene)).count) |\n"
        let splits = Dictionary(grouping: pairs, by: { $0.split.rawValue }).mapValues(\.count)
        s += "| splits | \(splits.keys.sorted().map { "\($0) \(splits[$0] ?? 0)" }.joined(separator: ", ")) |\n"
        let sizes = Dictionary(grouping: pairs, by: { "\($0.width)x\($0.height)" }).mapValues(\.count)
        s += "| image sizes | \(sizes.keys.sorted().map { "\($0) (\(sizes[$0] ?? 0))" }.joined(separator: ", ")) |\n"
        let imported = pairs.filter { $0.cameras == nil }.count
        s += "| from the rig | \(pairs.count - imported) |\n| imported from other sets | \(imported) |\n\n"

        s += "## Cameras\n\n"
        var cameras: [String: Int] = [:]
        var apertures: [String: [Double: Int]] = [:]
        for p in pairs {
            for (role, shot) in p.cameras ?? [:] {
                cameras["\(role): \(shot.make) \(shot.model), serial \(shot.serial)", default: 0] += 1
                if let f = shot.aperture { apertures[role.rawValue, default: [:]][f, default: 0] += 1 }
            }
        }
        if cameras.isEmpty {
            s += "Not recorded (imported pairs carry no camera data).\n\n"
        } else {
            for key in cameras.keys.sorted() { s += "- \(key): \(cameras[key] ?? 0) pairs\n" }
            s += "\n## Apertures\n\n"
            for role in apertures.keys.sorted() {
                let counts = apertures[role] ?? [:]
                s += "- \(role): " + counts.keys.sorted().map { "f/\($0) (\(counts[$0] ?? 0))" }.joined(separator: ", ") + "\n"
            }
            s += "\n"
        }

        s += "## Alignment\n\n"
        s += "Each pair is a shallow depth-of-field `source` (the blurred input) and a deep depth-of-field `target` "
        s += "(the sharp ground truth) of the same instant. "
        if imported < pairs.count {
            s += "Pairs from the rig were shot through a beam splitter; the target was warped onto the source by a 3x3 "
            s += "homography, its colours mapped onto the source's by a colour model, and both were cropped to the area "
            s += "valid in both. The per-pair homography, colour model and parameters, crop and quality figures are in "
            s += "`manifest.json` and `manifest.csv`. "
        }
        if imported > 0 {
            s += "Imported pairs keep the alignment of the set they came from; rigctl did not re-align them."
        }
        s += "\n\n"
        let withHomography = pairs.filter { $0.alignment.homography != nil }.count
        s += "- pairs with a homography: \(withHomography) of \(pairs.count)\n"
        let models = Dictionary(grouping: pairs.compactMap { $0.alignment.colourModel?.rawValue }, by: { $0 }).mapValues(\.count)
        if !models.isEmpty {
            s += "- colour models: " + models.keys.sorted().map { "\($0) (\(models[$0] ?? 0))" }.joined(separator: ", ") + "\n"
        }
        let residuals = pairs.compactMap(\.alignment.colourResidual)
        if let summary = Self.summary(residuals) { s += "- colour residual (RMS): \(summary)\n" }
        let figureNames = Set(pairs.flatMap(\.alignment.quality.names)).sorted()
        for name in figureNames {
            if let summary = Self.summary(pairs.compactMap { $0.alignment.quality[name] }) {
                s += "- quality `\(name)`: \(summary)\n"
            }
        }
        let skews = pairs.compactMap(\.skew).map(abs)
        if let summary = Self.summary(skews) { s += "- shutter skew |s|: \(summary)\n" }
        s += "\n## Files\n\n"
        s += layout.folders.map { "- `\($0)/`" }.joined(separator: "\n") + "\n"
        s += "- `manifest.json`, `manifest.csv`: per pair the scene, capture time, camera settings, alignment figures and "
        s += "the SHA-256 of the dataset files it was made from\n"
        s += "- `SHA256SUMS`: check with `sha256sum -c SHA256SUMS`\n"
        return s
    }

    /// "min a, median b, max c" with 4 significant digits, or nil for no values.
    static func summary(_ values: [Double]) -> String? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2]
            : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        func f(_ v: Double) -> String { String(format: "%.4g", v) }
        return "min \(f(sorted[0])), median \(f(median)), max \(f(sorted[sorted.count - 1]))"
    }
}
