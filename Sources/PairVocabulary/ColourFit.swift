/// How the target's colours are mapped onto the source's.
public enum ColourModel: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// Per-channel gain and offset (RealBlur's model): 6 parameters.
    case gainOffset = "gain-offset"
    /// A full 3x3 matrix plus offset: 12 parameters, for cameras whose colour responses differ.
    case affine
    /// No colour matching (switched off, or impossible).
    case identity

    public var description: String { rawValue }
}

/// The colour correction applied to the aligned target: `target' = matrix * target + offset` per pixel, in linear
/// RGB, fitted so that `target'` matches the source. Stored with every pair so that an exported pair can be
/// traced back to the camera files.
public struct ColourFit: Sendable, Hashable, Codable {
    public var model: ColourModel
    /// Row-major 3x3; diagonal for the gain-offset model.
    public var matrix: [Double]
    public var offset: [Double]
    /// Robust RMS residual of the fit, in [0, 1] units; nil when unknown (imported pairs).
    public var residual: Double?

    public init(model: ColourModel, matrix: [Double], offset: [Double], residual: Double? = nil) {
        self.model = model
        self.matrix = matrix
        self.offset = offset
        self.residual = residual
    }

    public static let identity = ColourFit(model: .identity, matrix: [1, 0, 0, 0, 1, 0, 0, 0, 1], offset: [0, 0, 0],
                                           residual: 0)

    /// The diagonal of `matrix`: the gains of the gain-offset model.
    public var gains: [Double] { [matrix[0], matrix[4], matrix[8]] }

    /// The 12 numbers as the catalogue keeps them: the matrix row-major, then the offset.
    public var parameters: [Double] { matrix + offset }

    /// From the catalogue's 12 numbers; nil when they are not 12 finite numbers.
    public init?(model: ColourModel, parameters: [Double], residual: Double?) {
        guard parameters.count == 12, parameters.allSatisfy(\.isFinite) else { return nil }
        self.init(model: model, matrix: Array(parameters[0..<9]), offset: Array(parameters[9..<12]), residual: residual)
    }
}
