import ArgumentParser

/// `--model`, `--model-name` and `--no-model`, shared by `capture --dataset` and `process`: which model deblurs the
/// pairs and what the catalogue calls it.
struct ModelOptions: ParsableArguments {
    @Option(help: "The deblurring model: a store name or a .safetensors file (default: ifan, when installed).")
    var model: String?

    @Option(name: .customLong("model-name"), help: "The model's name in the catalogue (default: its store or file name).")
    var modelName: String?

    @Flag(name: .customLong("no-model"), help: "Align and score the input only.")
    var noModel = false

    func validate() throws {
        if model != nil && noModel { throw ValidationError("give either --model or --no-model, not both") }
        if modelName != nil && noModel { throw ValidationError("--model-name names a model; it has no meaning with --no-model") }
    }
}
