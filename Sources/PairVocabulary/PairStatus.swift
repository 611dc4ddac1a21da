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
