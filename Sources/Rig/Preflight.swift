import Foundation
import PairVocabulary

/// One camera's state before the first pair: what could stop a session part-way or spoil its pairs.
public struct CameraPreflight: Sendable, Equatable, Codable {
    public var role: CameraRole
    public var port: String
    public var vendor: CameraVendor
    public var manufacturer: String?
    public var model: String?
    public var serialNumber: String?
    /// As the camera words it ("100%", "75%", "Low").
    public var battery: String?
    /// Percent, where the wording allows it.
    public var batteryPercent: Int?
    /// libgphoto2's capture target ("Internal RAM", "Memory card"); nil where the camera has none (generic: card).
    public var captureTarget: String?
    /// True when files stay off the card (capture target RAM).
    public var capturesToHost: Bool
    public var freeBytes: UInt64?
    /// The camera's own estimate of how many more images fit.
    public var freeImages: UInt64?
    public var filesPerShot: Int
    /// Bytes of the latest shot this session downloaded from the camera (all its files); nil before the first.
    public var bytesPerShot: UInt64?
    /// Shots that still fit on this camera's card, and how that was reckoned (nil when it captures to the host
    /// or gives no free-space figure).
    public var shotsThatFit: UInt64?
    public var fitBasis: FitBasis?
    public var focusMode: String?
    public var aperture: String?
    public var shutter: String?
    public var iso: String?
    /// The rig file's settings as applied and read back (empty unless they were applied).
    /// The exposure program and drive mode as the camera reports them (nil where it does not).
    public var exposureProgram: String?
    public var driveMode: String?
    public var applied: [AppliedSetting]

    /// Charge below which a battery is a warning: one figure for the pre-flight and the capture dashboard, so the
    /// two never disagree about the same camera.
    public static let lowBatteryPercent = 25
}

/// One risk the pre-flight found: what kind (so that a caller picks warnings by kind, never by their words), the
/// camera it concerns, and the sentence a person reads.
public struct PreflightWarning: Sendable, Equatable, Codable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// The card reports neither free bytes nor free images.
        case noFreeSpaceFigure
        case lowBattery
        /// Autofocus, or a focus mode the camera does not report.
        case focusMode
        /// A setting the camera holds differs from the rig file's (`capture` applies them, so it says these only
        /// with --no-settings).
        case settingDiffers
        case fewPairsFit
        case exposureDiffers
        case shutterDiffers
        /// A wired release (external or trigger box) and a camera not in manual exposure: it meters each shot itself.
        case exposureProgram
        /// A wired release and a camera not in single-shot drive: a long release fires a burst.
        case driveMode
    }

    public var kind: Kind
    /// The camera it concerns; nil for the rig as a whole.
    public var role: CameraRole?
    public var message: String

    public init(_ kind: Kind, role: CameraRole? = nil, _ message: String) {
        self.kind = kind
        self.role = role
        self.message = message
    }

    public var description: String { message }
}

/// The whole rig's pre-flight: both cameras, how many pairs fit, and what is wrong (errors) or risky (warnings).
public struct PreflightReport: Sendable, Equatable, Codable {
    public var cameras: [CameraPreflight]
    /// Pairs that still fit on the cards at the current file size (nil when both capture to the host).
    public var pairsThatFit: UInt64?
    /// How the limiting camera's figure was reckoned: from its free bytes and the size of its latest shot, or
    /// (before the session's first shot) from the camera's own estimate of free images.
    public var pairsThatFitBasis: FitBasis?
    /// Exposure difference deep minus shallow in stops (aperture, shutter and ISO together); nil when unknown.
    public var exposureDifferenceStops: Double?
    public var sameShutter: Bool?
    public var sameISO: Bool?
    public var warnings: [PreflightWarning]
    public var errors: [String]
    /// The trigger box as set up and read back (trigger `trigger-box`); nil otherwise or when it did not answer
    /// (then `errors` says why).
    public var triggerBox: TriggerBoxState?

    public var ok: Bool { errors.isEmpty }
}

extension Rig {
    /// Reads both cameras and judges the rig. With `apply`, the rig file's settings are applied and read back
    /// first (a refused or ignored setting is an error of the report); without, differences from the rig file are
    /// warnings.
    public func preflight(apply: Bool) throws -> PreflightReport {
        try preflight(apply: apply, storages: [:])
    }

