/// The automatic judgement of an aligned pair. One spelling everywhere: the aligner reaches it, the catalogue stores
/// it, `align` prints it and `dataset list --verdict` filters by it.
public enum Verdict: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// Usable as ground truth.
    case accepted
    /// Aligned, but something (a moving object, clipping, a weak colour fit) needs a person's look; exported only
    /// once a person has approved it (see `ReviewState`).
    case review
    /// Not a valid pair: unrelated images, too little overlap, or the optimisation failed.
    case rejected

    public var description: String { rawValue }
}

/// A person's judgement of a pair, on top of the automatic verdict; `rejected` keeps a pair out of exports.
public enum ReviewState: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case unreviewed
    case approved
    case flagged
    case rejected

    public var description: String { rawValue }
}

/// Which side of the benchmark a pair belongs to. Pairs of one scene always share a side.
public enum Split: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case train
    case test
    /// Set aside: rejected, or not assigned yet.
    case unused

    public var description: String { rawValue }
}

/// Which pairs a command takes by split (`--split` of export and evaluate): one split, or every split. Written as
/// the split's name, or `all`.
public enum SplitSelection: Sendable, Hashable, CaseIterable, RawRepresentable, CustomStringConvertible {
    case only(Split)
    /// Every split.
    case all

    /// In the order `--split` lists them.
    public static let allCases: [SplitSelection] = [.only(.test), .only(.train), .only(.unused), .all]

    public init?(rawValue: String) {
        if rawValue == "all" {
            self = .all
        } else if let split = Split(rawValue: rawValue) {
            self = .only(split)
        } else {
            return nil
        }
    }

    public var rawValue: String {
        switch self {
        case .only(let split): split.rawValue
        case .all: "all"
        }
    }

    public var description: String { rawValue }

    /// The splits taken; nil for every split.
    public var splits: [Split]? {
        switch self {
        case .only(let split): [split]
        case .all: nil
        }
    }
}

extension Verdict {
    /// Whether a pair with this verdict and review may go into an exported test set: accepted and not rejected by
    /// a person, or sent to review and approved.
    public func isExportable(review: ReviewState) -> Bool {
        switch self {
        case .accepted: review != .rejected
        case .review: review == .approved
        case .rejected: false
        }
    }
}
