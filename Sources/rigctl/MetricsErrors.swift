import Metrics
import NeuralCore

extension WeightFileError: ClassifiedError {}

extension MetricsError: ClassifiedError {
    var isBadInput: Bool { true }
}
