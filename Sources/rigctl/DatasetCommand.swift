import ArgumentParser
import DatasetBuilder
import Foundation
import PairVocabulary

struct DatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset",
        abstract: "Create, inspect, check and curate a dataset folder (catalog.sqlite plus its files).",
        subcommands: [Init.self, Status.self, List.self, Show.self, Verify.self, Review.self, Tag.self, Protocols.self, SplitCommand.self]
    )

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an empty dataset in a folder.")

        @Argument(help: "The folder to create (default: --dataset, $RIGCTL_DATASET, or the current folder).")
        var directory: String?

        @OptionGroup var location: DatasetLocation

        func run() throws {
            try reportingErrors {
                let url = directory.map { URL(fileURLWithPath: $0) } ?? location.url
                try Dataset.create(at: url)
                print("created dataset \(url.path)")
            }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Counts of pairs by verdict, split, review and scene.")

        @OptionGroup var location: DatasetLocation
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            try reportingErrors {
                let s = try location.open(readOnly: true).status()
                if json { return try printJSON(s) }
                print("captures \(s.captures), pairs \(s.pairs), scenes \(s.scenes), files \(s.files), "
                      + "models \(s.models), evaluations \(s.evaluations)")
                func line(_ title: String, _ counts: [String: Int]) {
                    let parts = counts.keys.sorted().map { "\($0) \(counts[$0] ?? 0)" }
                    print("\(title): " + (parts.isEmpty ? "-" : parts.joined(separator: ", ")))
                }
                line("verdict", s.byVerdict)
                line("split", s.bySplit)
                line("review", s.byReview)
                if !s.byScene.isEmpty {
                    print("scenes:")
                    for scene in s.byScene {
                        let split = scene.split.keys.sorted().map { "\($0) \(scene.split[$0] ?? 0)" }.joined(separator: ", ")
                        print("  \(scene.scene): \(scene.pairs) pairs, \(scene.accepted) accepted (\(split))")
                    }
                }
            }
        }
    }

    struct Filters: ParsableArguments {
        @Option(help: "Only pairs of this scene.") var scene: String?
        @Option(help: "Only pairs whose scene has this tag.") var tag: String?
        @Option(help: "Only pairs with this verdict.") var verdict: Verdict?
        @Option(help: "Only pairs of this split.") var split: Split?
        @Option(help: "Only pairs in this review state.") var review: ReviewState?
        @Option(help: "Only pairs of this capture id.") var capture: Int64?
        @Option(help: "At most this many pairs.") var limit: Int?
        @Option(help: "Skip this many pairs first.") var offset: Int = 0

        var filter: PairFilter {
            PairFilter(scene: scene, tag: tag, verdict: verdict, split: split, review: review, captureID: capture.map(CaptureID.init(rawValue:)),
                       limit: limit, offset: offset)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List pairs, one per line, with filters.")

        @OptionGroup var location: DatasetLocation
        @OptionGroup var filters: Filters
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            try reportingErrors {
                let pairs = try location.open(readOnly: true).pairs(filters.filter)
                if json { return try printJSON(pairs) }
                print("id\tkey\tscene\tname\tverdict\tsplit\treview")
                for p in pairs {
                    print("\(p.id)\t\(p.key.prefix(12))\t\(HumanFormat.field(p.scene))\t\(HumanFormat.field(p.name))\t"
                          + "\(p.verdict)\t\(p.split)\t\(p.reviewState)")
                }
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Everything the catalogue knows about one pair.")

        @OptionGroup var location: DatasetLocation
        @Argument(help: "The pair's id or key (a unique prefix of at least 6 hex digits).") var pair: String
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            try reportingErrors {
                let p = try location.open(readOnly: true).pair(pair)
                if json { return try printJSON(p) }
                print("pair \(p.id) \(p.key): \(p.name)")
                print("scene: \(p.scene)" + (p.tags.isEmpty ? "" : " [\(p.tags.joined(separator: ", "))]")
                      + (p.sceneNotes.isEmpty ? "" : " - \(p.sceneNotes)"))
                print("verdict: \(p.verdict)" + (p.reasons.isEmpty ? "" : " (\(p.reasons.joined(separator: "; ")))"))
                print("split: \(p.split), review: \(p.reviewState)" + (p.reviewNote.isEmpty ? "" : " - \(p.reviewNote)"))
                for (role, file) in [("source", p.source), ("target", p.target)] + [("left", p.left), ("right", p.right)]
                    .compactMap({ role, file in file.map { (role, $0) } }) {
                    print("\(role): \(file.path) (\(file.size) bytes, sha256 \(file.sha256))")
                }
                if let h = p.homography {
                    print("homography (source -> target):")
                    for row in HumanFormat.matrix3x3(h.m) { print(row) }
                }
                if let c = p.colour {
                    print("colour: \(c.model) " + c.parameters.map { HumanFormat.significant($0) }.joined(separator: " ")
                          + (c.residual.map { ", residual \(HumanFormat.significant($0))" } ?? ""))
                }
                if let c = p.crop { print("crop: \(c.width)x\(c.height)+\(c.x)+\(c.y)") }
                if !p.quality.isEmpty {
                    print("quality: " + p.quality.names
                        .map { "\($0) \(HumanFormat.significant(p.quality[$0] ?? 0))" }.joined(separator: ", "))
                }
                if let capture = p.capture {
                    let trigger = capture.triggerTime.map { ISO8601DateFormatter().string(from: $0) } ?? "-"
                    print("capture \(capture.id): trigger \(trigger), "
                          + "skew \(capture.skew.map { HumanFormat.fixed($0 * 1000, 2) + " ms" } ?? "-")")
                    for shot in capture.shots {
                        let s = shot.settings
                        print("  \(shot.role): \(shot.camera.make) \(shot.camera.model) #\(shot.camera.serial), "
                              + "\(s.aperture.map(HumanFormat.aperture) ?? "f/?"), \(s.exposureTime.map(HumanFormat.shutter) ?? "? s"), "
                              + "ISO \(s.iso.map(String.init) ?? "?"), "
                              + "\(s.focalLength.map { HumanFormat.significant($0, 3) + " mm" } ?? "? mm"), \(shot.file.path)")
                        for companion in shot.companions { print("    with \(companion.path)") }
                    }
                }
                if let recorded = p.provenance {
                    print("exported as pair \(recorded.pairKey) of \(recorded.origin), captured \(recorded.captureTime ?? "-")")
                    for (role, shot) in (recorded.cameras ?? [:]).sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                        print("  \(role): \(shot.make) \(shot.model) #\(shot.serial), \(shot.aperture.map(HumanFormat.aperture) ?? "f/?"), "
                              + "\(shot.exposureTime.map(HumanFormat.shutter) ?? "? s"), ISO \(shot.iso.map(String.init) ?? "?")")
                    }
                }
                for e in p.evaluations {
                    print("model \(e.model): PSNR \(HumanFormat.decibels(e.psnr)), SSIM \(HumanFormat.fixed(e.ssim, 4))"
                          + (e.ssimGaussian.map { ", SSIM (Gaussian) \(HumanFormat.fixed($0, 4))" } ?? "")
                          + (e.mae.map { ", MAE \(HumanFormat.fixed($0, 4))" } ?? "")
                          + (e.lpips.map { ", LPIPS \(HumanFormat.fixed($0, 4))" } ?? "")
                          + (e.seconds.map { ", \(HumanFormat.fixed($0, 2)) s" } ?? ""))
                    if let scoring = e.scoreProtocol { print("  protocol: \(scoring)" + (e.evaluatedAt.map { ", scored \($0)" } ?? "")) }
                    for metric in e.missing.keys.sorted() { print("  \(metric) missing: \(e.missing[metric]!)") }
                }
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every file against its recorded size and SHA-256; report missing and orphan files.",
            discussion: """
                Exits with status 1 when anything is wrong. Files of interrupted writes are removed first, when the \
                dataset can be written; a read-only dataset is checked read-only and such files are reported.
                """)

        @OptionGroup var location: DatasetLocation
        @Flag(help: "Check sizes only, not hashes.") var quick = false
        @Flag(help: "Print JSON (the exit status is still 1 when anything is wrong).") var json = false

        func run() throws {
            let consistent = try reportingErrors {
                // A dataset on a read-only mount (or another user's) is still checked: read-only, reporting leftovers.
                let writable = access(location.url.path, W_OK) == 0
                let dataset: Dataset
                do {
                    dataset = try location.open(readOnly: !writable)
                } catch DatasetError.newerCatalogue {
                    // A newer rigctl's catalogue is checked read-only (the open says so), never written.
                    dataset = try location.open(readOnly: true)
                }
                let report = try dataset.verify(hashes: !quick)
                if json {
                    try printJSON(VerifyJSON(report, hashes: !quick))
                    return report.isConsistent
                }
                let mib = Double(report.checkedBytes) / 1_048_576
                print("checked \(report.checkedFiles) files (\(String(format: "%.1f", mib)) MiB)")
                for path in report.missing { print("missing: \(path)") }
                for m in report.mismatched { print("changed: \(m.path): expected \(m.expected), found \(m.actual)") }
                for path in report.orphans { print("orphan: \(path)") }
                for path in report.unsafe { print("unsafe: \(path) (a link or special file; not followed)") }
                for path in report.pending { print("pending: \(path)") }
                for problem in report.databaseProblems { print("database: \(problem)") }
                print(report.isConsistent ? "consistent" : "NOT consistent")
                return report.isConsistent
            }
            if !consistent { throw ExitCode(ExitStatus.failure) }
        }
    }

    struct Review: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record a person's judgement of a pair.")

        @OptionGroup var location: DatasetLocation
        @Argument(help: "The pair's id or key.") var pair: String
        @Option(help: "The judgement; rejected pairs are never exported.")
        var state: ReviewState
        @Option(help: "A note to keep with the judgement.") var note: String?

        func run() throws {
            try reportingErrors {
                let dataset = try location.open()
                try dataset.review(pair: pair, state: state, note: note)
                print("pair \(pair): \(state.rawValue)")
            }
        }
    }

    struct Tag: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Tag a scene (indoor, outdoor, ...): its pairs carry the tag, and `evaluate --by tag` tables by it.")

        @OptionGroup var location: DatasetLocation
        @Argument(help: "The scene's name.") var scene: String
        @Argument(help: "Tags to add (or, with --remove, to remove).") var tags: [String]
        @Flag(help: "Remove the tags instead of adding them.") var remove = false

        func run() throws {
            try reportingErrors {
                let now = try location.open().tag(scene: scene, add: remove ? [] : tags, remove: remove ? tags : [])
                print("scene \(scene): " + (now.isEmpty ? "no tags" : now.joined(separator: ", ")))
            }
        }
    }

    struct Protocols: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show or set the evaluation protocols capture and `process` score every pair in.",
            discussion: """
                With no names, prints the protocols (the default, when none is set, is dpdd: the whole image at \
                the stored pairs' bit depth). Given names (ifan, dpdd, realblur, basicsr-y, pyiqa-y, pyiqa-y-downsample), each new pair gets a score row in \
                each, the first being the one progress lines show; the model runs once per pair. Pairs scored \
                before get the new protocols' rows from the next `rigctl process`. See docs/metrics.md.
                """)

        @OptionGroup var location: DatasetLocation
        @Argument(help: "Protocols, in order: names separated by commas or spaces (ifan, dpdd, realblur, basicsr-y, pyiqa-y, pyiqa-y-downsample).")
        var names: [String] = []

        func run() throws {
            try reportingErrors {
                if names.isEmpty {
                    let dataset = try location.open(readOnly: true)
                    let chosen = try dataset.scoringProtocols()
                    let set = try dataset.configuresScoringProtocols()
                    print("scoring protocols: " + chosen.map(\.rawValue).joined(separator: ", ") + (set ? "" : " (the default)"))
                    return
                }
                let parsed: [EvaluationProtocol]
                switch EvaluationProtocol.list(names.joined(separator: ",")) {
                case .success(let list): parsed = list
                case .failure(let error): throw ValidationError("\(error)")
                }
                let dataset = try location.open()
                try dataset.setScoringProtocols(parsed)
                print("scoring protocols: " + parsed.map(\.rawValue).joined(separator: ", ")
                      + "; `rigctl process` adds their scores to the pairs scored before")
            }
        }
    }

    struct SplitCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "split",
            abstract: "Assign pairs to train and test by scene, deterministically.",
            discussion: """
                Each scene goes to test when a hash of the seed and its name falls below the fraction, so a scene never \
                lands on both sides and adding scenes later never moves existing ones. Rejected pairs become unused.
                """)

        @OptionGroup var location: DatasetLocation
        @Option(help: "The share of scenes that go to test.") var testFraction: Double?
        @Flag(help: "Every usable pair goes to test: a benchmark that is a test set only, as RealDOF is.")
        var allTest = false
        @Option(help: "Changes the assignment; keep it fixed for a benchmark's lifetime.") var seed = "rigctl"

        func validate() throws {
            if allTest, testFraction != nil { throw ValidationError("give --all-test or --test-fraction, not both") }
        }

        func run() throws {
            let fraction = allTest ? 1 : testFraction ?? 0.2
            try reportingErrors {
                let report = try location.open().assignSplit(testFraction: fraction, seed: seed)
                print("test: \(report.testScenes.count) scenes, train: \(report.trainScenes.count) scenes")
                print("pairs: " + report.pairsBySplit.keys.sorted().map { "\($0) \(report.pairsBySplit[$0] ?? 0)" }
                    .joined(separator: ", "))
                if report.testIsEmpty {
                    let scenes = report.trainScenes.count
                    let message = "rigctl: warning: no scene went to test: each of the \(scenes) scene(s) goes there "
                        + "with chance \(fraction), and none did; `evaluate` would find nothing. Capture or import more "
                        + "scenes, raise --test-fraction, choose another --seed (and keep it), or give --all-test for "
                        + "a benchmark that is a test set only\n"
                    FileHandle.standardError.write(Data(message.utf8))
                    throw ExitCode.failure
                }
            }
        }
    }
}
