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

            Each capture is aligned with the rig file's calibration recorded with it when it was taken, so no --rig \
            is needed; --rig or --calibration give another one for this run (and are recorded for captures made \
            before calibrations were recorded). --realign aligns again every captured pair whose verdict was reached \
            with another calibration: its aligned images, figures and verdict are replaced, and its scores are kept \
            as stale (`staleEvaluation`) and computed again on the new images.
            """
    )

    @OptionGroup var location: DatasetLocation

    @Option(help: "A rig file whose \"alignment\" calibration applies in this run instead of each capture's own.")
    var rig: String?

    @Option(help: "An alignment calibration file that applies in this run instead of each capture's own.")
    var calibration: String?

    @Flag(help: "Align again the captured pairs whose verdict was reached with another calibration.")
    var realign = false

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: ArgumentHelp("Split for new pairs: train, test or unused.", discussion: """
        Default: the split their capture asked for (capture --split), else the side their scene is on, else unused.
        """))
    var split: Split?

    func validate() throws {
        if rig != nil && calibration != nil { throw ValidationError("give either --rig or --calibration, not both") }
    }

    @Flag(help: "Print the result as JSON on standard output (docs/cli-json.md); the per-pair lines go to standard error.")
    var json = false

    func run() throws {
        try reportingErrors {
            let dataset = try location.open()
            let settings = PipelineSettings(model: modelOptions,
                                            rigFile: try rig.map { try RigFile.load(URL(fileURLWithPath: $0)) },
                                            calibrationPath: calibration, split: split)
            let processor = try settings.processor(for: dataset)
            // A scene is only needed for pairs still in incoming/; they keep the name "unsorted" until renamed.
            let pipeline = CapturePipeline(dataset: dataset, processor: processor, scene: SceneInput(name: "unsorted"))
            let display = PipelineDisplay(total: nil, standardError: json)
            let interrupt = InterruptHandler { display.handle(.stopping) }
            let start = Date()
            let outcomes = try pipeline.processBacklog(stop: interrupt.stop, realign: realign, events: display.handle)
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
            let other = try (realign ? [] : processor.pairsToRealign()).count
            if other > 0 {
                let given = rig.map { " --rig \($0)" } ?? calibration.map { " --calibration \($0)" } ?? ""
                note("note: \(other) pair(s) were aligned with another calibration than "
                     + (given.isEmpty ? "the one their capture was taken with" : "the one given")
                     + "; align them again with `rigctl process --realign\(given)`")
            }
            if let rejected = display.rejections.summary {
                FileHandle.standardError.write(Data("rigctl: error: \(rejected)\n".utf8))
            }
            if display.failures > 0 { throw ExitCode(ExitStatus.failure) }
            if interrupt.interrupted { throw ExitCode(ExitStatus.interrupted) }
            if display.rejections.allRejected { throw ExitCode(ExitStatus.rejectedPair) }
        }
    }
}
