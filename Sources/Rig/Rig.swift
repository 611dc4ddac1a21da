import AtomicFiles
import Foundation
import Imaging
import PairVocabulary
import ThreadSupport

/// A connected two-camera rig: captures pairs and writes them, whole or not at all.
///
/// Each camera is driven from its own thread during a pair; both threads wait at one barrier and trigger the
/// moment it opens, so the software-trigger skew is what the links and the cameras add, not the host.
public final class Rig: Sendable {
    public let file: RigFile
    public let shallow: RigCamera
    public let deep: RigCamera
    /// The box that fires both cameras (trigger `trigger-box`), opened with the cameras; nil otherwise.
    public let triggerBox: TriggerBox?

    /// Connects both cameras (one after the other: libgphoto2's init is not thread-safe), and opens the trigger
    /// box when the rig file fires one.
    public init(file: RigFile, library: GPhotoLibrary) throws {
        self.file = file
        guard let s = file.camera(.shallow), let d = file.camera(.deep) else {
            throw RigError.camera(CameraFailure(role: .shallow, camera: "rig", stage: .connecting, reason: "the rig file needs a shallow and a deep camera"))
        }
        shallow = try RigCamera(spec: s, library: library)
        do {
            deep = try RigCamera(spec: d, library: library)
        } catch {
            shallow.close()
            throw error
        }
        if file.trigger == .triggerBox, let settings = file.triggerBox {
            do {
                // Set up as the rig file says before any pair (the box keeps whatever it was last told).
                let box = try TriggerBox(settings: settings)
                try box.configure()
                triggerBox = box
            } catch {
                shallow.close()
                deep.close()
                throw (error as? TriggerBoxError).map { RigError.triggerBox(index: nil, $0) } ?? error
            }
        } else {
            triggerBox = nil
        }
    }

    public var cameras: [RigCamera] { [shallow, deep] }

    public func camera(_ role: CameraRole) -> RigCamera { role == .shallow ? shallow : deep }

    public func close() {
        shallow.close()
        deep.close()
    }

    /// Applies both roles' settings from the rig file, each read back and checked (see `RigCamera.applySettings`).
    @discardableResult
    public func applySettings() throws -> [CameraRole: [AppliedSetting]] {
        [.shallow: try shallow.applySettings(), .deep: try deep.applySettings()]
    }

