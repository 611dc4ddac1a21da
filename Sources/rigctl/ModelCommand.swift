import ArgumentParser
import Foundation
import IFANEngine
import NeuralCore
import Pipeline

struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Import, list and describe deblurring models.",
        subcommands: [ModelImport.self, ModelInfo.self, ModelList.self]
    )
}

struct ModelImport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Convert a released IFAN PyTorch checkpoint into the model store (safetensors).",
        discussion: """
            Reads the checkpoint natively (torch.save zip, no Python), keeps the network's tensors under their \
            names without the 'module.Network.' prefix, ignores the training-only 'module.reblurNet.*' tensors, \
            checks every name and shape, and writes <store>/<name>.safetensors. The store is $RIGCTL_HOME/models \
            (default ~/.local/share/rigctl/models).
            """
    )

    @Argument(help: "The checkpoint, e.g. IFAN.pytorch.")
    var checkpoint: String

    @Option(name: .shortAndLong, help: "Write to this .safetensors file instead of the model store.")
    var output: String?

    @Option(help: "Name in the model store (default: the checkpoint's file name, lowercased, without extension).")
    var name: String?

    @Flag(help: "Replace an existing model of the same name.")
    var force = false

    func run() throws {
        try reportingErrors {
            let source = URL(fileURLWithPath: checkpoint)
            let destination: URL
            if let output {
                destination = URL(fileURLWithPath: output)
            } else {
                let store = ModelStore()
                let modelName = name ?? source.deletingPathExtension().lastPathComponent.lowercased()
                destination = try store.validatedURL(forModel: modelName)
                try store.createDirectory()
            }
            // The name is checked before the checkpoint is read, so a clash costs nothing.
            if !force && FileManager.default.fileExists(atPath: destination.path) {
                throw IFANError.badInput("\(destination.path) exists; pass --force to replace it, or --name to choose another name")
            }
            let (architecture, weights) = try IFANModelFile.importCheckpoint(source)
            try IFANModelFile.write(weights, architecture: architecture, source: source.lastPathComponent, to: destination)
            print("\(destination.path): IFAN with \(architecture.iterations) IAC iterations, "
                  + "\(architecture.parameterCount) parameters in \(weights.count) tensors")
        }
    }
}

struct ModelInfo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Print a model's parameter count and its multiply-accumulates at an image size.",
        discussion: """
            Two MAC counts: ptflops' convention, which the IFAN paper's table uses (convolutions plus one add per \
            output element for biases and per LeakyReLU module element), and plain convolution multiply-adds. \
            Neither counts the IAC, given separately. Without an installed model, the released IFAN architecture \
            (17 IAC iterations) is described.
            """
    )

    @Option(help: "A model store name or a path to a .safetensors file.")
    var model: String?

    @Option(help: "Image size WxH.")
    var size: String = "1280x720"

    @Flag(help: "Print JSON: parameters, macs_ptflops, macs (plain numbers).")
    var json = false

    func run() throws {
        try reportingErrors {
            let parts = size.lowercased().split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2, parts[0] > 0, parts[1] > 0 else {
                throw IFANError.badInput("--size must be WxH with positive integers, got '\(size)'")
            }
            let (width, height) = (parts[0], parts[1])
            let store = ModelStore()
            let architecture: IFANArchitecture
            let label: String
            if let chosen = try model ?? InstalledModels(store: store).defaultDeblurring() {
                let (name, url) = try resolveModel(chosen, store: store)
                architecture = try IFANModelFile.load(url).architecture
                label = name
            } else {
                architecture = IFANArchitecture()
                label = "IFAN architecture (no model installed)"
            }
            let ptflops = architecture.ptflopsMACs(width: width, height: height)
            let macs = architecture.macs(width: width, height: height)
            let iac = architecture.iacMACs(width: width, height: height)
            if json {
                try printJSON(ModelInfoJSON(model: label, iacIterations: architecture.iterations, width: width,
                                            height: height, parameters: architecture.parameterCount,
                                            macsPtflops: ptflops, macs: macs, macsIAC: iac))
            } else {
                print("\(label): IFAN, \(architecture.iterations) IAC iterations")
                print("parameters:          \(architecture.parameterCount)")
                print(String(format: "MACs at %dx%d:  %.3f G (ptflops convention), %.3f G plain multiply-adds, + %.3f G in the IAC",
                             width, height, Double(ptflops) / 1e9, Double(macs) / 1e9, Double(iac) / 1e9))
            }
        }
    }
}

struct ModelList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the deblurring models in the model store (other files, such as LPIPS weights, on standard error).")

    @Flag(help: "Print JSON: directory, models (name, path, bytes, kind), every file in the store.")
    var json = false

    func run() throws {
        try reportingErrors {
            let store = ModelStore()
            let installed = try InstalledModels(store: store)
            let names = installed.entries.map(\.name)
            if json {
                let models = installed.entries.map { entry -> ModelListJSON.Model in
                    let url = store.url(forModel: entry.name)
                    let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.int64Value
                    return ModelListJSON.Model(name: entry.name, path: url.path, bytes: size ?? 0, kind: entry.kind.rawValue)
                }
                return try printJSON(ModelListJSON(directory: store.directory.path, models: models))
            }
            // Only the deblurring models' names on standard output, one a line, so that `for m in $(rigctl model
            // list)` gives what --model takes; the other files are named on standard error.
            if names.isEmpty { note("no models in \(store.directory.path)") }
            for name in installed.deblurring { print(name) }
            let others = installed.entries.filter { $0.kind != .deblurring }
            if !others.isEmpty {
                note("also in the store, not deblurring models: " + others.map {
                    "\($0.name) (\($0.kind == .lpips ? "LPIPS weights, used by the metrics" : "not an IFAN model"))"
                }.joined(separator: ", "))
            }
        }
    }
}
