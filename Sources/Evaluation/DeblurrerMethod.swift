import IFANEngine
import Imaging

/// A deblurring engine (IFAN with any imported weights) as an evaluated method.
public struct DeblurrerMethod: RestorationMethod {
    public let deblurrer: any Deblurrer
    public var complexity: ModelComplexity?

    public init(_ deblurrer: any Deblurrer, complexity: ModelComplexity? = nil) {
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
