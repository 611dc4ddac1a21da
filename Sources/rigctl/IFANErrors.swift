import IFANEngine
import NeuralCore

extension IFANError: ClassifiedError {
    var isBadInput: Bool { true }
}

extension IFANModelError: ClassifiedError {
    var isBadInput: Bool { true }
}

extension NPYError: ClassifiedError {
    var isBadInput: Bool { true }
}

