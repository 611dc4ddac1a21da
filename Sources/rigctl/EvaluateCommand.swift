import ArgumentParser
import Evaluation
import Foundation
import Imaging
import Metrics
import NeuralCore

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Score methods on a test set and print the paper's results table.",
        discussion: """
            SET is a folder in the RealDOF layout (source/, target/) or the DPDD layout (test_c/source, \
            test_c/target); pairs are matched by file name, and a set whose names do not match is an error. \
            Methods: the input itself (the tables' first row), and folders of other methods' outputs \
            (--results DIR --name NAME, repeatable). Images are cropped bottom/right to multiples of 8 as the IFAN \
            paper's evaluation does (--no-crop to score whole images).
            """
    )

    @Argument(help: "The test set folder.")
    var set: String

    @Option(help: "Folder layout: realdof or dpdd (default: detected).")
    var layout: PairLayout?

    @Option(name: .customLong("results"), help: "A folder with another method's outputs, named like the pairs (repeatable).")
    var resultsFolders: [String] = []

    @Option(name: .customLong("name"), help: "The name of each --results method, in the same order.")
    var resultNames: [String] = []

    @Flag(name: .customLong("no-input"), help: "Leave out the input row.")
    var noInput = false

    @Flag(name: .customLong("no-crop"), help: "Score whole images instead of cropping to multiples of 8.")
    var noCrop = false

    @Option(help: "Table format: text, markdown, csv, latex or json.")
    var format: TableFormat = .text

    @Option(name: .shortAndLong, help: "Write the table to this file instead of standard output.")
    var output: String?

    @Option(help: "Write every per-pair score as JSON to this file.")
    var scores: String?

    @Option(help: "Write a static HTML report (table, per-pair scores, side-by-side pictures) into this folder.")
    var report: String?

    @Option(help: "LPIPS weights (safetensors) instead of the installed lpips-alex model.")
    var lpipsWeights: String?

    func validate() throws {
        guard resultsFolders.count == resultNames.count else {
            throw ValidationError("give one --name for each --results folder (\(resultsFolders.count) folders, \(resultNames.count) names)")
        }
        if noInput && resultsFolders.isEmpty { throw ValidationError("nothing to evaluate: no method given") }
    }

    func run() throws {
        try reportingErrors {
            var methods: [any RestorationMethod] = noInput ? [] : [InputMethod()]
            for (folder, name) in zip(resultsFolders, resultNames) {
                methods.append(ResultsFolderMethod(name: name, folder: URL(fileURLWithPath: folder)))
            }
            try evaluate(methods: methods)
        }
    }

    func evaluate(methods: [any RestorationMethod]) throws {
        let pairs = try PairFolder.pairs(in: URL(fileURLWithPath: set), layout: layout)
        let lpips = try LPIPSLoader.load(path: lpipsWeights)
        let evaluator = Evaluator(methods: methods, lpips: lpips, cropToMultipleOf8: !noCrop)
        let writer = try report.map { try HTMLReportWriter(folder: URL(fileURLWithPath: $0), title: "rigctl evaluation: \(URL(fileURLWithPath: set).lastPathComponent)") }
        let progress = ProgressLine(label: "evaluating")
        let result = try evaluator.run(pairs: pairs, progress: progress.update, observe: { try writer?.add($0) })
        try writer?.finish(result)

        let table = try ResultsTable(rows: result.methods).render(format)
        if let output {
            try AtomicFile.write(Data(table.utf8), to: URL(fileURLWithPath: output))
        } else {
            print(table, terminator: "")
        }
        if let scores {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try AtomicFile.write(try encoder.encode(result), to: URL(fileURLWithPath: scores))
        }
        if let report { FileHandle.standardError.write(Data("report: \(report)/index.html\n".utf8)) }
    }
}

extension PairLayout: ExpressibleByArgument {}
extension TableFormat: ExpressibleByArgument {}

/// Loads the LPIPS network from a given file or the model store; without weights it says once how to install
/// them and the evaluation goes on without LPIPS.
enum LPIPSLoader {
    static func load(path: String?) throws -> LPIPS? {
        if let path { return try LPIPS(contentsOf: URL(fileURLWithPath: path)) }
        let url = ModelStore().url(forModel: LPIPS.modelName)
        if FileManager.default.fileExists(atPath: url.path) { return try LPIPS(contentsOf: url) }
        FileHandle.standardError.write(Data("""
            rigctl: note: LPIPS weights are not installed (\(url.path)); LPIPS is left out. \
            Install them with script/fetch-lpips-weights.

            """.utf8))
        return nil
    }
}

extension PairFolderError: ClassifiedError { var isBadInput: Bool { true } }
extension ResultsFolderError: ClassifiedError { var isBadInput: Bool { true } }
extension EvaluationError: ClassifiedError { var isBadInput: Bool { true } }
