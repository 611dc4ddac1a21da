import Foundation
import Imaging
import PairVocabulary

/// One camera's file of a pair, with the host-side journal of how it was taken.
public struct CapturedFile: Sendable, Equatable, Codable {
    public var role: CameraRole
    /// Name in the pair's folder, for example `0003_deep.dng`.
    public var fileName: String
    /// Where the file was on the camera's card.
    public var cameraPath: String
    public var cameraPort: String
    public var bytes: Int
    /// Host time just before the trigger request was sent (nil for an external release).
    public var triggerStart: Date?
    /// Host time when the camera accepted the trigger.
    public var triggerEnd: Date?
    /// Host time when the camera announced the file.
    public var arrival: Date
    /// Host time when the download finished.
    public var downloaded: Date
    /// DeviceBusy answers before the trigger was accepted.
    public var busyRetries: Int
    /// What the file itself says (EXIF), read with `RawDecoder().metadata`.
    public var metadata: CaptureMetadata
    /// The other files of the same shot (the JPEG of a RAW+JPEG shot), in the pair's folder; absent for one file.
    public var companions: [String]?

    /// Where in the trigger call the shutter fires, 0 (its start) to 1 (its end): 0.5 for one generic request;
    /// 0 for a Nikon (the capture request comes first, then libgphoto2 polls until the body is ready); 1 for a Canon
    /// EOS (the full press comes after the half press and the focus wait). Absent means 0.5.
    public var fireFraction: Double?

    public init(role: CameraRole, fileName: String, cameraPath: String, cameraPort: String, bytes: Int, triggerStart: Date?,
                triggerEnd: Date?, arrival: Date, downloaded: Date, busyRetries: Int = 0,
                metadata: CaptureMetadata = CaptureMetadata(), companions: [String]? = nil, fireFraction: Double? = nil) {
        self.role = role
        self.fileName = fileName
        self.cameraPath = cameraPath
        self.cameraPort = cameraPort
        self.bytes = bytes
        self.triggerStart = triggerStart
        self.triggerEnd = triggerEnd
        self.arrival = arrival
        self.downloaded = downloaded
        self.busyRetries = busyRetries
        self.metadata = metadata
        self.companions = companions
        self.fireFraction = fireFraction
    }

    /// The best host-side estimate of when the camera fired, from the trigger call and where in it the shutter
    /// fires for the camera's vendor.
    public var triggerTime: Date? {
        guard let s = triggerStart, let e = triggerEnd else { return nil }
        return s.addingTimeInterval(e.timeIntervalSince(s) * (fireFraction ?? 0.5))
    }
}

/// A complete pair: both files are in `directory` and the sidecar `<index>.json` records this value.
///
/// A pair exists only when both files and the sidecar were written; the capture code never leaves one without
/// the others.
public struct CapturedPair: Sendable, Equatable, Codable {
    public var index: Int
    public var trigger: TriggerMode
    public var shallow: CapturedFile
    public var deep: CapturedFile
    /// Seconds from the shallow camera's trigger to the deep one's (midpoints of the trigger requests); nil for
    /// an external release.
    public var triggerSkew: Double?
    /// Seconds from the shallow file's arrival to the deep file's.
    public var arrivalSkew: Double
    /// Camera files announced but left unpaired (external release: no partner within the window).
    public var discarded: [String]
    /// The folder holding the pair (not stored in the sidecar, which sits in it).
    public var directory: URL

    enum CodingKeys: String, CodingKey { case index, trigger, shallow, deep, triggerSkew, arrivalSkew, discarded }

    public init(index: Int, trigger: TriggerMode, shallow: CapturedFile, deep: CapturedFile, triggerSkew: Double?,
                arrivalSkew: Double, discarded: [String], directory: URL) {
        self.index = index
        self.trigger = trigger
        self.shallow = shallow
        self.deep = deep
        self.triggerSkew = triggerSkew
        self.arrivalSkew = arrivalSkew
        self.discarded = discarded
        self.directory = directory
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        index = try c.decode(Int.self, forKey: .index)
        trigger = try c.decode(TriggerMode.self, forKey: .trigger)
        shallow = try c.decode(CapturedFile.self, forKey: .shallow)
        deep = try c.decode(CapturedFile.self, forKey: .deep)
        triggerSkew = try c.decodeIfPresent(Double.self, forKey: .triggerSkew)
        arrivalSkew = try c.decode(Double.self, forKey: .arrivalSkew)
        discarded = try c.decodeIfPresent([String].self, forKey: .discarded) ?? []
        directory = URL(fileURLWithPath: ".")
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(index, forKey: .index)
        try c.encode(trigger, forKey: .trigger)
        try c.encode(shallow, forKey: .shallow)
        try c.encode(deep, forKey: .deep)
        try c.encodeIfPresent(triggerSkew, forKey: .triggerSkew)
        try c.encode(arrivalSkew, forKey: .arrivalSkew)
        try c.encode(discarded, forKey: .discarded)
    }

    public func file(_ role: CameraRole) -> CapturedFile { role == .shallow ? shallow : deep }
    public func url(_ role: CameraRole) -> URL { directory.appendingPathComponent(file(role).fileName) }
    public var sidecarURL: URL { directory.appendingPathComponent(Self.sidecarName(index)) }

    static func stem(_ index: Int) -> String { String(format: "%04d", index) }
    static func sidecarName(_ index: Int) -> String { stem(index) + ".json" }

    /// Reads a pair back from its sidecar.
    public static func load(sidecar url: URL) throws -> CapturedPair {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw RigError.output(path: url.path, reason: "cannot read the pair record")
        }
        return try decode(data, sidecar: url)
    }

    /// A pair record from bytes read by the caller (a dataset reads incoming/ without following links); `url` is
    /// where they came from.
    public static func decode(_ data: Data, sidecar url: URL) throws -> CapturedPair {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        do {
            var pair = try decoder.decode(CapturedPair.self, from: data)
            pair.directory = url.deletingLastPathComponent()
            return pair
        } catch {
            throw RigError.output(path: url.path, reason: "not a pair record: \(error)")
        }
    }

    func sidecarData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .secondsSince1970
        return try encoder.encode(self)
    }
}
