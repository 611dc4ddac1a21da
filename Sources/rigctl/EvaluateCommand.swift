import ArgumentParser
import AtomicFiles
import DatasetBuilder
import Evaluation
import Foundation
import IFANEngine
import Imaging
import Metrics
import NeuralCore
import PairVocabulary
import Pipeline

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Score methods on a test set and print the paper's results table.",
        discussion: """
            SET is a folder in the RealDOF layout (source/, target/) or the DPDD layout (test_c/source, \
            test_c/target); pairs are matched by file name, and a set whose names do not match is an error. \
            Without SET, the accepted pairs of one split of a dataset's catalogue are evaluated (--dataset; \
            --split, default test, so train and test are never mixed unless --split all asks for it) and every \
            per-pair score is kept in the catalogue. Methods: the input itself (the tables' first row), the IFAN \
            engine with any imported weights (--model, repeatable; --model-name names each, in the same order, \
            default its store or file name), and folders of other methods' outputs (--results DIR --name NAME, \
            repeatable). A name the catalogue already gives other weights is refused before anything runs. --protocol names the \
            published evaluation(s) to reproduce: ifan (the default: cropped bottom/right to multiples of 8, as \
            IFAN's eval.py), dpdd (whole images, as DPDNet's metrics.py; --no-crop says the same) or realblur \
            (each output gain-matched and aligned to the ground truth by an ECC homography before PSNR and \
            Gaussian SSIM over the valid region, as RealBlur's evaluation script) or basicsr-y (PSNR and \
            Gaussian SSIM on the BT.601 luma, as BasicSR's test_y_channel) or pyiqa-y (PSNR and Gaussian \
            SSIM on the YIQ luma, as IQA-PyTorch's psnry and ssim) or pyiqa-y-downsample (the same, its SSIM \
            after IQA-PyTorch's MATLAB-style downsampling); several, \
            comma-separated, give one table each. In a dataset every score row records its \
            protocol (framing, bit depth, SSIM, LPIPS, rigctl release) and date; another protocol adds rows \
            rather than replacing the capture pipeline's whole-image ones, and a model's output kept from an \
            earlier run of the same weights (by SHA-256) is scored instead of running the model again (--rerun).
            """
    )

    @Argument(help: "The test set folder (omit to evaluate a dataset's catalogue).")
    var set: String?

    /// The dataset whose accepted pairs are evaluated when no SET is given.
    @OptionGroup var location: DatasetLocation

    @Option(help: "Default: test (a dataset's split to evaluate; train and test are never mixed unasked); or train, unused, all (every usable pair).")
    var split: SplitSelection = .only(.test)

    @Option(name: .customLong("model"), help: "A deblurring model: a store name or a .safetensors file (repeatable).")
    var models: [String] = []

    @Option(name: .customLong("model-name"), help: "The name of each --model in the table and catalogue, in the same order.")
    var modelNames: [String] = []

    @Option(help: "Folder layout: realdof or dpdd (default: detected).")
    var layout: PairLayout?

    @Option(name: .customLong("results"), help: "A folder with another method's outputs, named like the pairs (repeatable).")
    var resultsFolders: [String] = []

    @Option(name: .customLong("name"), help: "The name of each --results method, in the same order.")
    var resultNames: [String] = []

    @Flag(name: .customLong("no-input"), help: "Leave out the input row.")
    var noInput = false

    @Flag(name: .customLong("no-crop"), help: "Score whole images instead of cropping to multiples of 8 (the same as --protocol dpdd).")
    var noCrop = false

    @Option(help: "With a dataset: also a table per scene, scene tag (`dataset tag`) or camera pair: scene, tag or cameras.")
    var by: SubsetKey?

    @Option(name: .customLong("compare"), help: "The row every other row is compared with (difference and its 95% interval, paired bootstrap over scenes); default: the input.")
    var reference: String?

    @Option(name: .customLong("protocol"), help: "Evaluation protocol(s), separated by commas: ifan (the default; IFAN's eval.py, cropped to multiples of 8), dpdd (DPDNet's metrics.py, whole images) realblur (RealBlur's script: outputs gain-matched and aligned by ECC first) basicsr-y (BasicSR's test_y_channel: PSNR and SSIM on the BT.601 luma) pyiqa-y (IQA-PyTorch's psnry and ssim: on the YIQ luma) or pyiqa-y-downsample (the same, SSIM downsampled first); several give one table each.")
    var protocolList: String?

    /// The protocols asked for, in order.
    var protocols: [EvaluationProtocol] {
        guard let protocolList else { return [noCrop ? .dpdd : .ifan] }
        return (try? EvaluationProtocol.list(protocolList).get()) ?? []
    }

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

    @Flag(help: "With a dataset: run every model again instead of reusing the output its weights already made (scores of the same protocol are replaced; stored outputs are kept).")
    var rerun = false

    func validate() throws {
        guard resultsFolders.count == resultNames.count else {
            throw ValidationError("give one --name for each --results folder (\(resultsFolders.count) folders, \(resultNames.count) names)")
        }
        if noInput && resultsFolders.isEmpty && models.isEmpty { throw ValidationError("nothing to evaluate: no method given") }
        if !modelNames.isEmpty && modelNames.count != models.count {
            throw ValidationError("give one --model-name for each --model (\(models.count) models, \(modelNames.count) names)")
        }
        try validateMethodNames()
        if set != nil && location.dataset != nil { throw ValidationError("give either a SET folder or --dataset, not both") }
        if set != nil && rerun { throw ValidationError("--rerun applies to a dataset, whose stored outputs are reused") }
        if set != nil && by != nil { throw ValidationError("--by needs a dataset (a folder set has no scenes, tags or cameras)") }
        if let protocolList {
            if case .failure(let error) = EvaluationProtocol.list(protocolList) { throw ValidationError("--protocol: \(error)") }
            if noCrop { throw ValidationError("give either --no-crop or --protocol (--no-crop is --protocol dpdd)") }
        }
    }

    func run() throws {
        try reportingErrors {
            if set == nil { return try evaluateDataset() }
            var methods: [any RestorationMethod] = noInput ? [] : [InputMethod()]
            var weightFiles: [String: URL] = [:]
            for (index, model) in models.enumerated() {
                let (name, url) = try resolveModel(model, name: modelNames.isEmpty ? nil : modelNames[index], store: ModelStore())
                methods.append(try DeblurModel.ifan(name: name, weights: url))
                weightFiles[name] = url
            }
            for (folder, name) in zip(resultsFolders, resultNames) {
                methods.append(ResultsFolderMethod(name: name, folder: URL(fileURLWithPath: folder)))
            }
            try checkReference(methods.map(\.name))
            let pairs = try PairFolder.pairs(in: URL(fileURLWithPath: set ?? "."), layout: layout)
            let lpips = try LPIPSLoader.loadTellingWhy(path: lpipsWeights)
            let writer = try reportWriter(evaluated: URL(fileURLWithPath: set ?? ".").lastPathComponent, split: nil,
                                          weightFiles: weightFiles, pairs: [:])
            // Ctrl-C stops after the pairs in hand; the command then exits with status 130.
            let interrupt = InterruptHandler {
                FileHandle.standardError.write(Data("\nrigctl: stopping after the pairs in hand (Ctrl-C again to quit at once)\n".utf8))
            }
            let names = pairs.map(\.name)
            let stop = interrupt.stop
            var results: [EvaluationReport] = []
            // One run per protocol (each frames the input before the methods run, as its official code does); the
            // report's pictures come from the first.
            for named in protocols {
                var evaluator = Evaluator(methods: methods, protocol: named, lpips: lpips.network)
                evaluator.reference = reference
                let pairProgress = ProgressLine(label: protocols.count > 1 ? "evaluating (\(named))" : "evaluating")
                let within = ImageProgressLine(label: "", requested: progress)
                let observed = results.isEmpty ? writer : nil
                results.append(try evaluator.run(pairs: pairs, isCancelled: { stop.isRequested }, progress: pairProgress.update, imageProgress: within.map { line in
                    { @Sendable index, method, p in line.show(p, prefix: "evaluating [\(index + 1)/\(names.count)] \(names[index]) \(method)") }
                }, observe: { try observed?.add($0) }))
            }
            try writer?.finish(results[0], others: Array(results.dropFirst()))
            try write(results)
        }
    }

    /// A dataset's accepted pairs, scored through the pipeline's `PairScorer`: every score is kept in the
    /// catalogue with its protocol, and a model's stored output is reused unless --rerun.
    func evaluateDataset() throws {
        let (opened, pairs) = try openCatalogue()
        var methods: [any RestorationMethod] = noInput ? [] : [InputMethod()]
        var weightFiles: [String: URL] = [:]
        for (index, model) in models.enumerated() {
            let (name, url) = try resolveModel(model, name: modelNames.isEmpty ? nil : modelNames[index], store: ModelStore())
            // Before any work: a name the catalogue gives other weights would be refused only once everything had run.
            try checkModelName(name, weights: url, in: opened)
            methods.append(try DeblurModel.ifan(name: name, weights: url))
            weightFiles[name] = url
        }
        for (folder, name) in zip(resultsFolders, resultNames) {
            try checkModelName(name, weights: nil, in: opened)
            methods.append(ResultsFolderMethod(name: name, folder: URL(fileURLWithPath: folder)))
        }
        try checkReference(methods.map(\.name))
        let lpips = try LPIPSLoader.loadTellingWhy(path: lpipsWeights)
        // Pairs are named "<id>-<name>" in the results (CatalogueEvaluation); the report shows their scene and split.
        var info: [String: ReportContext.PairInfo] = [:]
        for pair in pairs { info[CatalogueEvaluation.resultName(of: pair)] = ReportContext.PairInfo(scene: pair.scene, split: pair.split.rawValue) }
        let writer = try reportWriter(evaluated: opened.root.lastPathComponent,
                                      split: split == .all ? "all (every usable pair)" : split.rawValue,
                                      weightFiles: weightFiles, pairs: info)
        // Ctrl-C stops after the pair in hand, whose scores are recorded whole; the command then exits with 130.
        let interrupt = InterruptHandler {
            FileHandle.standardError.write(Data("\nrigctl: stopping after the pair in hand (Ctrl-C again to quit at once)\n".utf8))
        }
        let stop = interrupt.stop
        var results: [EvaluationReport] = []
        var lines: [String] = []
        // One run per protocol: without --rerun a model runs at most once and later protocols score the output the
        // first kept; with --rerun each protocol runs it again, so that no protocol keeps a row of the older output.
        for named in protocols {
            let scorer = PairScorer(dataset: opened, protocol: named, lpips: lpips.network,
                                    lpipsMissingReason: lpips.missingReason ?? "", rerun: rerun)
            let progress = ProgressLine(label: protocols.count > 1 ? "evaluating (\(named))" : "evaluating")
            let observed = results.isEmpty ? writer : nil
            var evaluation = CatalogueEvaluation(scorer: scorer, methods: methods)
            evaluation.reference = reference
            evaluation.by = by
            let (result, counts) = try evaluation.run(pairs: pairs, keepImages: observed != nil, isCancelled: { stop.isRequested }, progress: progress.update,
                     observe: { try observed?.add($0) })
            results.append(result)
            let prefix = protocols.count > 1 ? "\(named): " : ""
            for method in methods.map(\.name) {
                let parts = [("already scored", counts.recorded[method]), ("stored output(s) reused", counts.storedOutputs[method]),
                             ("scored anew", counts.ran[method])].compactMap { label, n in n.map { "\($0) \(label)" } }
                lines.append(prefix + "\(method): " + parts.joined(separator: ", "))
            }
            for note in counts.notRecorded { lines.append("note: \(note) reproduces the target exactly (PSNR inf); not recorded") }
            for (reason, n) in counts.missing.sorted(by: { $0.key < $1.key }) { lines.append(prefix + "missing \(reason) (\(n) score(s))") }
            lines.append("scores recorded in \(opened.root.path) under the protocol: \(result.scoreProtocol.map(String.init(describing:)) ?? "")")
        }
        try writer?.finish(results[0], others: Array(results.dropFirst()))
        try write(results)
        FileHandle.standardError.write(Data(lines.map { "rigctl: " + $0 + "\n" }.joined().utf8))
    }

    /// `--compare` must name a row of the table.
    func checkReference(_ names: [String]) throws {
        if let reference, !names.contains(reference) {
            throw BadInput("--compare \(reference): no such row (the rows are \(names.joined(separator: ", ")))")
        }
    }

    /// The --report writer, its header filled in: date, version, what was evaluated, and the SHA-256 of every
    /// model's weights (so a published table names exactly what ran).
    func reportWriter(evaluated: String, split: String?, weightFiles: [String: URL],
                      pairs: [String: ReportContext.PairInfo]) throws -> HTMLReportWriter? {
        guard let report else { return nil }
        let writer = try HTMLReportWriter(folder: URL(fileURLWithPath: report), title: "rigctl evaluation: \(evaluated)")
        var weights: [String: String] = [:]
        for (name, url) in weightFiles { weights[name] = try SHA256Hex.ofFile(url).sha256 }
        writer.context = ReportContext(date: Date(), version: String(RigctlVersion.string.prefix { $0 != "\n" }),
                                       dataset: evaluated, split: split, weights: weights, pairs: pairs)
        return writer
    }

    /// The table on standard output (or --output), the per-pair scores with --scores.
    /// Several protocols make one table each (CSV and JSON: one list with the protocol a column) and a JSON array
    /// of their reports in --scores.
    func write(_ results: [EvaluationReport]) throws {
        let table = try ResultsTable(rows: results.flatMap { $0.methods + $0.subsets }).render(format)
        if let output {
            try AtomicFile.write(Data(table.utf8), to: URL(fileURLWithPath: output))
        } else {
            print(table, terminator: "")
        }
        if let scores {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = results.count == 1 ? try encoder.encode(results[0]) : try encoder.encode(results)
            try AtomicFile.write(data, to: URL(fileURLWithPath: scores))
        }
        if let report { FileHandle.standardError.write(Data("report: \(report)/index.html\n".utf8)) }
    }

    /// The dataset and its pairs to evaluate (`Dataset.pairsToEvaluate`); none is bad input, said with the way out.
    func openCatalogue() throws -> (Dataset, [PairDetail]) {
        let opened = try location.open()
        let (pairs, emptyReason) = try opened.pairsToEvaluate(split)
        if let emptyReason { throw BadInput(emptyReason) }
        guard !pairs.isEmpty else { throw EvaluationError.noPairs }
        return (opened, pairs)
    }
}

extension PairLayout: ExpressibleByArgument {}
extension TableFormat: ExpressibleByArgument {}

extension LPIPSLoader {
    /// `load(path:)` with its note, when the weights are not installed, on standard error.
    static func loadTellingWhy(path: String?) throws -> Loaded {
        let loaded = try load(path: path)
        if let note = loaded.note { FileHandle.standardError.write(Data("rigctl: note: \(note)\n".utf8)) }
        return loaded
    }
}

extension PairFolderError: ClassifiedError { var isBadInput: Bool { true } }
extension ResultsFolderError: ClassifiedError { var isBadInput: Bool { true } }
extension EvaluationError: ClassifiedError {
    var isBadInput: Bool { if case .cancelled = self { false } else { true } }
}
extension PairFailure: ClassifiedError { var isBadInput: Bool { (underlying as? ClassifiedError)?.isBadInput ?? false } }
extension SubsetKey: ExpressibleByArgument {}
