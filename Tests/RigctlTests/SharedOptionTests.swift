import Foundation
import TestSupport
import Testing

/// Options declared once and shared: `capture` and `process` take the same model options, and `evaluate` the same
/// --dataset as every other dataset command, with the same help and the same refusals.
@Suite struct SharedOptionTests {
    @Test func captureAndProcessTakeTheSameModelOptions() async throws {
        let given = ["capture": ["--rig", "r.json", "--scene", "s"], "process": ["--dataset", "ds"]]
        for command in ["capture", "process"] {
            let help = try await CommandLine.run([command, "--help"])
            #expect(help.status == 0, "\(help.stderr)")
            for line in ["--model <model>", "The deblurring model: a store name or a .safetensors",
                         "--model-name <model-name>", "The model's name in the catalogue (default: its store",
                         "--no-model", "Align and score the input only."] {
                #expect(help.stdout.contains(line), "\(command) --help lacks \(line): \(help.stdout)")
            }
            let both = try await CommandLine.run([command] + given[command]! + ["--model", "ifan", "--no-model"])
            #expect(both.status == 64 && both.stderr.contains("give either --model or --no-model, not both"), "\(both.stderr)")
            let named = try await CommandLine.run([command] + given[command]! + ["--model-name", "m", "--no-model"])
            #expect(named.status == 64 && named.stderr.contains("--model-name names a model; it has no meaning with --no-model"),
                    "\(named.stderr)")
        }
    }

    @Test func evaluateTakesTheDatasetOptionOfTheOtherCommands() async throws {
        let evaluate = try await CommandLine.run(["evaluate", "--help"]), status = try await CommandLine.run(["dataset", "status", "--help"])
        for line in ["--dataset <dir>", "The dataset folder.", "Default: $RIGCTL_DATASET, else the current folder."] {
            #expect(evaluate.stdout.contains(line) && status.stdout.contains(line), "\(line): \(evaluate.stdout)")
        }
        let both = try await CommandLine.run(["evaluate", "set", "--dataset", "ds"])
        #expect(both.status == 64 && both.stderr.contains("give either a SET folder or --dataset, not both"), "\(both.stderr)")
    }
}
