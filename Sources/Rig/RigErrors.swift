import Foundation
import PairVocabulary

/// What rigctl was doing with a camera when something went wrong.
public enum CaptureStage: String, Sendable, Codable, CustomStringConvertible {
    case connecting = "connecting"
    case configuring = "applying settings"
    case reading = "reading settings"
    case triggering = "triggering"
    case waitingForFile = "waiting for its file"
    case downloading = "downloading"
    case deleting = "deleting the file on the card"
    case writing = "writing the file"
    case checking = "checking the file"
    case liveView = "reading its live view"

    public var description: String { rawValue }
}

/// One camera's failure: which camera, at which stage, and why.
public struct CameraFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var role: CameraRole
    /// The camera as named in messages, with its port.
    public var camera: String
    public var stage: CaptureStage
    public var reason: String
    /// The libgphoto2 result code when the failure came from libgphoto2.
    public var code: Int32?
    /// The camera gave up only because the other one failed first (not news when that one is reported).
    public var becauseTheOtherFailed: Bool

    public init(role: CameraRole, camera: String, stage: CaptureStage, reason: String, code: Int32? = nil,
                becauseTheOtherFailed: Bool = false) {
        self.role = role
        self.camera = camera
        self.stage = stage
        self.reason = reason
        self.code = code
        self.becauseTheOtherFailed = becauseTheOtherFailed
    }

    /// This camera stopped at the trigger because the other one failed before it.
    static func otherFailedFirst(role: CameraRole, camera: String) -> CameraFailure {
        CameraFailure(role: role, camera: camera, stage: .triggering, reason: "the other camera failed before the trigger",
                      becauseTheOtherFailed: true)
    }

    public var description: String { "\(camera) failed while \(stage): \(reason)" }

    /// The camera's link failed (libgphoto2's I/O or timeout codes, as `GPhotoError.isConnectionLost`): it is gone
    /// until reconnected, which a dashboard must say louder than a failed shot.
    public var isConnectionLost: Bool {
        guard let code else { return false }
        return GPhotoError(code: code, operation: "").isConnectionLost
    }

    /// The camera refused the shot because its card is full.
    public var isCardFull: Bool { code.map { GPhotoError(code: $0, operation: "").isCardFull } ?? false }
}

/// Why a rig could not be used or a pair not captured.
public enum RigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A camera failed outside a pair (connecting, configuring, reading).
    case camera(CameraFailure)
    /// A pair was abandoned; nothing of it was written.
    case pairAborted(index: Int, failures: [CameraFailure])
    /// The output folder cannot take the pair.
    case output(path: String, reason: String)
    /// The trigger box could not be set up or fired (`index`: the pair it was to fire; nothing of it was written).
    case triggerBox(index: Int?, TriggerBoxError)

    public var description: String {
        switch self {
        case .camera(let f): f.description
        case .pairAborted(let index, let failures):
            "pair \(index) aborted, nothing of it was written: " + failures.map(\.description).joined(separator: "; ")
        case .output(let path, let reason): "cannot write to \(path): \(reason)"
        case .triggerBox(let index?, let error): "pair \(index) aborted, nothing of it was written: \(error)"
        case .triggerBox(nil, let error): error.description
        }
    }

    /// The failures behind the error, one per camera that failed.
    public var failures: [CameraFailure] {
        switch self {
        case .camera(let f): [f]
        case .pairAborted(_, let failures): failures
        case .output, .triggerBox: []
        }
    }
}
