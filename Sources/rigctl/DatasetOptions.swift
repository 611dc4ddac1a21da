import ArgumentParser
import DatasetBuilder
import Foundation
import PairVocabulary

/// `--dataset DIR`, shared by every command that works on a dataset.
struct DatasetLocation: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The dataset folder.", discussion:
        "Default: $RIGCTL_DATASET, else the current folder.", valueName: "dir"))
    var dataset: String?

    var url: URL {
        if let dataset { return URL(fileURLWithPath: dataset) }
        if let env = ProcessInfo.processInfo.environment["RIGCTL_DATASET"], !env.isEmpty {
            return URL(fileURLWithPath: env)
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }

    /// Opens the dataset; with `create` (the command's explicit `--init`) a folder without one gets a new, empty
    /// dataset. Without it a missing dataset is an error: only `dataset init` and `--init` ever create one.
    func open(creating create: Bool) throws -> Dataset {
        do {
            return try open()
        } catch DatasetError.notADataset(let path) {
            guard create else {
                throw BadInput("\(path) is not a dataset (no catalog.sqlite); create one with `rigctl dataset init \(path)`, "
                               + "or pass --init to create it")
            }
            return try Dataset.create(at: url)
        }
    }

    func open(readOnly: Bool = false) throws -> Dataset {
        let dataset = try Dataset.open(at: url, readOnly: readOnly)
        for path in dataset.recoveredFiles {
            FileHandle.standardError.write(Data("rigctl: removed \(path), left by an interrupted write\n".utf8))
        }
        if let newer = dataset.newerCatalogue {
            FileHandle.standardError.write(Data(("rigctl: note: \(dataset.root.path)/\(Dataset.catalogName) was written by a "
                + "newer rigctl (\(newer)); reading it only, nothing is written\n").utf8))
        }
        return dataset
    }
}

extension Verdict: ExpressibleByArgument {}
extension Split: ExpressibleByArgument {}
extension EvaluationProtocol: ExpressibleByArgument {}
extension ReviewState: ExpressibleByArgument {}
extension ImportLayout: ExpressibleByArgument {}
extension ExportFormat: ExpressibleByArgument {}
extension SplitSelection: ExpressibleByArgument {}

/// JSON for `--json` output: sorted keys and ISO 8601 dates, so scripts can diff it.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// A mistake in what the user asked for, said in one sentence (exit status 2).
struct BadInput: Error, ClassifiedError, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
    var isBadInput: Bool { true }
}
