import Foundation
import PairVocabulary
import IFANEngine
import Imaging

/// What a method is, as far as scoring and the catalogue care: the input itself, a model with weights (whose
/// outputs the catalogue keeps and reuses), or outputs made elsewhere (read per pair, nothing kept but scores).
public enum MethodKind: Sendable, Equatable {
    case input
    case model(weights: URL?)
    case results
}

/// The name the input is catalogued under (tables print `InputMethod().name`, "Input", as the paper does).
public let inputModelName = "input"

/// A method under evaluation: anything that turns a defocused input into a restored image.
///
/// This is the one seam between scoring and methods, for folder sets and the catalogue alike: the input itself
/// (the tables' first row), a deblurring model (`DeblurModel`, over IFANEngine's `Deblurrer`) and folders of
/// other methods' published outputs all answer the same way.
public protocol RestorationMethod: Sendable {
    /// The name in results tables.
    var name: String { get }
    var kind: MethodKind { get }
    var complexity: ModelCost? { get }
    /// The restored image, the size of `input`.
    func restore(_ input: RGBImage, pair: ImagePair) throws -> RGBImage
    /// The same, reporting progress within the image to `progress` (a model's tiles and stages).
    func restore(_ input: RGBImage, pair: ImagePair, progress: DeblurProgressHandler?) throws -> RGBImage
}

extension RestorationMethod {
    /// Methods that take no time worth reporting (the input, a results folder) say nothing.
    public func restore(_ input: RGBImage, pair: ImagePair, progress: DeblurProgressHandler?) throws -> RGBImage {
        try restore(input, pair: pair)
    }

    /// The name in the catalogue's model table.
    public var catalogueName: String { kind == .input ? inputModelName : name }
}

/// The defocused input scored as it is: the lower bound every table starts with.
public struct InputMethod: RestorationMethod {
    public init() {}
    public var name: String { "Input" }
    public var kind: MethodKind { .input }
    public var complexity: ModelCost? { nil }
    public func restore(_ input: RGBImage, pair: ImagePair) throws -> RGBImage { input }
}

public enum ResultsFolderError: Error, CustomStringConvertible, Equatable {
    case missingOutput(method: String, folder: String, pair: String)
    case tooSmall(method: String, file: String, size: String, expected: String)

    public var description: String {
        switch self {
        case .missingOutput(let m, let f, let p): "\(m): \(f) has no output for pair \(p)"
        case .tooSmall(let m, let file, let size, let expected): "\(m): \(file) is \(size), smaller than the pair's \(expected)"
        }
    }
}

/// Another method's published outputs, one image per pair named like the pair (any supported extension), so that
/// every method of the paper's tables (JNB, EBDB, DMENet, DPDNet, ...) can be scored the same way.
public struct ResultsFolderMethod: RestorationMethod {
    public let name: String
    public let folder: URL
    public var complexity: ModelCost?
    public var kind: MethodKind { .results }

    public init(name: String, folder: URL, complexity: ModelCost? = nil) {
        self.name = name
        self.folder = folder
        self.complexity = complexity
    }

    public func restore(_ input: RGBImage, pair: ImagePair) throws -> RGBImage {
        let files = try PairFolder.images(in: folder)
        guard let url = files[pair.name] else {
            throw ResultsFolderError.missingOutput(method: name, folder: folder.path, pair: pair.name)
        }
        let output = try ImageFile.read(url)
        guard output.width >= input.width, output.height >= input.height else {
            throw ResultsFolderError.tooSmall(method: name, file: url.path, size: "\(output.width)x\(output.height)",
                                              expected: "\(input.width)x\(input.height)")
        }
        // Outputs made at full size are cropped bottom/right like the evaluated pair.
        if output.width == input.width && output.height == input.height { return output }
        return output.cropped(x: 0, y: 0, width: input.width, height: input.height)
    }
}
