import IFANEngine
import PairVocabulary
import Imaging

/// A deblurring engine (IFAN with any imported weights) as an evaluated method.
public struct DeblurrerMethod: RestorationMethod {
    public let deblurrer: any Deblurrer
    public var complexity: ModelCost?

    public init(_ deblurrer: any Deblurrer, complexity: ModelCost? = nil) {
        self.deblurrer = deblurrer
        self.complexity = complexity
    }

    public var name: String { deblurrer.name }

    public func restore(_ input: RGBImage, pair: ImagePair) throws -> RGBImage {
        try deblurrer.deblur(input)
    }

    public func restore(_ input: RGBImage, pair: ImagePair, progress: DeblurProgressHandler?) throws -> RGBImage {
        try deblurrer.deblur(input, progress: progress)
    }
}
