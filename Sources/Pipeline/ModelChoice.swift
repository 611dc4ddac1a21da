import DatasetBuilder
import Foundation
import IFANEngine
import NeuralCore

/// A model name a person gave that no catalogue row or table can carry, or one the dataset already gives other
/// weights: bad input, said in one sentence.
public struct ModelNameError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The name a `--model` gets without `--model-name`: a store name as it is, a file by its name without the extension
/// (so two different files called ifan.safetensors are both "ifan" unless one is named).
public func modelName(for model: String) -> String {
    model.hasSuffix(".safetensors") || model.contains("/")
        ? URL(fileURLWithPath: model).deletingPathExtension().lastPathComponent : model
}

/// A model given by store name or by a .safetensors path, as a name and the weights' file; a store name must be
/// installed (a path is checked when it is loaded).
public func resolveModel(_ model: String, name: String? = nil, store: ModelStore) throws -> (name: String, url: URL) {
    if model.hasSuffix(".safetensors") || model.contains("/") {
        let url = URL(fileURLWithPath: model)
        return (name ?? modelName(for: model), url)
    }
    let url = try store.validatedURL(forModel: model)
    let installed = try InstalledModels(store: store)
    guard FileManager.default.fileExists(atPath: url.path) else {
        throw IFANError.badInput("no model '\(model)' in \(store.directory.path); " + installed.installedSentence)
    }
    try installed.requireDeblurring(model)
    return (name ?? model, url)
}

/// Checks a `--model-name` value: a name a catalogue row and a table can carry.
public func validateModelName(_ name: String) throws {
    let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
    if trimmed.isEmpty || trimmed != name || name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
        throw ModelNameError("--model-name must be a name without leading or trailing spaces or control characters, not '\(name)'")
    }
    if name.utf8.count > 100 { throw ModelNameError("--model-name is longer than 100 bytes") }
    if name.lowercased() == "input" { throw ModelNameError("--model-name input is reserved for the defocused input's own scores") }
}

/// Refuses, before any work, a model whose name the dataset already gives other weights (or, for `weights` nil,
/// a baseline name it gives weights): the clash `registerModel` would report only once everything had run.
public func checkModelName(_ name: String, weights: URL?, in dataset: Dataset) throws {
    if let conflict = try dataset.modelNameConflict(name, weights: weights) {
        throw ModelNameError("\(conflict)" + (weights == nil ? "; choose another --name" : "; give these weights another name with --model-name NAME"))
    }
}
