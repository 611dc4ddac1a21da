import ArgumentParser
import DatasetBuilder
import Foundation
import PairVocabulary

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the accepted pairs of a split as a test set with manifests, checksums and a datasheet.",
        discussion: """
            Only pairs the checks accepted and no reviewer rejected are written. The output is deterministic: exporting \
            twice gives byte-identical files. An existing --out folder is replaced only if it is empty or an earlier \
            export. An export that would hold no pair is an error that says where the pairs are (for example \
            captured pairs that `rigctl dataset split` has not assigned yet).
            """)

    @OptionGroup var location: DatasetLocation
    @Option(help: "The folder to write.") var out: String
    @Option(help: "The pairs to take: test, train, unused, or all (every exportable pair, whatever its split).")
    var split: SplitSelection = .only(.test)
    @Option(help: "The folder layout.") var format: ExportFormat = .realdof
    @Option(help: "Bits per sample: 8 or 16.") var depth: Int = 8
    @Option(help: "Downscale so that the long side is at most this many pixels.") var maxSize: Int?
    @Option(help: "The datasheet's title.") var title = "rigctl defocus-deblurring test set"
    @Flag(help: "Print JSON: folder, pairs, files.") var json = false

    func validate() throws {
        guard depth == 8 || depth == 16 else { throw ValidationError("--depth must be 8 or 16, not \(depth)") }
        if let maxSize, maxSize < 8 { throw ValidationError("--max-size must be at least 8, not \(maxSize)") }
    }

    func run() throws {
        try reportingErrors {
            let dataset = try location.open(readOnly: true)
            let options = ExportOptions(format: format, split: split, depth: depth, maxSize: maxSize, title: title)
            let report = try Exporter(options: options).run(from: dataset, to: URL(fileURLWithPath: out))
            if json { return try printJSON(ExportJSON(report)) }
            print("exported \(report.pairs) pairs (\(report.files.count) files) to \(report.folder.path)")
        }
    }
}
