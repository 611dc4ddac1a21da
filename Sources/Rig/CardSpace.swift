import Foundation
import PairVocabulary
import ThreadSupport

/// How a "pairs that fit" figure was reckoned.
public enum FitBasis: String, Sendable, Codable, Equatable {
    /// Free bytes on the card divided by the bytes of the camera's latest shot (its files as downloaded).
    case fileSize
    /// The camera's own estimate of free images divided by files per shot: before the session's first shot, or
    /// when the camera reports no free bytes.
    case cameraEstimate

    /// As the command line prints it.
    public var wording: String { self == .fileSize ? "at the current file size" : "by the camera's own estimate" }
}

/// The rig's figure: the camera whose card fills first, and how many pairs it still takes.
public struct PairsThatFit: Sendable, Equatable, Codable {
    public var pairs: UInt64
    public var basis: FitBasis
    public var role: CameraRole

    public init(pairs: UInt64, basis: FitBasis, role: CameraRole) {
        self.pairs = pairs
        self.basis = basis
        self.role = role
    }
}

/// Free space on the cards turned into shots, and the one warning when few are left.
public enum CardSpace {
    /// Fewer pairs than this left on a card is a warning.
    public static let fewPairs: UInt64 = 50

    /// Shots that fit: free bytes over the latest shot's bytes where both are known, else the camera's estimate
    /// of images over files per shot; nil without either figure.
    public static func shotsThatFit(freeBytes: UInt64?, freeImages: UInt64?, filesPerShot: Int,
                                    bytesPerShot: UInt64?) -> (shots: UInt64, basis: FitBasis)? {
        if let free = freeBytes, let perShot = bytesPerShot, perShot > 0 { return (free / perShot, .fileSize) }
        if let images = freeImages { return (images / UInt64(max(1, filesPerShot)), .cameraEstimate) }
        return nil
    }

    public static func fewPairsWarning(_ fit: PairsThatFit) -> String {
        "only \(fit.pairs) more pair(s) fit on the cards (\(fit.role) camera, \(fit.basis.wording))"
    }
}

/// Warns once per session when the pairs that fit drop below `CardSpace.fewPairs`.
public struct LowSpaceWatch: Sendable {
    public private(set) var warned: Bool

    /// `warned`: the pre-flight has already said so.
    public init(warned: Bool = false) { self.warned = warned }

    /// The warning the first time the figure is low, nil every other time.
    public mutating func check(_ fit: PairsThatFit?) -> String? {
        guard !warned, let fit, fit.pairs < CardSpace.fewPairs else { return nil }
        warned = true
        return CardSpace.fewPairsWarning(fit)
    }
}

/// One camera's storages as read: free bytes, the camera's estimate of free images, capacity (nil where it gives none).
typealias StorageReading = [(freeBytes: UInt64?, freeImages: UInt64?, capacityBytes: UInt64?)]

extension Rig {
    /// Pairs that still fit, read afresh from the cards of the cameras that do not capture to the host (`toHost`,
    /// as the pre-flight found them): for the figure after each pair without reading every setting again.
    public func pairsThatFit(toHost: Set<CameraRole>) throws -> PairsThatFit? {
        pairsThatFit(storages: try readStorages(toHost: toHost))
    }

    /// The storages of the cameras that do not capture to the host, each read once.
    func readStorages(toHost: Set<CameraRole>) throws -> [CameraRole: StorageReading] {
        var out: [CameraRole: StorageReading] = [:]
        for camera in cameras where !toHost.contains(camera.role) { out[camera.role] = try camera.storageInfo() }
        return out
    }

    func pairsThatFit(storages: [CameraRole: StorageReading]) -> PairsThatFit? {
        var best: PairsThatFit?
        for camera in cameras {
            guard let storage = storages[camera.role],
                  let fit = CardSpace.shotsThatFit(freeBytes: storage.compactMap(\.freeBytes).max(),
                                                   freeImages: storage.compactMap(\.freeImages).max(),
                                                   filesPerShot: camera.filesPerShot, bytesPerShot: camera.lastShotBytes)
            else { continue }
            if best == nil || fit.shots < best!.pairs { best = PairsThatFit(pairs: fit.shots, basis: fit.basis, role: camera.role) }
        }
        return best
    }
}

extension PreflightReport {
    /// The roles whose files go to the host, not onto a card.
    public var rolesCapturingToHost: Set<CameraRole> { Set(cameras.filter(\.capturesToHost).map(\.role)) }

    /// The rig's figure with the camera that decides it.
    public var fit: PairsThatFit? {
        guard let pairs = pairsThatFit, let basis = pairsThatFitBasis,
              let role = cameras.filter({ $0.shotsThatFit != nil }).min(by: { $0.shotsThatFit! < $1.shotsThatFit! })?.role
        else { return nil }
        return PairsThatFit(pairs: pairs, basis: basis, role: role)
    }
}

/// The pairs that still fit, read from the cards after each pair of a session, with the one low-space warning the
/// session gets (none when the pre-flight already gave it).
public final class CardSpaceMonitor: Sendable {
    private let rig: Rig
    private let toHost: Set<CameraRole>
    private let watch: LockedValue<LowSpaceWatch>

    public init(rig: Rig, preflight: PreflightReport) {
        self.rig = rig
        toHost = preflight.rolesCapturingToHost
        watch = LockedValue(LowSpaceWatch(warned: (preflight.pairsThatFit ?? .max) < CardSpace.fewPairs))
    }

    /// The figure now (nil when no card limits the rig or a card cannot be read: the next pair will tell), the
    /// warning to give, the first time it is low, and with `readingCameras` a full reading of the cameras (nil when
    /// one cannot be read). The full reading takes the free space from the cards just read rather than asking the
    /// cameras again, so each camera's storages are read once per pair.
    public func afterPair(readingCameras: Bool = false) -> (fit: PairsThatFit?, warning: String?, cameras: [CameraPreflight]?) {
        let storages = try? rig.readStorages(toHost: toHost)
        let fit = storages.flatMap(rig.pairsThatFit(storages:))
        let warning = watch.withLock { $0.check(fit) }
        let cameras = readingCameras ? (try? rig.preflight(apply: false, storages: storages ?? [:]))?.cameras : nil
        return (fit, warning, cameras)
    }
}
