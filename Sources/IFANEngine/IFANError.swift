/// Why a set of weights or an input cannot be used by the IFAN engine. Each case names the tensor or value at fault.
public enum IFANError: Error, CustomStringConvertible, Equatable {
    /// The weights hold no usable `F.3.weight`, so the number of IAC iterations cannot be known.
    case unknownArchitecture(String)
    case missingTensor(String)
    case wrongShape(name: String, expected: [Int], found: [Int])
    case unexpectedTensor(String)
    /// The input image or tensor cannot be processed (shape, size).
    case badInput(String)

    public var description: String {
        switch self {
        case .unknownArchitecture(let why): "not IFAN weights: \(why)"
        case .missingTensor(let name): "weights lack the tensor '\(name)'"
        case .wrongShape(let name, let expected, let found):
            "tensor '\(name)' has shape \(found), the network needs \(expected)"
        case .unexpectedTensor(let name): "weights hold an unexpected tensor '\(name)' that the network does not use"
        case .badInput(let why): why
        }
    }
}

extension IFANArchitecture {
    /// Checks that `weights` hold exactly the network's tensors, each with its shape. Errors name the first
    /// offending tensor in layer order (extra tensors in sorted order).
    public func validate(_ weights: TensorDictionary) throws {
        for (name, shape) in parameters {
            guard let tensor = weights[name] else { throw IFANError.missingTensor(name) }
            guard tensor.shape == shape else { throw IFANError.wrongShape(name: name, expected: shape, found: tensor.shape) }
        }
        let known = Set(parameters.map(\.name))
        if let extra = weights.keys.sorted().first(where: { !known.contains($0) }) {
            throw IFANError.unexpectedTensor(extra)
        }
    }

    /// The state-dict key prefix of the released checkpoints (saved from the data-parallel training wrapper).
    public static let checkpointPrefix = "module.Network."
    /// Training-only modules in the released checkpoints, which inference ignores.
    public static let trainingOnlyPrefixes = ["module.reblurNet."]

    /// Turns a checkpoint's state dict into the engine's names: strips `module.Network.`, drops training-only
    /// tensors, infers the number of IAC iterations and validates every name and shape.
    public static func networkWeights(fromCheckpoint state: TensorDictionary) throws -> (IFANArchitecture, TensorDictionary) {
        var weights: TensorDictionary = [:]
        for (key, tensor) in state {
            if trainingOnlyPrefixes.contains(where: { key.hasPrefix($0) }) { continue }
            if key.hasPrefix(checkpointPrefix) {
                weights[String(key.dropFirst(checkpointPrefix.count))] = tensor
            } else {
                weights[key] = tensor
            }
        }
        let architecture = try inferredOrThrow(from: weights)
        try architecture.validate(weights)
        return (architecture, weights)
    }

    public static func inferredOrThrow(from weights: TensorDictionary) throws -> IFANArchitecture {
        guard let w = weights["F.3.weight"] else { throw IFANError.missingTensor("F.3.weight") }
        guard let architecture = inferred(from: weights) else {
            throw IFANError.unknownArchitecture(
                "'F.3.weight' has shape \(w.shape); the filter predictor needs (N*\(kernelChannelsPerIteration + featureChannels), \(featureChannels), 1, 1)")
        }
        return architecture
    }
}

import NeuralCore
