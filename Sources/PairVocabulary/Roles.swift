/// Which side of a pair a shot or file is: the blurred input or the sharp ground truth.
public enum ShotRole: String, Sendable, Codable, CodingKeyRepresentable, CaseIterable, CustomStringConvertible {
    /// Shallow depth of field (wide aperture): the defocused input, `source/` in RealDOF and DPDD.
    case source
    /// Deep depth of field (narrow aperture): the all-in-focus ground truth, `target/`.
    case target

    public var description: String { rawValue }
}

/// The aligned images a pair holds: source and target, and for dual-pixel sets (DPDD) the left and right views of
/// the source. Names the files (`aligned/<key>/source.png`), the export's folders and the manifest's keys.
public enum PairImageRole: String, Sendable, Codable, CodingKeyRepresentable, CaseIterable, CustomStringConvertible {
    case source, target, left, right

    public var description: String { rawValue }
}

/// The two jobs in a defocus rig, named for the optics (rig files and the command line say `shallow` and `deep`).
/// Each job delivers one side of every pair: `shot`.
public enum CameraRole: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// Shallow depth of field (wide aperture): the blurred input of a pair.
    case shallow
    /// Deep depth of field (small aperture): the sharp target of a pair.
    case deep

    public var description: String { rawValue }

    /// The side of the pair this camera's shots become.
    public var shot: ShotRole {
        switch self {
        case .shallow: .source
        case .deep: .target
        }
    }

    public init(shot: ShotRole) {
        self = shot == .source ? .shallow : .deep
    }
}
