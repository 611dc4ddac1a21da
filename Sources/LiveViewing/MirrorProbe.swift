import Alignment
import Foundation
import Imaging
import PairVocabulary
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
        /// The winner's map from shallow live-view pixels to deep live-view pixels with the mirror undone; nil when
        /// its registration failed.
        public let homography: Homography?
        public let shallowFrame: FrameSize
        public let deepFrame: FrameSize

        public static func == (a: Finding, b: Finding) -> Bool {
            a.mirror == b.mirror && a.correlation == b.correlation && a.candidates.map(\.mirror) == b.candidates.map(\.mirror)
                && a.homography == b.homography
        }

        /// What a starter rig file needs from the live views: the mirror, and the reference homography in the
        /// report's convention (source -> target as the deep camera records it, mirror included) between the two
        /// live-view frames, which alignment scales to the photographs (`AlignmentCalibration.reference`). Without
        /// a reference only the mirror; nil unless the finding is certain.
        public var calibration: AlignmentCalibration? {
            guard isCertain else { return nil }
            guard let h = homography else { return AlignmentCalibration(mirror: mirror) }
            let flip = Homography.flip(mirror, width: deepFrame.width, height: deepFrame.height)
            return AlignmentCalibration(mirror: mirror, referenceHomography: flip * h,
                                        referenceFrames: .init(source: shallowFrame, target: deepFrame))
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
        var scored: [(mirror: Mirror, correlation: Double, homography: Homography?)] = []
        for mirror in Mirror.allCases {
            let flipped = LiveViewImages.flipped(deep, mirror)
            let result = try? registration.register(source: shallow, target: flipped)
            let correlation = result.map { $0.failure == nil ? $0.correlation : 0 } ?? 0
            let usable = result.flatMap { $0.failure == nil && $0.homography.isFinite ? $0.homography : nil }
            scored.append((mirror, correlation.isFinite ? correlation : 0, usable))
        }
        scored.sort { $0.correlation > $1.correlation }
        return Finding(mirror: scored[0].mirror, correlation: scored[0].correlation,
                       candidates: scored.map { ($0.mirror, $0.correlation) }, homography: scored[0].homography,
                       shallowFrame: FrameSize(width: shallow.width, height: shallow.height),
                       deepFrame: FrameSize(width: deep.width, height: deep.height))
    }
}
