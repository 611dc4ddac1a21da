import Rig
import VirtualCamera

extension RigFileError: ClassifiedError {
    var isBadInput: Bool { true }
}

extension VirtualCameraError: ClassifiedError {
    var isBadInput: Bool {
        switch self {
        case .badScene, .badConfiguration: true
        case .cannotListen: false
        }
    }
}

extension RigError: ClassifiedError {
    var isBadInput: Bool { false }
}

extension GPhotoError: ClassifiedError {
    var isBadInput: Bool { false }
}

extension CameraSelectionError: ClassifiedError {
    /// A port or serial that names no connected camera is a mistake in the command.
    var isBadInput: Bool { true }
}
