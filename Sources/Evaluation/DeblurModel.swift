import Foundation
import IFANEngine
import Imaging
import PairVocabulary

/// A deblurring model as an evaluated method: a `Deblurrer` with the weights it was loaded from and its cost,
/// which is what a folder evaluation, the catalogue and the capture pipeline all record about it.
public struct DeblurModel: RestorationMethod {
    public var name: String
    public var deblurrer: any Deblurrer
    /// The weights file, copied into the dataset so that scores stay reproducible; nil for a network made in
    /// memory (benchmarks), which only a folder evaluation can score.
    public var weights: URL?
    /// Parameters and multiply-accumulates at 1280x720 (ptflops' convention, as the paper's tables).
    public var cost: ModelCost?

    public init(name: String, deblurrer: any Deblurrer, weights: URL?, cost: ModelCost? = nil) {
        self.name = name
        self.deblurrer = deblurrer
        self.weights = weights
        self.cost = cost
    }

    /// The IFAN engine with weights from the model store or a .safetensors file.
    public static func ifan(name: String, weights: URL) throws -> DeblurModel {
        let network = try IFANModelFile.load(weights)
        let architecture = network.architecture
        return DeblurModel(name: name, deblurrer: IFANDeblurrer(name: name, network: network), weights: weights,
                           cost: ModelCost(parameters: architecture.parameterCount,
                                           macs: architecture.ptflopsMACs(width: 1280, height: 720)))
    }

    public var kind: MethodKind { .model(weights: weights) }
    public var complexity: ModelCost? { cost }

    public func restore(_ input: RGBImage, pair: ImagePair) throws -> RGBImage {
        try deblurrer.deblur(input)
    }

    public func restore(_ input: RGBImage, pair: ImagePair, progress: DeblurProgressHandler?) throws -> RGBImage {
        try deblurrer.deblur(input, progress: progress)
    }
}