    /// The first index with no pair in `directory` (after the highest existing one).
    public static func nextIndex(in directory: URL) -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        let used = names.compactMap { name -> Int? in
            guard name.hasSuffix(".json"), name.count == 9 else { return nil }
            return Int(name.prefix(4))
        }
        return (used.max() ?? 0) + 1
    }

    // MARK: Software trigger

    /// Sets nothing, fires both cameras at once, waits for both files, downloads them and writes the pair.
    public func capturePair(index: Int, into directory: URL) throws -> CapturedPair {
        let delete = !file.keepOnCamera
        let barrier = StartBarrier(parties: 2)
        let results = run(both: { camera in
            try camera.drainEvents()
            barrier.arriveAndWait()
            if barrier.isCancelled {
                throw CameraFailure.otherFailedFirst(role: camera.role, camera: camera.label)
            }
            let t = try camera.trigger(busyRetries: self.file.busyRetries)
            let files = try camera.waitForShot(until: t.end.addingTimeInterval(self.file.fileTimeout), waitedFrom: t.end)
            return try Self.download(files, camera: camera, delete: delete, triggerStart: t.start, triggerEnd: t.end,
                                     busyRetries: t.retries)
        }, onFailure: { barrier.cancel() })
        let (s, d) = try unwrap(results, index: index)
        return try write(index: index, shallow: s, deep: d, mode: .software, discarded: [], into: directory)
    }

    /// Captures `count` pairs one after the other into `directory`, numbering them after those already there.
    /// Stops at the first failure (pairs already written stay, complete).
    public func capture(count: Int, into directory: URL, progress: (CapturedPair) -> Void = { _ in }) throws -> [CapturedPair] {
        try prepare(directory)
        var pairs: [CapturedPair] = []
        var index = Self.nextIndex(in: directory)
        for _ in 0..<count {
            let pair = try nextPair(index: index, into: directory)
            pairs.append(pair)
            progress(pair)
            index += 1
        }
        return pairs
    }

    /// One pair as the rig file fires it: both cameras triggered over their links, the trigger box fired, or an
    /// external release waited for.
    public func nextPair(index: Int, into directory: URL) throws -> CapturedPair {
        switch file.trigger {
        case .software: try capturePair(index: index, into: directory)
        case .external: try waitForExternalPair(index: index, into: directory)
        case .triggerBox: try fireTriggerBox(index: index, into: directory)
        }
    }

    // MARK: Trigger box

    /// Drops whatever the cameras announced before, fires the trigger box, and pairs the two files it released as
    /// an external release's. The pair records the trigger box as how it was fired and the arrival skew.
    public func fireTriggerBox(index: Int, into directory: URL) throws -> CapturedPair {
        guard let box = triggerBox else {
            throw RigError.triggerBox(index: index, .cannotOpen(device: file.triggerBox?.device ?? "(none)",
                                                                reason: "the rig file's trigger is not trigger-box"))
        }
        for camera in cameras {
            do { try camera.drainEvents() } catch {
                throw RigError.pairAborted(index: index, failures: [camera.failure(.triggering, error)])
            }
        }
        do {
            try box.fire()
        } catch let error as TriggerBoxError {
            throw RigError.triggerBox(index: index, error)
        }
        return try waitForReleasedPair(index: index, into: directory, mode: .triggerBox)
    }

    // MARK: External release

    /// Waits for a file from each camera (fired by an external release) and pairs them by arrival time: files
    /// whose partner does not arrive within the pairing window are discarded and recorded.
    public func waitForExternalPair(index: Int, into directory: URL) throws -> CapturedPair {
        try waitForReleasedPair(index: index, into: directory, mode: .external)
    }

    func waitForReleasedPair(index: Int, into directory: URL, mode: TriggerMode) throws -> CapturedPair {
        let delete = !file.keepOnCamera
        let timeout = file.fileTimeout
        let next: @Sendable (RigCamera) throws -> Shot = { camera in
            let start = Date()
            let files = try camera.waitForShot(until: start.addingTimeInterval(timeout), waitedFrom: start)
            return try Self.download(files, camera: camera, delete: delete, triggerStart: nil, triggerEnd: nil, busyRetries: 0)
        }
        var (s, d) = try unwrap(run(both: next, onFailure: {}), index: index)
        var discarded: [String] = []
        while abs(d.arrival.timeIntervalSince(s.arrival)) > file.pairingWindow {
            // The earlier file has no partner: drop it and wait for that camera's next one.
            let earlyIsShallow = s.arrival < d.arrival
            let gap = abs(d.arrival.timeIntervalSince(s.arrival))
            let dropped = earlyIsShallow ? s.path : d.path
            discarded.append(earlyIsShallow ? "shallow: \(s.path)" : "deep: \(d.path)")
            do {
                if earlyIsShallow { s = try next(shallow) } else { d = try next(deep) }
            } catch var f as CameraFailure {
                // Said with the discard that led here: a body whose release lags the other's by more than the
                // window otherwise reads as a camera that never delivered.
                f.reason += String(format: ", after its file %@ was discarded: the %@ camera's came %.2f s later, "
                                   + "beyond the rig file's pairingWindow of %.2f s (widen it if the bodies' release "
                                   + "lag is that long)", "\(dropped)", earlyIsShallow ? "deep" : "shallow", gap,
                                   file.pairingWindow)
                throw RigError.pairAborted(index: index, failures: [f])
            }
        }
        return try write(index: index, shallow: s, deep: d, mode: mode, discarded: discarded, into: directory)
    }

    // MARK: Internals

    struct Shot: Sendable {
        var role: CameraRole
        var port: String
        var path: CameraFilePath
        var data: Data
        /// The shot's other files (RAW+JPEG), downloaded with it.
        var companions: [(path: CameraFilePath, data: Data)] = []
        var triggerStart: Date?
        var triggerEnd: Date?
        var arrival: Date
        var downloaded: Date
        var busyRetries: Int
    }

    /// Downloads every file of one shot; the RAW is the pair's file, the others travel with it.
    static func download(_ files: [(path: CameraFilePath, arrival: Date)], camera: RigCamera, delete: Bool,
                         triggerStart: Date?, triggerEnd: Date?, busyRetries: Int) throws -> Shot {
        var downloaded: [(path: CameraFilePath, data: Data)] = []
        for f in files { downloaded.append((f.path, try camera.download(f.path, delete: delete))) }
        camera.lastShotBytes = downloaded.reduce(0) { $0 + UInt64($1.data.count) }
        let main = downloaded.firstIndex { ImageFormat.sniff($0.data) != .jpeg } ?? 0
        var shot = Shot(role: camera.role, port: camera.port, path: downloaded[main].path, data: downloaded[main].data,
                        triggerStart: triggerStart, triggerEnd: triggerEnd, arrival: files[main].arrival,
                        downloaded: Date(), busyRetries: busyRetries)
        shot.companions = downloaded.enumerated().filter { $0.offset != main }.map(\.element)
        return shot
    }

    /// Runs `body` for both cameras at once, each on its own joinable thread, and waits for both: neither thread
    /// outlives the pair, and what `body` captured is released before its thread ends.
    private func run(both body: @escaping @Sendable (RigCamera) throws -> Shot, onFailure: @escaping @Sendable () -> Void)
        -> [Result<Shot, CameraFailure>] {
        let results = LockedValue<[Result<Shot, CameraFailure>?]>([nil, nil])
        var threads: [JoinableThread] = []
        for (i, camera) in cameras.enumerated() {
            let work: @Sendable () -> Void = {
                let result: Result<Shot, CameraFailure>
                do {
                    result = .success(try body(camera))
                } catch let f as CameraFailure {
                    onFailure()
                    result = .failure(f)
                } catch {
                    onFailure()
                    result = .failure(camera.failure(.waitingForFile, error))
                }
                results.withLock { $0[i] = result }
            }
            do {
                threads.append(try JoinableThread(name: "rig-\(camera.role)", work))
            } catch {
                onFailure()
                results.withLock { $0[i] = .failure(CameraFailure(role: camera.role, camera: camera.label, stage: .triggering, reason: "\(error)")) }
            }
        }
        for thread in threads { thread.join() }
        return results.value.enumerated().map { i, r in
            r ?? .failure(CameraFailure(role: cameras[i].role, camera: cameras[i].label, stage: .triggering, reason: "no result"))
        }
    }

    private func unwrap(_ results: [Result<Shot, CameraFailure>], index: Int) throws -> (Shot, Shot) {
        var shots: [Shot] = []
        var failures: [CameraFailure] = []
        for r in results {
            switch r {
            case .success(let s): shots.append(s)
            case .failure(let f): failures.append(f)
            }
        }
        // A camera that gave up only because the other failed first is not news.
        let real = failures.filter { !$0.becauseTheOtherFailed }
        if !failures.isEmpty { throw RigError.pairAborted(index: index, failures: real.isEmpty ? failures : real) }
        return (shots[0], shots[1])
    }

    private func prepare(_ directory: URL) throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw RigError.output(path: directory.path, reason: (error as NSError).localizedDescription)
        }
        AtomicFile.removeLeftovers(in: directory)
    }

    /// Writes both files and then the sidecar; any failure removes what was written, so a pair is whole or absent.
    private func write(index: Int, shallow s: Shot, deep d: Shot, mode: TriggerMode, discarded: [String],
                       into directory: URL) throws -> CapturedPair {
        try prepare(directory)
        let stem = CapturedPair.stem(index)
        let sidecar = directory.appendingPathComponent(CapturedPair.sidecarName(index))
        let names = [s, d].map { shot in stem + "_" + shot.role.rawValue + "." + Self.fileExtension(shot.path.name, data: shot.data) }
        for name in names + [sidecar.lastPathComponent] where FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path) {
            throw RigError.output(path: directory.appendingPathComponent(name).path, reason: "a pair with index \(index) already exists")
        }
        // Companion files of a RAW+JPEG shot: NNNN_ROLE.jpg (numbered if a shot has several of one type).
        var companionNames: [[String]] = []
        for (shot, name) in zip([s, d], names) {
            var taken = Set([name])
            companionNames.append(shot.companions.map { c in
                var candidate = stem + "_" + shot.role.rawValue + "." + Self.fileExtension(c.path.name, data: c.data)
                var n = 2
                while taken.contains(candidate) {
                    candidate = stem + "_" + shot.role.rawValue + "-\(n)." + Self.fileExtension(c.path.name, data: c.data)
                    n += 1
                }
                taken.insert(candidate)
                return candidate
            })
        }
        for name in companionNames.flatMap({ $0 }) where FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path) {
            throw RigError.output(path: directory.appendingPathComponent(name).path, reason: "a pair with index \(index) already exists")
        }
        var written: [URL] = []
        func abandon(_ error: RigError) -> RigError {
            for url in written { try? FileManager.default.removeItem(at: url) }
            return error
        }
        var files: [CapturedFile] = []
        for (i, (shot, name)) in zip([s, d], names).enumerated() {
            for (companion, companionName) in zip(shot.companions, companionNames[i]) {
                let url = directory.appendingPathComponent(companionName)
                do { try AtomicFile.write(companion.data, to: url) } catch { throw abandon(.output(path: url.path, reason: "\(error)")) }
                written.append(url)
            }
            let url = directory.appendingPathComponent(name)
            do {
                try AtomicFile.write(shot.data, to: url)
            } catch {
                throw abandon(.output(path: url.path, reason: "\(error)"))
            }
            written.append(url)
            let metadata: CaptureMetadata
            do {
                metadata = try Self.metadata(of: url, data: shot.data)
            } catch {
                let camera = camera(shot.role)
                throw abandon(.pairAborted(index: index, failures: [CameraFailure(role: shot.role, camera: camera.label, stage: .checking,
                                                                                   reason: "the downloaded file \(shot.path) is not a readable image: \(error)")]))
            }
            files.append(CapturedFile(role: shot.role, fileName: name, cameraPath: shot.path.description, cameraPort: shot.port,
                                      bytes: shot.data.count, triggerStart: shot.triggerStart, triggerEnd: shot.triggerEnd,
                                      arrival: shot.arrival, downloaded: shot.downloaded, busyRetries: shot.busyRetries, metadata: metadata,
                                      companions: companionNames[i].isEmpty ? nil : companionNames[i],
                                      fireFraction: shot.triggerStart == nil ? nil : camera(shot.role).vendor.fireFraction))
        }
        var triggerSkew: Double?
        if let a = files[0].triggerTime, let b = files[1].triggerTime { triggerSkew = b.timeIntervalSince(a) }
        let pair = CapturedPair(index: index, trigger: mode, shallow: files[0], deep: files[1], triggerSkew: triggerSkew,
                                arrivalSkew: files[1].arrival.timeIntervalSince(files[0].arrival), discarded: discarded, directory: directory)
        do {
            try AtomicFile.write(pair.sidecarData(), to: sidecar)
        } catch {
            throw abandon(.output(path: sidecar.path, reason: "\(error)"))
        }
        return pair
    }

    /// The camera's extension, except where libgphoto2 named a RAM capture itself: it calls every file that is
    /// not a Canon RAW "captNNNN.jpg", so the content decides (a DNG is TIFF-based).
    static func fileExtension(_ cameraName: String, data: Data) -> String {
        let ext = (cameraName as NSString).pathExtension.lowercased()
        let isJPEG = ImageFormat.sniff(data) == .jpeg
        if ext == "jpg" || ext == "jpeg" || ext.isEmpty {
            if isJPEG { return "jpg" }
            let tiff = data.starts(with: [0x49, 0x49, 0x2A, 0x00]) || data.starts(with: [0x4D, 0x4D, 0x00, 0x2A])
            return tiff ? "dng" : (ext.isEmpty ? "raw" : ext)
        }
        return ext
    }

    /// RAW files through libraw; JPEGs by decoding them (libraw does not read JPEG), keeping the metadata empty.
    static func metadata(of url: URL, data: Data) throws -> CaptureMetadata {
        if ImageFormat.sniff(data) == .jpeg {
            _ = try JPEGFile.decode(data, path: url.path)
            return CaptureMetadata()
        }
        return try RawDecoder().metadata(url)
    }
}