    /// `storages`: cameras' storages just read (`CardSpaceMonitor`), used instead of reading them again.
    func preflight(apply: Bool, storages: [CameraRole: StorageReading]) throws -> PreflightReport {
        var cameras: [CameraPreflight] = []
        var warnings: [PreflightWarning] = []
        var errors: [String] = []
        for camera in self.cameras {
            var applied: [AppliedSetting] = []
            if apply {
                do {
                    applied = try camera.applySettings()
                } catch let error as RigError {
                    errors.append(error.description)
                }
            }
            let status = try camera.status()
            let storage = storages[camera.role] ?? (try? camera.storageInfo()) ?? []
            let target = status.captureTarget
            let toHost = target.map { SettingChoice.captureTarget(.ram, in: [$0]) != nil } ?? false
            var p = CameraPreflight(role: camera.role, port: camera.port, vendor: camera.vendor, manufacturer: status.manufacturer,
                                    model: status.model, serialNumber: status.serialNumber, battery: status.battery,
                                    batteryPercent: status.battery.flatMap(Self.batteryPercent), captureTarget: target,
                                    capturesToHost: toHost, freeBytes: storage.compactMap(\.freeBytes).max(),
                                    freeImages: storage.compactMap(\.freeImages).max(), filesPerShot: camera.filesPerShot,
                                    focusMode: status.focusMode, aperture: status.aperture, shutter: status.shutter,
                                    iso: status.iso, applied: applied)
            p.bytesPerShot = camera.lastShotBytes
            if !toHost, let fit = CardSpace.shotsThatFit(freeBytes: p.freeBytes, freeImages: p.freeImages,
                                                          filesPerShot: p.filesPerShot, bytesPerShot: p.bytesPerShot) {
                p.shotsThatFit = fit.shots
                p.fitBasis = fit.basis
            }
            if p.freeBytes == nil && p.freeImages == nil && !toHost {
                warnings.append(.init(.noFreeSpaceFigure, role: camera.role, "\(camera.label): no free-space figure from the card"))
            }
            if let percent = p.batteryPercent, percent < CameraPreflight.lowBatteryPercent {
                warnings.append(.init(.lowBattery, role: camera.role,
                                      "\(camera.label): battery at \(status.battery ?? "?"): charge it before a long session"))
            }
            if let focus = p.focusMode, !SettingChoice.isManualFocus(focus) {
                warnings.append(.init(.focusMode, role: camera.role,
                                      "\(camera.label): focus mode \"\(focus)\" is autofocus: focus can move between shots; set manual focus"))
            } else if p.focusMode == nil {
                warnings.append(.init(.focusMode, role: camera.role,
                                      "\(camera.label): the camera does not report its focus mode: make sure the lens is set to manual focus"))
            }
            p.exposureProgram = status.exposureProgram
            p.driveMode = status.driveMode
            if file.trigger != .software {
                warnings += Self.wiredReleaseRisks(camera: camera, status: status, trigger: file.trigger)
            }
            if !apply {
                warnings += Self.differences(camera: camera, status: status)
            }
            if p.freeImages == 0 && !toHost { errors.append("\(camera.label): the card is full") }
            cameras.append(p)
        }
        // Pairs that fit: the camera whose card fills first decides.
        let limiting = cameras.filter { $0.shotsThatFit != nil }.min { $0.shotsThatFit! < $1.shotsThatFit! }
        let pairs = limiting?.shotsThatFit
        if let pairs, pairs < CardSpace.fewPairs {
            warnings.append(.init(.fewPairsFit, role: limiting!.role,
                                  CardSpace.fewPairsWarning(PairsThatFit(pairs: pairs, basis: limiting!.fitBasis!, role: limiting!.role))))
        }

        let shallow = cameras.first { $0.role == .shallow }, deep = cameras.first { $0.role == .deep }
        var difference: Double?
        var sameShutter: Bool?
        var sameISO: Bool?
        if let s = shallow, let d = deep {
            let ts = s.shutter.flatMap(SettingChoice.seconds), td = d.shutter.flatMap(SettingChoice.seconds)
            let ns = s.aperture.flatMap(SettingChoice.fNumber), nd = d.aperture.flatMap(SettingChoice.fNumber)
            let isoS = s.iso.flatMap { Double($0) }, isoD = d.iso.flatMap { Double($0) }
            if let ts, let td { sameShutter = abs(log2(ts / td)) < 0.1 }
            if let isoS, let isoD { sameISO = isoS == isoD }
            if let ts, let td, let ns, let nd, let isoS, let isoD {
                // Brightness of the image in stops: more time and ISO brighten, a larger f-number darkens.
                let ev = { (t: Double, n: Double, iso: Double) in log2(t) - 2 * log2(n) + log2(iso) }
                difference = ev(td, nd, isoD) - ev(ts, ns, isoS)
                if let diff = difference, abs(diff) > 1.0 / 3 + 0.05 {
                    warnings.append(.init(.exposureDiffers, String(format: "the deep camera's exposure is %+.1f stops from the shallow camera's: the pair's brightness will differ", diff)))
                }
            }
            if sameShutter == false, !file.staticScenes, let ts, let td {
                // In one notation (cameras report 1/500 and 0.0080s for the same kind of value).
                let shallowText = RoleSettings.shutterText(ts) + " s", deepText = RoleSettings.shutterText(td) + " s"
                warnings.append(.init(.shutterDiffers, "the roles use different shutter speeds (\(shallowText) and \(deepText)): motion blur differs between them"))
            }
        }
        // The trigger box as it holds itself now (connecting the rig set it up from the rig file and checked that).
        var boxState: TriggerBoxState?
        if let box = triggerBox {
            do {
                boxState = try box.read()
            } catch {
                errors.append("\(error)")
            }
        }
        return PreflightReport(cameras: cameras, pairsThatFit: pairs, pairsThatFitBasis: limiting?.fitBasis,
                               exposureDifferenceStops: difference, sameShutter: sameShutter,
                               sameISO: sameISO, warnings: warnings, errors: errors, triggerBox: boxState)
    }

