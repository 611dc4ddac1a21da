import Foundation
import NeuralCore

/// IFAN weights on disk: importing the officially released PyTorch checkpoints and reading the engine's own
/// safetensors files, whose metadata records the architecture.
public enum IFANModelFile {
    /// Metadata key naming the network a safetensors file is for.
    public static let architectureKey = "architecture"
    public static let architectureName = "ifan"
    public static let iterationsKey = "iac_iterations"
    public static let sourceKey = "source"

    /// Reads a `torch.save` checkpoint of IFAN (the released files, saved from the data-parallel training wrapper),
    /// keeping the network's tensors under the engine's names and checking every name and shape.
    public static func importCheckpoint(_ url: URL) throws -> (architecture: IFANArchitecture, weights: TensorDictionary) {
        let state = try TorchCheckpoint.read(url).requiringFiniteValues(path: url.path)
        do {
            let (architecture, weights) = try IFANArchitecture.networkWeights(fromCheckpoint: state)
            return (architecture, weights)
        } catch let error as IFANError {
            throw IFANModelError(path: url.path, underlying: error)
        }
    }

    public static func metadata(for architecture: IFANArchitecture, source: String) -> [String: String] {
        [architectureKey: architectureName, iterationsKey: String(architecture.iterations), sourceKey: source]
    }

    /// Writes validated weights as safetensors (atomically), with metadata naming the architecture.
    public static func write(_ weights: TensorDictionary, architecture: IFANArchitecture, source: String, to url: URL) throws {
        try SafeTensors.write(weights, metadata: metadata(for: architecture, source: source), to: url)
    }

    /// Loads a safetensors model file and builds the network, refusing files made for another architecture or
    /// whose tensors do not match the network.
    public static func load(_ url: URL) throws -> IFANNetwork {
        let metadata = try SafeTensors.readMetadata(url)
        if let name = metadata[architectureKey], name != architectureName {
            throw IFANModelError(path: url.path, underlying: .unknownArchitecture("the file is for '\(name)', not '\(architectureName)'"))
        }
        let weights = try SafeTensors.read(url).requiringFiniteValues(path: url.path)
        do {
            let network = try IFANNetwork(weights: weights)
            if let recorded = metadata[iterationsKey], recorded != String(network.architecture.iterations) {
                throw IFANError.unknownArchitecture(
                    "metadata says \(recorded) IAC iterations but the filter predictor has \(network.architecture.iterations)")
            }
            return network
        } catch let error as IFANError {
            throw IFANModelError(path: url.path, underlying: error)
        }
    }
}

/// An `IFANError` about a particular weight file.
public struct IFANModelError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let underlying: IFANError
    public var description: String { "\(path): \(underlying)" }
}
