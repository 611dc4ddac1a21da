import ArgumentParser
import DatasetBuilder
import Evaluation
import Foundation

/// The name a `--model` gets without `--model-name`: a store name as it is, a file by its name without the extension
/// (so two different files called ifan.safetensors are both "ifan" unless one is named).
func modelName(for model: String) -> String {
    model.hasSuffix(".safetensors") || model.contains("/")
        ? URL(fileURLWithPath: model).deletingPathExtension().lastPathComponent : model
}

/// Checks a `--model-name` value: a name a catalogue row and a table can carry.
func validateModelName(_ name: String) throws {
    let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
    if trimmed.isEmpty || trimmed != name || name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
        throw BadInput("--model-name must be a name without leading or trailing spaces or control characters, not '\(name)'")
    }
    if name.utf8.count > 100 { throw BadInput("--model-name is longer than 100 bytes") }
    if name.lowercased() == "input" { throw BadInput("--model-name input is reserved for the defocused input's own scores") }
}

/// Refuses, before any work, a model whose name the dataset already gives other weights (or, for `weights` nil,
/// a baseline name it gives weights): the clash `registerModel` would report only once everything had run.
func checkModelName(_ name: String, weights: URL?, in dataset: Dataset) throws {
    if let conflict = try dataset.modelNameConflict(name, weights: weights) {
        throw BadInput(conflict + (weights == nil ? "; choose another --name" : "; give these weights another name with --model-name NAME"))
    }
}

extension EvaluateCommand {
    /// Every method of one evaluation gets its own name: two --model options that would both be called "ifan" (two
    /// files of that name), or a model and a --results folder of one name, are refused before anything is loaded.
    func validateMethodNames() throws {
        for name in modelNames {
            do { try validateModelName(name) } catch let error as BadInput { throw ValidationError(error.description) }
        }
        let names = (modelNames.isEmpty ? models.map(modelName(for:)) : modelNames) + resultNames
            + (noInput ? [] : ["input"])
        var seen: Set<String> = []
        for name in names {
            guard seen.insert(name.lowercased()).inserted else {
                throw ValidationError("two methods would be named '\(name)': name each --model with --model-name "
                                      + "(in the same order) and each --results folder with --name")
            }
        }
    }
}