    /// What a wired release needs that rigctl cannot set for it: the camera must not meter (manual exposure) and
    /// must take one frame per release (single-shot drive). A setting the body does not report is a warning too.
    static func wiredReleaseRisks(camera: RigCamera, status: CameraStatus, trigger: TriggerMode) -> [PreflightWarning] {
        let how = trigger == .triggerBox ? "the trigger box fires" : "a wired release fires"
        var out: [PreflightWarning] = []
        switch status.exposureProgram {
        case let program? where !SettingChoice.isManualExposure(program):
            out.append(.init(.exposureProgram, role: camera.role,
                             "\(camera.label): exposure program \"\(program)\" is not manual: \(how) it with the exposure it meters itself, not the rig file's; set M"))
        case nil:
            out.append(.init(.exposureProgram, role: camera.role,
                             "\(camera.label): the camera does not report its exposure program: make sure the mode dial is on M"))
        default: break
        }
        switch status.driveMode {
        case let drive? where !SettingChoice.isSingleShot(drive):
            out.append(.init(.driveMode, role: camera.role,
                             "\(camera.label): drive mode \"\(drive)\" is not single shot: a release held as long as \(how) it can take several frames; set single shot"))
        case nil:
            out.append(.init(.driveMode, role: camera.role,
                             "\(camera.label): the camera does not report its drive mode: make sure it is single shot"))
        default: break
        }
        return out
    }

    /// "100%" -> 100, "Low" -> 10; nil for anything else.
    static func batteryPercent(_ text: String) -> Int? {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t.hasSuffix("%"), let v = Int(t.dropLast()) { return v }
        if let v = Int(t) { return v }
        return t.lowercased() == "low" ? 10 : nil
    }

    /// The rig file's settings that the camera does not hold now, by meaning.
    static func differences(camera: RigCamera, status: CameraStatus) -> [PreflightWarning] {
        let w = camera.spec.settings
        var out: [PreflightWarning] = []
        func note(_ what: String, _ wanted: String, _ found: String?) {
            out.append(.init(.settingDiffers, role: camera.role,
                             "\(camera.label): \(what) is \(found ?? "unknown"), the rig file asks for \(wanted) (apply with --apply or capture)"))
        }
        if let a = w.aperture, status.aperture.flatMap({ SettingChoice.aperture(a, in: [$0]) }) == nil {
            note("aperture", "f/" + String(format: "%g", a), status.aperture)
        }
        if let t = w.shutter, status.shutter.flatMap({ SettingChoice.shutter(t, in: [$0]) }) == nil {
            note("shutter", RoleSettings.shutterText(t) + " s", status.shutter)
        }
        if let iso = w.iso, status.iso.flatMap({ SettingChoice.iso(iso, in: [$0]) }) == nil {
            note("ISO", String(iso), status.iso)
        }
        return out
    }
}

extension RigCamera {
    /// One live-view frame.
    public func capturePreview() throws -> Data {
        do { return try camera.capturePreview() } catch { throw RigError.camera(failure(.liveView, error)) }
    }

    /// What a camera says when asked again after a failed shot (a cheap read of its storages). libgphoto2's PTP
    /// driver reports both a dropped PTP/IP link and a full card (StoreFull) as a general error of the request in
    /// flight, so a failure's code cannot tell them from a refused shot; asking the camera can.
    public enum AfterFailure: Sendable, Equatable {
        /// No answer: the link is gone.
        case gone
        /// It answers, and not one more shot fits on its card.
        case cardFull
        case answering
    }

    public func askAfterFailure() -> AfterFailure {
        guard let storage = try? camera.storageInfo() else { return .gone }
        let fit = CardSpace.shotsThatFit(freeBytes: storage.compactMap(\.freeBytes).max(),
                                         freeImages: storage.compactMap(\.freeImages).max(),
                                         filesPerShot: filesPerShot, bytesPerShot: lastShotBytes)
        return fit?.shots == 0 ? .cardFull : .answering
    }

    /// Free space on the camera's storages.
    public func storageInfo() throws -> [(freeBytes: UInt64?, freeImages: UInt64?, capacityBytes: UInt64?)] {
        do { return try camera.storageInfo() } catch { throw RigError.camera(failure(.reading, error)) }
    }
}
