import Foundation
import PairVocabulary
import Pipeline
import Rig

/// What the capture command tells the dashboard, in the rig's and the pipeline's own types.
public enum DashboardEvent: Sendable {
    /// The pre-flight before the first pair: cameras, cards, the trigger box, and what it warned of.
    case preflight(PreflightReport)
    /// Cameras read again between pairs.
    case cameras([CameraPreflight])
    /// The cards' figure after a pair.
    case fit(PairsThatFit?)
    /// The first pair is being fired.
    case capturing
    /// A pair landed (`number` in this run; `captureID` once catalogued; `scene` as asked).
    case captured(number: Int, captureID: CaptureID?, pair: CapturedPair, scene: String?)
    case processed(PairOutcome)
    /// The thumbnails of pair `number` were made (or could not be).
    case thumbnails(number: Int, ready: Bool)
    case processingFailed(String)
    /// Captures waiting for the pipeline's worker.
    case waiting(Int)
    /// The worker took one of them.
    case processingStarted
    /// Ctrl-C: the pair in hand is finished, then the capture stops.
    case stopping
    /// What the failed cameras said when asked again, before `ended` (so that it can say "gone" or "card full").
    case askedAfterFailure([CameraRole: RigCamera.AfterFailure])
    /// The capture ended: nil when it ran to its count (or was stopped), else why it stopped.
    case ended(CaptureFailure?)
}

/// Why a capture stopped, with the cameras behind it (so that a dropped link and a missing frame are told apart
/// by their stage and libgphoto2's code, never by the words).
public struct CaptureFailure: Sendable, Equatable {
    public var message: String
    public var cameras: [CameraFailure]
    /// "pair N: " when the failure belongs to a pair.
    public var pairLabel: String

    public init(_ error: any Error) {
        message = "\(error)"
        if let rig = error as? RigError {
            cameras = rig.failures
            if case .pairAborted(let index, _) = rig { pairLabel = "pair \(index): " } else { pairLabel = "" }
        } else {
            cameras = []
            pairLabel = ""
        }
    }
}
