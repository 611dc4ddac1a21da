import ArgumentParser
import DatasetBuilder
import Foundation
import PairVocabulary
import Pipeline
import Rig

struct ProcessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "process",
        abstract: "Align, catalogue, deblur and score the captures that have not been processed yet.",
        discussion: """
            Picks up pairs a crash left in the dataset's incoming/ folder, captures without an aligned pair, and \
            pairs without the input's or the model's scores (for example those taken before the IFAN weights were \
            installed). Every step commits on its own, so an interrupted run resumes where it stopped.
            """
    )

    @OptionGroup var location: DatasetLocation

    @Option(help: "The rig file whose \"alignment\" calibration applies (mirror, distortion, reference homography).")
    var rig: String?

    @Option(help: "An alignment calibration file instead of the rig file's.")
    var calibration: String?

    @Option(help: "The deblurring model: a store name or a .safetensors file (default: ifan, when installed).")
    var model: String?

    @Flag(name: .customLong("no-model"), help: "Align and score the input only.")
    var noModel = false

    @Option(help: "Split for new pairs: train, test or unused (rigctl dataset split assigns by scene).")
    var split: Split = .unused

    @Flag(help: "Print the result as JSON on standard output (docs/cli-json.md); the per-pair lines go to standard error.")
    var json = false

    func run() throws {
        try reportingErrors {
            let dataset = try location.open()
            let settings = PipelineSettings(model: model, noModel: noModel,
                                            rigFile: try rig.map { try RigFile.load(URL(fileURLWithPath: $0)) },
                                            calibrationPath: calibration, split: split)
            let processor = try settings.processor(for: dataset)
            // A scene is only needed for pairs still in incoming/; they keep the name "unsorted" until renamed.
            let pipeline = CapturePipeline(dataset: dataset, processor: processor, scene: SceneInput(name: "unsorted"))
            let display = PipelineDisplay(total: nil, standardError: json)
            let interrupt = InterruptHandler { display.handle(.stopping) }
            let start = Date()
            let outcomes = try pipeline.processBacklog(stop: interrupt.stop, events: display.handle)
            display.finish()
            let left = try dataset.capturesWithoutPair().count
            if json {
                try printJSON(PipelineRunJSON(dataset: dataset.root, outcomes: outcomes, failures: display.failures,
                                              waiting: left, interrupted: interrupt.interrupted,
                                              seconds: Date().timeIntervalSince(start)))
            } else {
                print("\(outcomes.count) pair(s) processed, \(display.failures) failed" + (left > 0 ? ", \(left) capture(s) still waiting" : ""))
            }
            for line in PipelineDisplay.missingSummary(outcomes) { json ? note(line) : print(line) }
            if display.failures > 0 { throw ExitCode(ExitStatus.failure) }
            if interrupt.interrupted { throw ExitCode(ExitStatus.interrupted) }
        }
    }
}
