import Alignment

extension AlignmentError: ClassifiedError {
    var isBadInput: Bool { true }
}
