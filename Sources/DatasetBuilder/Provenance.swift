import Foundation
import PairVocabulary

/// Where a pair without a capture of its own was first made, as the rigctl export it was imported from recorded it:
/// that pair's key, cameras, exposure, skew, source files and origin. An imported pair has no capture to hang camera
/// records on, and without these a re-export would forget them (export -> import -> export would not give the same
/// manifest). Kept as the export wrote it; nothing in the catalogue is derived from it.
public struct PairProvenance: Sendable, Codable, Equatable {
    /// The pair's key in the dataset that first made it.
    public let pairKey: String
    public let captureTime: String?
    /// Role (source, target) to the camera and exposure of that shot; nil when that pair had no capture either.
    public let cameras: [ShotRole: ManifestShot]?
    public let skew: Double?
    /// SHA-256 of the files the pair was first made from (`aligned/<role>`, `original/<role>`).
    public let sourceFiles: [String: String]
    /// The first dataset's own account of where the pair came from.
    public let origin: String

    public init(pairKey: String, captureTime: String?, cameras: [ShotRole: ManifestShot]?, skew: Double?,
                sourceFiles: [String: String], origin: String) {
        self.pairKey = pairKey
        self.captureTime = captureTime
        self.cameras = cameras
        self.skew = skew
        self.sourceFiles = sourceFiles
        self.origin = origin
    }
}

extension ManifestPair {
    /// What this manifest records about where the pair was made.
    var provenance: PairProvenance {
        PairProvenance(pairKey: pairKey, captureTime: captureTime, cameras: cameras, skew: skew,
                       sourceFiles: sourceFiles, origin: origin)
    }
}
