import ArgumentParser
import DatasetBuilder
import Evaluation
import Foundation
import Pipeline

extension ModelNameError: ClassifiedError { var isBadInput: Bool { true } }

extension EvaluateCommand {
    /// Every method of one evaluation gets its own name: two --model options that would both be called "ifan" (two
    /// files of that name), or a model and a --results folder of one name, are refused before anything is loaded.
    func validateMethodNames() throws {
        for name in modelNames {
            do { try validateModelName(name) } catch let error as ModelNameError { throw ValidationError(error.description) }
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
