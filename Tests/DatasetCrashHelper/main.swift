// A child process for the crash tests: it ingests or exports in a loop until the test kills it with SIGKILL.
// Usage:
//   DatasetCrashHelper ingest DATASET SCRATCH SEED   (captures, pairs, a model and evaluations, forever)
//   DatasetCrashHelper export DATASET OUT            (exports the test split, forever)
import DatasetBuilder
import Foundation

func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

let arguments = CommandLine.arguments
guard arguments.count >= 4 else {
    FileHandle.standardError.write(Data("usage: DatasetCrashHelper ingest DATASET SCRATCH SEED | export DATASET OUT\n".utf8))
    exit(2)
}
do {
    let dataset = try Dataset.open(at: URL(fileURLWithPath: arguments[2]), lockWait: 10)
    switch arguments[1] {
    case "ingest":
        guard arguments.count >= 5, let seed = UInt64(arguments[4]) else { exit(2) }
        let scratch = URL(fileURLWithPath: arguments[3])
        var modelID: Int64?
        for index in 0..<1_000_000 {
            let item = try SyntheticCapture.make(index: index, seed: seed, in: scratch, width: 160, height: 120)
            let capture = try dataset.ingestCapture(item.capture)
            var input = item.pair(captureID: capture.id, verdict: index % 4 == 3 ? .rejected : .accepted)
            input.split = index % 2 == 0 ? .test : .train
            let pair = try dataset.addPair(input)
            if index % 3 == 0 {
                if modelID == nil {
                    modelID = try dataset.registerModel(ModelInput(name: "model-\(seed)", weights: item.alignedTarget)).id
                }
                if let modelID {
                    // Twice, so that replacing an evaluation's output (and releasing the old file) is exercised too.
                    for output in [item.alignedTarget, item.alignedSource] {
                        try dataset.recordEvaluation(EvaluationInput(pairID: pair.id, modelID: modelID, psnr: 30,
                                                                     ssim: 0.9, output: output))
                    }
                }
            }
            say("ingested \(index)")
        }
    case "export":
        let out = URL(fileURLWithPath: arguments[3])
        for round in 0..<1_000_000 {
            let report = try Exporter(options: ExportOptions(split: .all, depth: round % 2 == 0 ? 8 : 16))
                .run(from: dataset, to: out)
            say("exported \(report.pairs)")
        }
    default:
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("DatasetCrashHelper: \(error)\n".utf8))
    exit(1)
}
