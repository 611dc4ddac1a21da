import ArgumentParser
import DatasetBuilder
import Foundation
import PairVocabulary

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Catalogue an existing pair set (RealDOF, DPDD or one folder per pair) into a dataset.",
        discussion: """
            realdof: DIR/source/NAME and DIR/target/NAME. dpdd: DIR/test_c/source/NAME and DIR/test_c/target/NAME, with \
            DIR/test_l/source/NAME and DIR/test_r/source/NAME when present. pairs: DIR/NAME/source.EXT and \
            DIR/NAME/target.EXT. Files are matched by name; unmatched files are reported and skipped. Importing again \
            adds nothing (pairs are recognised by their files' hashes).
            """)

    @Argument(help: "The folder to import.") var directory: String
    @Option(help: "The folder layout of DIR.") var layout: ImportLayout
    @OptionGroup var location: DatasetLocation
    @Flag(name: .customLong("init"), help: "Create the dataset if the folder holds none (default: it must exist).")
    var initDataset = false
    @Option(help: "Put every pair in this scene (default: each pair is its own scene, named after the file).")
    var scene: String?
    @Option(help: "A tag for the scenes (repeatable).") var tag: [String] = []
    @Option(help: "The split the pairs join (default: test, or for a rigctl export the split each pair had).") var split: Split?
    @Flag(help: "Print JSON: dataset, added, alreadyPresent, mismatches, refused, skipped (pair names or problems).")
    var json = false

    func run() throws {
        try reportingErrors {
            let dataset = try location.open(creating: initDataset)
            let importer = Importer(layout: layout, scene: scene, tags: tag, split: split)
            let report = try importer.run(from: URL(fileURLWithPath: directory), into: dataset)
            for problem in report.mismatches {
                FileHandle.standardError.write(Data("rigctl: mismatch: \(problem)\n".utf8))
            }
            for problem in report.refused {
                FileHandle.standardError.write(Data("rigctl: not imported: \(problem)\n".utf8))
            }
            for file in report.skipped {
                FileHandle.standardError.write(Data("rigctl: skipped: \(file)\n".utf8))
            }
            if let note = report.manifestNote { FileHandle.standardError.write(Data("rigctl: note: \(note)\n".utf8)) }
            if json { return try printJSON(ImportJSON(report, dataset: dataset.root)) }
            print("imported \(report.added.count) pairs, \(report.alreadyPresent.count) already present, "
                  + "\(report.mismatches.count) mismatches"
                  + (report.refused.isEmpty ? "" : ", \(report.refused.count) refused (unreadable or unsafe files)")
                  + (report.skipped.isEmpty ? "" : ", \(report.skipped.count) hidden files skipped")
                  + (report.fromManifest == 0 ? "" : "; \(report.fromManifest) with the scene, split, verdict and alignment "
                     + "their export's manifest.json records"))
        }
    }
}
