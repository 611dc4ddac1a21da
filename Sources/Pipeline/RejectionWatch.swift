import PairVocabulary

/// Watches verdicts as pairs are processed. Several rejections in a row for the same kind of reason, or a run whose
/// every pair was rejected, say that the rig or its file is wrong - a missing mirror, a stale calibration or
/// reference homography, a camera out of focus - not that a scene was unlucky; a capture that goes on quietly
/// fills a dataset with rejected pairs (a starter rig file without `alignment.mirror` did exactly that).
public struct RejectionWatch: Sendable {
    /// What a rejection's reason points at.
    public enum Cause: String, Sendable, Equatable {
        /// Registration failed or diverged.
        case registration
        /// The images did not match after registration.
        case mismatch
        case other

        init(reasons: [String]) {
            let text = reasons.joined(separator: " ")
            if text.hasPrefix("registration failed") { self = .registration }
            else if text.hasPrefix("the images do not match") { self = .mismatch }
            else { self = .other }
        }

        /// The likely causes, in the order a person should check them.
        public var advice: String {
            switch self {
            case .registration, .mismatch:
                "check the rig file's alignment.mirror (one camera behind a beam splitter sees a mirror image; "
                    + "`rigctl rig liveview` measures which), its calibration and reference homography, and that both "
                    + "cameras see the same scene, in focus"
            case .other:
                "look at a rejected pair (`rigctl review`) for what the reasons have in common"
            }
        }
    }

    /// Rejections in a row, for one cause, that make the watch speak.
    public static let streakLength = 3

    public private(set) var total = 0
    public private(set) var rejected = 0
    private var streak: (cause: Cause, count: Int)?
    private var lastCause: Cause?

    public init() {}

    /// Counts one pair's verdict; returns a warning when it completes a streak of rejections for one cause.
    public mutating func add(_ verdict: Verdict, reasons: [String]) -> String? {
        total += 1
        guard verdict == .rejected else {
            streak = nil
            return nil
        }
        rejected += 1
        let cause = Cause(reasons: reasons)
        lastCause = cause
        let count = streak?.cause == cause ? streak!.count + 1 : 1
        streak = (cause, count)
        guard count == Self.streakLength else { return nil }
        return "the last \(count) pairs were all rejected for the same reason (\(reasons.first ?? "no reason given")): "
            + "the rig, not the scene, is the likely cause; \(cause.advice)"
    }

    /// Every pair of the run was rejected.
    public var allRejected: Bool { total > 0 && rejected == total }

    /// The error for a run whose every pair was rejected; nil otherwise.
    public var summary: String? {
        guard allRejected, let lastCause else { return nil }
        return "every pair of this run (\(total)) was rejected; \(lastCause.advice)"
    }
}
