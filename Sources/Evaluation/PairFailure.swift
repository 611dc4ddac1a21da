import Foundation

/// An error on one pair of an evaluation, naming the pair and the stage, so that a run over hundreds of pairs
/// says which one failed (a decoder's or a network's own message often names neither).
public struct PairFailure: Error, CustomStringConvertible {
    public enum Stage: Sendable, Equatable, CustomStringConvertible {
        case decoding
        case restoring(method: String)
        case scoring(method: String)
        /// An aligning protocol's registration of a method's output onto the target (RealBlur's ECC can fail to
        /// converge on an output without structure, as the official script's does).
        case aligning(method: String, protocol: String)

        public var description: String {
            switch self {
            case .aligning(let method, let named): "aligning \(method)'s output onto the target (\(named) protocol)"
            case .decoding: "reading the images"
            case .restoring(let method): "running \(method)"
            case .scoring(let method): "scoring \(method)"
            }
        }
    }

    public var pair: String
    public var stage: Stage
    public var underlying: any Error

    public init(pair: String, stage: Stage, underlying: any Error) {
        self.pair = pair
        self.stage = stage
        self.underlying = underlying
    }

    public var description: String { "pair \(pair), \(stage): \(underlying)" }

    /// Runs `body`, wrapping its error (one that is already a `PairFailure`, or an `EvaluationError`, which names
    /// the pair itself, is passed on as it is).
    public static func naming<T>(_ pair: String, _ stage: Stage, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let failure as PairFailure {
            throw failure
        } catch let failure as EvaluationError {
            throw failure
        } catch {
            throw PairFailure(pair: pair, stage: stage, underlying: error)
        }
    }

    static func naming<T>(_ pair: ImagePair, _ stage: Stage, _ body: () throws -> T) throws -> T {
        try naming(pair.name, stage, body)
    }
}
