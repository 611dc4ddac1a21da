import Alignment
import Foundation
import Imaging
import Rig

/// Which mirror the deep camera's view needs, found from one pair of live-view frames: each candidate (none,
/// horizontal, vertical) is registered and the one that matches wins. One camera behind a beam splitter sees the
/// scene mirrored; a rig file that does not say so makes every registration fail (a starter file without
/// `alignment.mirror` got every pair of a capture rejected, and live view printed a 70 px "offset" at correlation
/// 0.009).
public struct MirrorProbe: Sendable {
    /// Below this correlation a registration means nothing: its offset is not printed as one.
    public static let meaningfulCorrelation = 0.5
    /// The winner must beat the runner-up by this much to be called certain.
    public static let margin = 0.15

    public struct Finding: Sendable, Equatable {
        public let mirror: Mirror
        public let correlation: Double
        /// Every candidate's correlation, best first.
        public let candidates: [(mirror: Mirror, correlation: Double)]

        public static func == (a: Finding, b: Finding) -> Bool {
            a.mirror == b.mirror && a.correlation == b.correlation && a.candidates.map(\.mirror) == b.candidates.map(\.mirror)
        }

        /// Registered well, and clearly better than the other mirrors.
        public var isCertain: Bool {
            correlation >= MirrorProbe.meaningfulCorrelation
                && correlation - (candidates.dropFirst().first?.correlation ?? 0) >= MirrorProbe.margin
        }

        /// "mirror horizontal (correlation 0.93; none 0.01, vertical 0.02)".
        public var description: String {
            "mirror \(mirror.rawValue) (correlation " + String(format: "%.2f", correlation) + "; "
                + candidates.dropFirst().map { "\($0.mirror.rawValue) " + String(format: "%.2f", $0.correlation) }
                    .joined(separator: ", ") + ")"
        }
    }

    public var registration = LiveViewRegistration()

    public init() {}

    /// One live-view frame of each camera of a connected rig, probed.
    public func find(rig: Rig) throws -> Finding {
        find(shallow: try LiveViewSession.frame(rig.shallow), deep: try LiveViewSession.frame(rig.deep))
    }

    /// Registers the shallow frame with the deep frame under each mirror.
    public func find(shallow: RGBImage, deep: RGBImage) -> Finding {
        var scored: [(mirror: Mirror, correlation: Double)] = []
        for mirror in [Mirror.none, .horizontal, .vertical] {
            let flipped = LiveViewImages.flipped(deep, mirror)
            let correlation = (try? registration.register(source: shallow, target: flipped)).map { $0.failure == nil ? $0.correlation : 0 } ?? 0
            scored.append((mirror, correlation.isFinite ? correlation : 0))
        }
        scored.sort { $0.correlation > $1.correlation }
        return Finding(mirror: scored[0].mirror, correlation: scored[0].correlation, candidates: scored)
    }
}
