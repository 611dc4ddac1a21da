import ArgumentParser
import DatasetBuilder
import Evaluation
import Foundation
import IFANEngine
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
            Without SET, the accepted pairs of a dataset's catalogue are evaluated (--dataset, --split) and every \
            per-pair score is kept in the catalogue. Methods: the input itself (the tables' first row), the IFAN \
            engine with any imported weights (--model, repeatable), and folders of other methods' outputs \
            (--results DIR --name NAME, repeatable). Images are cropped bottom/right to multiples of 8 as the IFAN \
            paper's evaluation does (--no-crop to score whole images).
            """
    )

    @Argument(help: "The test set folder (omit to evaluate a dataset's catalogue).")
    var set: String?

    @Option(help: "The dataset whose accepted pairs are evaluated (default: $RIGCTL_DATASET, else the current folder).")
    var dataset: String?

    @Option(help: "With a dataset: the split to evaluate (train, test or unused; default: all accepted pairs).")
    var split: Split?

    @Option(name: .customLong("model"), help: "A deblurring model: a store name or a .safetensors file (repeatable).")
    var models: [String] = []

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

    @Flag(help: "Show each model's tiles and stages within an image on standard error even when it is not a terminal.")
    var progress = false

    func validate() throws {
        guard resultsFolders.count == resultNames.count else {
            throw ValidationError("give one --name for each --results folder (\(resultsFolders.count) folders, \(resultNames.count) names)")
        }
        if noInput && resultsFolders.isEmpty && models.isEmpty { throw ValidationError("nothing to evaluate: no method given") }
        if set != nil && dataset != nil { throw ValidationError("give either a SET folder or --dataset, not both") }
    }

    func run() throws {
        try reportingErrors {
            var weightFiles: [String: URL] = [:]
            var methods: [any RestorationMethod] = noInput ? [] : [InputMethod()]
            for model in models {
                let (name, url) = try resolveModel(model, store: ModelStore())
                let network = try IFANModelFile.load(url)
                let complexity = ModelComplexity(parameters: network.architecture.parameterCount,
                                                 macs: Double(network.architecture.ptflopsMACs(width: 1280, height: 720)))
                methods.append(DeblurrerMethod(IFANDeblurrer(name: name, network: network), complexity: complexity))
                weightFiles[name] = url
            }
            for (folder, name) in zip(resultsFolders, resultNames) {
                methods.append(ResultsFolderMethod(name: name, folder: URL(fileURLWithPath: folder)))
            }
            try evaluate(methods: methods, weightFiles: weightFiles)
        }
    }

    func evaluate(methods: [any RestorationMethod], weightFiles: [String: URL]) throws {
        let catalogue = try set == nil ? openCatalogue() : nil
        let pairs = try catalogue?.pairs ?? PairFolder.pairs(in: URL(fileURLWithPath: set ?? "."), layout: layout)
        let lpips = try LPIPSLoader.load(path: lpipsWeights)
        let evaluator = Evaluator(methods: methods, lpips: lpips, cropToMultipleOf8: !noCrop)
        let writer = try report.map { try HTMLReportWriter(folder: URL(fileURLWithPath: $0), title: "rigctl evaluation: \(URL(fileURLWithPath: set ?? catalogue!.dataset.root.path).lastPathComponent)") }
        let pairProgress = ProgressLine(label: "evaluating")
        let within = ImageProgressLine(label: "", requested: progress)
        let names = pairs.map(\.name)
        let result = try evaluator.run(pairs: pairs, progress: pairProgress.update, imageProgress: within.map { line in
            { @Sendable index, method, p in line.show(p, prefix: "evaluating [\(index + 1)/\(names.count)] \(names[index]) \(method)") }
        }, observe: { try writer?.add($0) })
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
        if let catalogue { try catalogue.record(result, weightFiles: weightFiles) }
    }

    func openCatalogue() throws -> CatalogueSet {
        var location = DatasetLocation()
        location.dataset = dataset
        let opened = try location.open()
        var filter = PairFilter()
        filter.split = split
        let summaries = try opened.pairs(filter).filter { $0.verdict != Verdict.rejected.rawValue }
        var pairs: [ImagePair] = []
        var ids: [String: Int64] = [:]
        for summary in summaries {
            let detail = try opened.pair(String(summary.id))
            guard detail.reviewState != ReviewState.rejected.rawValue else { continue }
            let name = "\(detail.id)-\(detail.name)"
            pairs.append(ImagePair(name: name, source: try opened.url(of: detail.source), target: try opened.url(of: detail.target)))
            ids[name] = detail.id
        }
        guard !pairs.isEmpty else { throw EvaluationError.noPairs }
        return CatalogueSet(dataset: opened, pairs: pairs, ids: ids)
    }
}

/// A dataset's pairs under evaluation, and where their scores go back.
struct CatalogueSet {
    let dataset: Dataset
    let pairs: [ImagePair]
    let ids: [String: Int64]

    /// Keeps every per-pair score in the catalogue, each method as a model (baselines without weights).
    func record(_ report: EvaluationReport, weightFiles: [String: URL]) throws {
        var modelIDs: [String: Int64] = [:]
        for method in report.methods {
            let name = method.name == InputMethod().name ? "input" : method.name
            modelIDs[method.name] = try dataset.registerModel(ModelInput(
                name: name, weights: weightFiles[method.name],
                parameterCount: method.complexity?.parameters.map(Int64.init),
                macs: method.complexity?.macs.map { Int64($0) })).id
        }
        for result in report.results {
            guard let pairID = ids[result.pair], let modelID = modelIDs[result.method] else { continue }
            let s = result.scores
            guard s.psnr.isFinite else {
                // An output identical to its target: the catalogue keeps finite scores only.
                FileHandle.standardError.write(Data("rigctl: note: \(result.method) reproduces pair \(result.pair) exactly (PSNR inf); not recorded\n".utf8))
                continue
            }
            try dataset.recordEvaluation(EvaluationInput(pairID: pairID, modelID: modelID, psnr: s.psnr,
                                                         ssim: s.ssim, ssimGaussian: s.ssimGaussian, mae: s.mae,
                                                         lpips: s.lpips, seconds: result.seconds))
        }
        print("scores of \(report.results.count) pair(s) x method(s) recorded in \(dataset.root.path)")
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
