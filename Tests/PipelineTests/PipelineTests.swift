import DatasetBuilder
import Evaluation
import Foundation
import TestSupport
import IFANEngine
import Imaging
import Metrics
import NeuralCore
import PairVocabulary
import Pipeline
import Rig
import Testing
import ThreadSupport
import VirtualCamera

/// A small real restoration (unsharp mask), standing in for IFAN so the pipeline tests stay fast; it sharpens,
/// so its scores differ from the input's.
struct UnsharpMask: Deblurrer {
    var name: String { "unsharp" }
    func deblur(_ image: RGBImage) throws -> RGBImage {
        var out = image
        let w = image.width, h = image.height, n = image.planeSize
        for c in 0..<3 {
            for y in 0..<h {
                for x in 0..<w {
                    var sum: Float = 0
                    for dy in -1...1 { for dx in -1...1 {
                        sum += image.pixels[c * n + min(max(y + dy, 0), h - 1) * w + min(max(x + dx, 0), w - 1)]
                    } }
                    let v = image.pixels[c * n + y * w + x]
                    out.pixels[c * n + y * w + x] = min(max(v + 0.8 * (v - sum / 9), 0), 1)
                }
            }
        }
        return out
    }
}

final class PipelineFixture {
    let root: URL
    let virtualRig: VirtualRig
    let rig: Rig
    let dataset: Dataset
    let weights: URL

    /// `shallowVendor` impersonates a body (Canon EOS, Nikon) for the shallow camera; `shallowFormat` is its
    /// rig-file image format, applied when the test calls `rig.applySettings()`.
    init(shallowVendor: VirtualVendor = .generic, shallowFormat: RigImageFormat? = nil, maxSkew: Double? = nil,
         trigger: TriggerMode = .software, pairingWindow: Double = 0.5) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("rigctl-pipeline-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let (w, h) = (480, 320)
        virtualRig = try VirtualRig(scene: Scene.builtIn(.planes, width: w, height: h), width: w, height: h, format: .dng,
                                    shallowVendor: shallowVendor)
        virtualRig.start()
        func spec(_ camera: VirtualCamera, _ role: CameraRole) -> RigCameraSpec {
            let s = camera.configuration.settings, vendor = camera.configuration.vendor
            return RigCameraSpec(role: role, port: camera.portPath, serial: camera.configuration.serialNumber,
                                 model: vendor.libgphoto2Model,
                                 settings: RoleSettings(aperture: s.fNumber, shutter: s.exposureTime, iso: s.iso,
                                                        focusDistance: vendor == .generic ? s.focusDistance : nil,
                                                        imageFormat: role == .shallow ? shallowFormat : nil))
        }
        let file = RigFile(name: "test rig", trigger: trigger,
                           cameras: [spec(virtualRig.shallow, .shallow), spec(virtualRig.deep, .deep)],
                           pairingWindow: pairingWindow, fileTimeout: TestTime.scaled(10), alignment: AlignmentCalibration(mirror: .horizontal),
                           maxSkew: maxSkew)
        rig = try Rig(file: file, library: try GPhotoLibrary())
        dataset = try Dataset.create(at: root.appendingPathComponent("ds"))
        weights = root.appendingPathComponent("unsharp.weights")
        try Data("unsharp mask, amount 0.8, 3x3 box".utf8).write(to: weights)
    }

    func processor(withModel: Bool) -> PairProcessor {
        var options = ProcessingOptions()
        options.calibration = .init(mirror: .horizontal)
        let model = withModel ? DeblurModel(name: "unsharp", deblurrer: UnsharpMask(), weights: weights) : nil
        return PairProcessor(dataset: dataset, options: options, model: model, lpips: nil)
    }

    func pipeline(withModel: Bool) -> CapturePipeline {
        CapturePipeline(dataset: dataset, processor: processor(withModel: withModel), scene: SceneInput(name: "planes"))
    }

    deinit {
        rig.close()
        virtualRig.stop()
        try? FileManager.default.removeItem(at: root)
    }
}

final class EventLog: Sendable {
    private let events = LockedValue<[PipelineEvent]>([])
    func add(_ e: PipelineEvent) { events.withLock { $0.append(e) } }
    var captured: Int { events.value.filter { if case .captured = $0 { true } else { false } }.count }
    var failures: [String] {
        events.value.compactMap { if case .failed(_, let e) = $0 { "\(e)" } else { nil } }
    }
}

@Suite(.serialized) struct PipelineTests {
    @Test func everyPairIsCataloguedAlignedDeblurredAndScored() throws {
        let f = try PipelineFixture()
        let log = EventLog()
        let outcomes = try f.pipeline(withModel: true).run(rig: f.rig, count: 3, stop: StopFlag(), events: log.add)
        #expect(log.failures.isEmpty, "\(log.failures)")
        #expect(log.captured == 3 && outcomes.count == 3)
        for o in outcomes {
            #expect(o.verdict == .accepted, "\(o.reasons)")
            let input = try #require(o.input), sharpened = try #require(o.deblurred)
            #expect(input.psnr > 20 && input.psnr < 60)
            #expect(sharpened.psnr != input.psnr)
            #expect(o.timings["align"] != nil && o.timings["deblur"] != nil)
        }
        let status = try f.dataset.status()
        #expect(status.captures == 3 && status.pairs == 3 && status.evaluations == 6 && status.models == 1, "the input baseline is not a model")
        // A pair's name says its scene and which of the scene's captures it is.
        #expect(try outcomes.map { try f.dataset.pair(id: $0.pairID).name } == ["planes-1", "planes-2", "planes-3"])
        let detail = try f.dataset.pair(id: outcomes[0].pairID)
        #expect(Set(detail.evaluations.map(\.model)) == ["input", "unsharp"])
        #expect(detail.evaluations.first { $0.model == "unsharp" }?.output != nil)
        #expect(detail.capture?.skew != nil)
        #expect(detail.capture?.shot(.source)?.settings.aperture == 2)
        // The aligned pair is stored at 16 bits, and the originals byte for byte.
        let aligned = try PNGFile.read(f.dataset.url(of: detail.source))
        #expect(aligned.bitDepth == 16)
        #expect(try f.dataset.verify().isConsistent)
        let incoming = try FileManager.default.contentsOfDirectory(atPath: f.dataset.root.appendingPathComponent("incoming").path)
        #expect(incoming.isEmpty, "\(incoming)")
    }

    /// A RAW+JPEG shot's JPEG is catalogued with its shot, and nothing of the pair stays in incoming/.
    /// Each capture records how it was fired and its rig file's skew limit; a pair whose skew exceeds the limit
    /// goes to review with the skew as a reason, and one within it keeps its verdict. The over-limit pairs are
    /// released by wire with the deep camera 1.5 s late (a software trigger's skew can be below a microsecond). Not
    /// less: each virtual camera renders its frame before announcing it, the shallow one's wide blur taking longest,
    /// and on a loaded machine that difference ate a 0.2 s lag (3.5 ms skew recorded).
    @Test func aSkewOverTheRigFilesLimitSendsThePairToReview() throws {
        let strict = try PipelineFixture(maxSkew: 0.02, trigger: .external, pairingWindow: 4)
        let virtual = strict.virtualRig
        let releases = try JoinableThread(name: "releases") {
            for _ in 0..<2 {
                Thread.sleep(forTimeInterval: 0.5)
                virtual.externalRelease(skew: 1.5)
                Thread.sleep(forTimeInterval: 5.0)
            }
        }
        defer { releases.join() }
        let outcomes = try strict.pipeline(withModel: false).run(rig: strict.rig, count: 2, stop: StopFlag()) { _ in }
        #expect(outcomes.count == 2)
        for o in outcomes {
            #expect(o.verdict == .review, "\(o.reasons)")
            #expect(o.reasons.contains { $0.contains("exceeds the rig file's maxSkew of 20.000 ms") }, "\(o.reasons)")
            let detail = try strict.dataset.pair(id: o.pairID)
            #expect(detail.verdict == .review && detail.reasons == o.reasons)
            let capture = try #require(detail.capture)
            #expect(capture.trigger == .external && capture.maxSkew == 0.02)
            #expect(abs(capture.skew ?? 0) > 0.02, "\(capture.skew ?? .nan)")
        }
        let relaxed = try PipelineFixture(maxSkew: 5)
        let kept = try relaxed.pipeline(withModel: false).run(rig: relaxed.rig, count: 1, stop: StopFlag()) { _ in }
        #expect(kept.first?.verdict == .accepted && kept.first?.reasons.contains { $0.contains("maxSkew") } == false,
                "\(kept.first?.reasons ?? [])")
        #expect(try relaxed.dataset.pair(id: kept[0].pairID).capture?.trigger == .software)
    }

    @Test func rawPlusJPEGCompanionsAreCataloguedWithTheirShot() throws {
        let f = try PipelineFixture(shallowVendor: .canon, shallowFormat: .rawPlusJPEG)
        _ = try f.rig.applySettings()
        #expect(f.rig.shallow.filesPerShot == 2)
        let log = EventLog()
        let outcomes = try f.pipeline(withModel: false).run(rig: f.rig, count: 2, stop: StopFlag(), events: log.add)
        #expect(log.failures.isEmpty, "\(log.failures)")
        #expect(outcomes.count == 2)
        let incoming = try FileManager.default.contentsOfDirectory(atPath: f.dataset.root.appendingPathComponent("incoming").path)
        #expect(incoming.isEmpty, "\(incoming)")
        for outcome in outcomes {
            let captureID = try #require(outcome.captureID)
            let capture = try #require(try f.dataset.capture(id: captureID))
            let source = try #require(capture.shot(.source)), target = try #require(capture.shot(.target))
            #expect(source.companions.count == 1 && target.companions.isEmpty, "\(capture.shots)")
            let jpeg = try #require(source.companions.first)
            #expect(jpeg.path.hasPrefix("originals/") && jpeg.path.hasSuffix("/source-companion-1.jpg"))
            // The camera's own JPEG of the same exposure, byte for byte as downloaded.
            let url = f.dataset.root.appendingPathComponent(jpeg.path)
            #expect(ImageFormat.sniff(try Data(contentsOf: url)) == .jpeg)
            #expect(try ImageFile.read(url).width == 480)
            #expect(SHA256Hex.of(try Data(contentsOf: url)) == jpeg.sha256)
        }
        #expect(try f.dataset.status().captures == 2)
        #expect(try f.dataset.verify().isConsistent)
    }

    /// A pair record in incoming/ that names a file outside that folder (a crafted dataset) is refused: nothing
    /// outside is copied in or deleted.
    @Test func anIncomingRecordNamingFilesOutsideItsFolderIsRefused() throws {
        let f = try PipelineFixture()
        let pipeline = f.pipeline(withModel: false)
        try FileManager.default.createDirectory(at: pipeline.incoming, withIntermediateDirectories: true)
        for field in ["fileName", "companions"] {
            let pair = try f.rig.capturePair(index: 1, into: pipeline.incoming)
            let victim = f.dataset.root.deletingLastPathComponent().appendingPathComponent("victim.dng")
            try FileManager.default.copyItem(at: pair.url(.shallow), to: victim)
            var record = try JSONSerialization.jsonObject(with: Data(contentsOf: pair.sidecarURL)) as! [String: Any]
            var shallow = record["shallow"] as! [String: Any]
            shallow[field] = field == "fileName" ? "../../victim.dng" : ["../../victim.dng"]
            record["shallow"] = shallow
            try JSONSerialization.data(withJSONObject: record).write(to: pair.sidecarURL)
            #expect(throws: PipelineError.self) { try pipeline.catalogueIncoming() }
            #expect(FileManager.default.fileExists(atPath: victim.path), "\(field)")
            #expect(try f.dataset.status().captures == 0)
            for name in try FileManager.default.contentsOfDirectory(atPath: pipeline.incoming.path) {
                try FileManager.default.removeItem(at: pipeline.incoming.appendingPathComponent(name))
            }
            try FileManager.default.removeItem(at: victim)
        }
    }

    /// A pair a killed `capture --dataset` left in incoming/ is catalogued by `process` as the capture asked: its
    /// scene (with notes and tags), session and split, not the scene `process` falls back to.
    @Test func aPairLeftInIncomingKeepsItsCapturesSceneSessionAndSplit() throws {
        let f = try PipelineFixture()
        let incoming = f.dataset.root.appendingPathComponent(CapturePipeline.incomingFolder)
        let capture = CapturePipeline(dataset: f.dataset, processor: f.processor(withModel: false),
                                      scene: SceneInput(name: "desk", notes: "window light", tags: ["indoor"]),
                                      session: "morning", split: .test, queueCapacity: 0)
        let stop = StopFlag()
        let rig = f.rig
        _ = try capture.run(rig: rig, count: 3, stop: stop) { event in
            guard case .captured(let index, _, _, _, _) = event, index == 1 else { return }
            // The next pair is downloaded whole, and the process dies before cataloguing it.
            _ = try? rig.capturePair(index: Rig.nextIndex(in: incoming), into: incoming)
            stop.request()
        }
        #expect(try f.dataset.status().captures == 1)
        let process = CapturePipeline(dataset: f.dataset, processor: f.processor(withModel: false),
                                      scene: SceneInput(name: "unsorted"))
        _ = try process.processBacklog(stop: StopFlag()) { _ in }
        let status = try f.dataset.status()
        #expect(status.captures == 2 && status.pairs == 2)
        #expect(status.byScene.map(\.scene) == ["desk"], "\(status.byScene)")
        for summary in try f.dataset.pairs(PairFilter()) {
            let pair = try f.dataset.pair("\(summary.id)")
            #expect(pair.scene == "desk" && pair.sceneNotes == "window light" && pair.tags == ["indoor"])
            #expect(pair.capture?.session == "morning", "\(String(describing: pair.capture?.session))")
            #expect(pair.split == .test)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: incoming.path).isEmpty)
    }

    /// incoming/ is confined like the managed folders: as a link to another folder, or holding a link to a file,
    /// nothing outside is catalogued, written or deleted, and `verify` reports the link.
    @Test func linksInIncomingAreRefusedNotFollowed() throws {
        let f = try PipelineFixture()
        let incoming = f.dataset.root.appendingPathComponent(CapturePipeline.incomingFolder)
        let outside = f.root.appendingPathComponent("outside")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        // A complete pair with its sidecar and the capture settings, outside the dataset.
        let pipeline = f.pipeline(withModel: false)
        _ = try f.rig.capturePair(index: 1, into: outside)
        try Data(#"{"calibration":"{}"}"#.utf8).write(to: outside.appendingPathComponent(".capture-settings.json"))
        let before = try FileManager.default.contentsOfDirectory(atPath: outside.path).sorted()
        try? FileManager.default.removeItem(at: incoming)
        try FileManager.default.createSymbolicLink(atPath: incoming.path, withDestinationPath: outside.path)

        #expect(throws: PipelineError.self) { _ = try pipeline.processBacklog(stop: StopFlag()) { _ in } }
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside.path).sorted() == before)
        #expect(try f.dataset.status().captures == 0)
        #expect(try f.dataset.verify().unsafe == ["incoming"])
        // A capture writes nothing there either.
        #expect(throws: DatasetError.self) { _ = try pipeline.run(rig: f.rig, count: 1, stop: StopFlag()) { _ in } }
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside.path).sorted() == before)

        // A real incoming/ whose shallow file is a link to a file elsewhere.
        try FileManager.default.removeItem(at: incoming)
        try FileManager.default.createDirectory(at: incoming, withIntermediateDirectories: true)
        let pair = try f.rig.capturePair(index: 1, into: incoming)
        let shallow = pair.url(.shallow)
        try FileManager.default.removeItem(at: shallow)
        let victim = outside.appendingPathComponent(pair.shallow.fileName)
        try FileManager.default.createSymbolicLink(atPath: shallow.path, withDestinationPath: victim.path)
        #expect(throws: PipelineError.self) { try pipeline.catalogueIncoming() }
        #expect(try f.dataset.status().captures == 0)
        #expect(FileManager.default.fileExists(atPath: victim.path))
        #expect(try f.dataset.verify().unsafe == ["incoming/" + pair.shallow.fileName])
    }

    /// A pair that aborts is named as the user counts it: the third pair of the session is "pair 3", even though
    /// the rig numbers its files in an incoming/ folder that is emptied after every pair.
    @Test func anAbortedPairIsNumberedAsTheUserCountsIt() throws {
        let f = try PipelineFixture()
        let deep = f.virtualRig.deep
        let error = try #require(throws: RigError.self) {
            _ = try f.pipeline(withModel: false).run(rig: f.rig, count: 4, stop: StopFlag()) { event in
                if case .captured(let index, _, _, _, _) = event, index == 2 { deep.inject(.dropConnection) }
            }
        }
        #expect(error.description.hasPrefix("pair 3 aborted"), "\(error)")
        #expect(try f.dataset.status().captures == 2)
    }

    /// Stopping after the first pair loses nothing: what was captured but not processed is finished later.
    @Test func stoppingEarlyAndResumingLosesNothing() throws {
        let f = try PipelineFixture()
        let stop = StopFlag()
        let log = EventLog()
        let outcomes = try f.pipeline(withModel: false).run(rig: f.rig, count: 5, stop: stop) { event in
            log.add(event)
            if case .captured = event { stop.request() }
        }
        #expect(log.captured == 1)
        #expect(outcomes.count <= 1)
        #expect(try f.dataset.status().captures == 1)

        // A pair that a crash left in incoming/ after download, before cataloguing.
        let incoming = f.dataset.root.appendingPathComponent("incoming")
        _ = try f.rig.capturePair(index: Rig.nextIndex(in: incoming), into: incoming)

        // `process` with a model: catalogues the stray pair, aligns what is unaligned, and adds the model's scores
        // to the pair processed without it.
        let resumed = try f.pipeline(withModel: true).processBacklog(stop: StopFlag()) { _ in }
        let status = try f.dataset.status()
        #expect(status.captures == 2 && status.pairs == 2)
        #expect(status.evaluations == 4, "input and unsharp for both pairs")
        #expect(!resumed.isEmpty)
        #expect(try f.dataset.capturesWithoutPair().isEmpty)
        #expect(try f.dataset.pairsWithoutEvaluation(model: "unsharp").isEmpty)
        #expect(try f.dataset.verify().isConsistent)
        // Nothing is left to do the second time.
        #expect(try f.pipeline(withModel: true).processBacklog(stop: StopFlag()) { _ in }.isEmpty)
    }

    /// Captures that a killed `capture --dataset` left unaligned: nothing is queued (capacity 0) and the stop comes
    /// with the last pair, so the worker processes none of them.
    func captureWithoutProcessing(_ f: PipelineFixture, count: Int, split: Split? = nil) throws {
        let stop = StopFlag()
        let pipeline = CapturePipeline(dataset: f.dataset, processor: f.processor(withModel: false),
                                       scene: SceneInput(name: "planes"), split: split, queueCapacity: 0)
        _ = try pipeline.run(rig: f.rig, count: count, stop: stop) { event in
            if case .captured(let index, _, _, _, _) = event, index == count { stop.request() }
        }
        #expect(try f.dataset.capturesWithoutPair().count == count)
    }

    /// `rigctl process --dataset D` after a killed capture: no rig file is given, yet the pairs are aligned with the
    /// calibration the captures were taken with (the virtual rig's mirror flip), not rejected as diverged.
    @Test func processAfterAKilledCaptureAlignsWithTheCapturesCalibration() throws {
        let f = try PipelineFixture()
        try captureWithoutProcessing(f, count: 2, split: .test)
        let plain = PairProcessor(dataset: f.dataset, options: ProcessingOptions(), model: nil, lpips: nil)
        let outcomes = try CapturePipeline(dataset: f.dataset, processor: plain, scene: SceneInput(name: "unsorted"))
            .processBacklog(stop: StopFlag()) { _ in }
        #expect(outcomes.count == 2)
        #expect(outcomes.allSatisfy { $0.verdict == .accepted }, "\(outcomes.map(\.reasons))")
        // The split the capture asked for is kept too.
        #expect(try f.dataset.pairs(PairFilter(split: .test)).count == 2)
    }

    /// A processor as `rigctl process --dataset D` builds it: no calibration given, so each capture's own applies.
    func plainProcessor(_ f: PipelineFixture, options: ProcessingOptions = ProcessingOptions(), withModel: Bool) -> PairProcessor {
        PairProcessor(dataset: f.dataset, options: options,
                      model: withModel ? DeblurModel(name: "unsharp", deblurrer: UnsharpMask(), weights: f.weights) : nil,
                      lpips: nil)
    }

    /// A verdict reached with another calibration than the capture's (as `process` without --rig reached them before
    /// calibrations were recorded) is found, and `--realign` runs it again: same pair ids, new images and verdicts.
    @Test func realignRedoesAVerdictReachedWithAnotherCalibration() throws {
        let f = try PipelineFixture()
        try captureWithoutProcessing(f, count: 2)
        var noMirror = ProcessingOptions()
        noMirror.calibration = .init()
        let first = try CapturePipeline(dataset: f.dataset, processor: plainProcessor(f, options: noMirror, withModel: false),
                                        scene: SceneInput(name: "unsorted")).processBacklog(stop: StopFlag()) { _ in }
        #expect(first.count == 2 && first.allSatisfy { $0.verdict == .rejected }, "\(first.map(\.verdict))")
        let ids = first.map(\.pairID).sorted()
        let oldKeys = try ids.map { try f.dataset.pair(id: $0).key }

        let pipeline = CapturePipeline(dataset: f.dataset, processor: plainProcessor(f, withModel: true),
                                       scene: SceneInput(name: "unsorted"))
        #expect(try pipeline.processor.pairsToRealign() == ids)
        // Without --realign nothing is aligned again (the rejected pairs are owed no scores).
        #expect(try pipeline.processBacklog(stop: StopFlag()) { _ in }.isEmpty)
        let redone = try pipeline.processBacklog(stop: StopFlag(), realign: true) { _ in }
        #expect(redone.map(\.pairID).sorted() == ids)
        #expect(redone.allSatisfy { $0.verdict == .accepted && $0.input != nil && $0.deblurred != nil },
                "\(redone.map(\.reasons))")
        #expect(try pipeline.processor.pairsToRealign().isEmpty)
        let status = try f.dataset.status()
        #expect(status.pairs == 2 && status.captures == 2 && status.byVerdict == ["accepted": 2])
        #expect(try ids.map { try f.dataset.pair(id: $0).key } != oldKeys)
        // The replaced images are gone, nothing else is left behind.
        let report = try f.dataset.verify()
        #expect(report.isConsistent, "\(report)")
    }

    /// Re-aligning a scored pair keeps its old scores, marked stale with the images they were computed on, and
    /// scores the new images.
    @Test func realigningKeepsTheOldScoresAsStale() throws {
        let f = try PipelineFixture()
        try captureWithoutProcessing(f, count: 1)
        var other = ProcessingOptions()
        other.calibration = .init(mirror: .horizontal, distortion: .init(target: .init(coefficients: [0.0005])))
        let first = try CapturePipeline(dataset: f.dataset, processor: plainProcessor(f, options: other, withModel: true),
                                        scene: SceneInput(name: "unsorted")).processBacklog(stop: StopFlag()) { _ in }
        let pairID = try #require(first.first?.pairID)
        try #require(first.first?.verdict != .rejected)
        let before = try f.dataset.pair(id: pairID)
        #expect(before.evaluations.count == 2)

        let pipeline = CapturePipeline(dataset: f.dataset, processor: plainProcessor(f, withModel: true),
                                       scene: SceneInput(name: "unsorted"))
        let redone = try pipeline.processBacklog(stop: StopFlag(), realign: true) { _ in }
        #expect(redone.count == 1 && redone.first?.pairID == pairID)
        let after = try f.dataset.pair(id: pairID)
        #expect(after.key != before.key)
        #expect(Set(after.evaluations.map(\.model)) == ["input", "unsharp"])
        let stale = try f.dataset.staleScores(pairID: pairID)
        #expect(stale.map(\.model).sorted() == ["input", "unsharp"] && stale.allSatisfy { $0.pairKey == before.key })
        #expect(stale.first { $0.model == "input" }?.record.contains("\"psnr\"") == true)
        // The old model output stays catalogued (scores are never thrown away); the old aligned images do not.
        let oldOutput = try #require(before.evaluations.first { $0.model == "unsharp" }?.output)
        #expect(FileManager.default.fileExists(atPath: f.dataset.root.appendingPathComponent(oldOutput.path).path))
        #expect(!FileManager.default.fileExists(atPath: f.dataset.root.appendingPathComponent(before.source.path).path))
        let report = try f.dataset.verify()
        #expect(report.isConsistent, "\(report)")
    }

    /// An unrelated pair (the cameras see different scenes) is catalogued as rejected, with the reason, and not
    /// scored.
    @Test func aRejectedPairIsKeptButNotScored() throws {
        let f = try PipelineFixture()
        var options = ProcessingOptions()
        options.calibration = .init(mirror: .horizontal)
        let dir = f.root.appendingPathComponent("stray")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        // Two unrelated textures as the two shots of one capture.
        func noise(_ seed: UInt64) -> RGBImage {
            var state = seed
            var image = RGBImage(width: 320, height: 240, transfer: .linear)
            for i in image.pixels.indices {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                image.pixels[i] = Float((state >> 40) % 1000) / 1500
            }
            return image
        }
        var urls: [URL] = []
        for (i, seed) in [UInt64(1), 99].enumerated() {
            let url = dir.appendingPathComponent("\(i).dng")
            try DNGWriter.write(BayerFrame(mosaicking: noise(seed)), metadata: CaptureMetadata(make: "T", model: "T", serialNumber: "S\(i)"), to: url)
            urls.append(url)
        }
        let camera = { (i: Int) in CameraIdentity(make: "T", model: "T", serial: "S\(i)") }
        let capture = try f.dataset.ingestCapture(CaptureInput(
            scene: SceneInput(name: "noise"), source: ShotInput(file: urls[0], camera: camera(0), settings: CameraSettings()),
            target: ShotInput(file: urls[1], camera: camera(1), settings: CameraSettings())))
        let outcome = try f.processor(withModel: true).process(captureID: capture.id)
        #expect(outcome.verdict == .rejected)
        #expect(!outcome.reasons.isEmpty)
        #expect(outcome.input == nil && outcome.deblurred == nil)
        #expect(try f.dataset.pair(id: outcome.pairID).evaluations.isEmpty)
        #expect(try f.dataset.pairsWithoutEvaluation(model: "input").isEmpty, "rejected pairs are not owed scores")
    }
}

/// LPIPS with the real linear layers and the seeded random AlexNet of the shared fixtures (the weights a lab
/// installs later, as far as the pipeline can tell).
func fixtureLPIPS() throws -> LPIPS {
    let lin = try TorchCheckpoint.read(fixture("metrics/lpips_v0.1_alex_lin.pth"))
    let backbone = try TorchCheckpoint.read(fixture("metrics/alexnet_random_features.pth"))
    return try LPIPS(weights: LPIPSWeights.combine(lin: lin, backbone: backbone))
}

/// Counts its runs, so a test can tell a reused output from a fresh one without timing anything.
final class CountingDeblurrer: Deblurrer {
    let runs = LockedValue(0)
    var name: String { "unsharp" }
    func deblur(_ image: RGBImage) throws -> RGBImage {
        runs.withLock { $0 += 1 }
        return try UnsharpMask().deblur(image)
    }
}

@Suite(.serialized) struct ScoringTests {
    /// Pairs scored before the LPIPS weights were installed get LPIPS from `process` afterwards, and the rows
    /// said why it was missing until then. The model's stored outputs are scored, not re-run.
    @Test func processCompletesLPIPSOnceTheWeightsAreInstalled() throws {
        let f = try PipelineFixture()
        let first = try f.pipeline(withModel: true).run(rig: f.rig, count: 2, stop: StopFlag()) { _ in }
        #expect(first.count == 2)
        for o in first { #expect(o.missing == ["lpips": "LPIPS weights not installed"]) }
        let before = try f.dataset.pair(id: first[0].pairID)
        #expect(before.evaluations.allSatisfy { $0.lpips == nil && $0.missing["lpips"] == "LPIPS weights not installed" })
        let outputBefore = before.evaluations.first { $0.model == "unsharp" }?.output

        let counting = CountingDeblurrer()
        var options = ProcessingOptions()
        options.calibration = .init(mirror: .horizontal)
        let processor = PairProcessor(dataset: f.dataset, options: options,
                                      model: DeblurModel(name: "unsharp", deblurrer: counting, weights: f.weights),
                                      lpips: try fixtureLPIPS())
        let pipeline = CapturePipeline(dataset: f.dataset, processor: processor, scene: SceneInput(name: "planes"))
        let resumed = try pipeline.processBacklog(stop: StopFlag()) { _ in }
        #expect(resumed.count == 2, "both pairs lacked LPIPS")
        #expect(counting.runs.value == 0, "the stored outputs are scored, the model is not run again")
        for o in resumed { #expect(o.missing.isEmpty && o.input?.lpips != nil && o.deblurred?.lpips != nil) }
        let after = try f.dataset.pair(id: first[0].pairID)
        #expect(after.evaluations.count == 2, "completed in place, not duplicated")
        #expect(after.evaluations.allSatisfy { $0.lpips != nil && $0.missing.isEmpty && $0.scoreProtocol?.lpips == "v0.1 alex" })
        #expect(after.evaluations.first { $0.model == "unsharp" }?.output == outputBefore)
        #expect(try pipeline.processBacklog(stop: StopFlag()) { _ in }.isEmpty, "nothing left to do")
    }

    /// `evaluate --dataset`'s scoring: the capture's whole-image rows stay, crop-8 rows are added beside them from
    /// the stored outputs (no re-run, no output deleted); --rerun runs the model again and replaces only its own
    /// protocol's rows.
    @Test func evaluationReusesStoredOutputsAndAddsItsProtocolRows() throws {
        let f = try PipelineFixture()
        let captured = try f.pipeline(withModel: true).run(rig: f.rig, count: 2, stop: StopFlag()) { _ in }
        #expect(captured.count == 2)
        let whole = try f.dataset.pair(id: captured[0].pairID).evaluations
        let counting = CountingDeblurrer()
        let model = DeblurModel(name: "unsharp", deblurrer: counting, weights: f.weights)
        let pairs = try captured.map { try f.dataset.pair(id: $0.pairID) }

        let scorer = PairScorer(dataset: f.dataset, framing: .cropToMultipleOf8, lpips: nil)
        let evaluation = CatalogueEvaluation(scorer: scorer, methods: [InputMethod(), model])
        let (report, counts) = try evaluation.run(pairs: pairs, keepImages: true)
        #expect(counting.runs.value == 0)
        #expect(counts.storedOutputs["unsharp"] == 2 && counts.ran["unsharp"] == nil)
        #expect(report.methods.map(\.name) == ["Input", "unsharp"])
        #expect(report.scoreProtocol?.framing == .cropToMultipleOf8 && report.scoreProtocol?.bitDepth == 16)
        #expect(report.scoreProtocol?.description.hasPrefix("cropped to multiples of 8, 16-bit") == true)
        let rows = try f.dataset.pair(id: captured[0].pairID).evaluations
        #expect(rows.count == 4, "whole-image rows kept, crop-8 rows added")
        for old in whole {
            let kept = try #require(rows.first { $0.model == old.model && $0.scoreProtocol?.framing == .whole })
            #expect(kept.psnr == old.psnr && kept.output == old.output)
        }
        let crop = try #require(rows.first { $0.model == "unsharp" && $0.scoreProtocol?.framing == .cropToMultipleOf8 })
        #expect(crop.output != nil && crop.output == whole.first { $0.model == "unsharp" }?.output)

        // A second evaluation finds everything scored under its protocol.
        let (_, again) = try evaluation.run(pairs: pairs, keepImages: false)
        #expect(again.recorded["unsharp"] == 2 && again.recorded["Input"] == 2 && counting.runs.value == 0)

        // --rerun: the model runs again; rows stay four per pair and every output file is still there.
        let rerun = CatalogueEvaluation(scorer: PairScorer(dataset: f.dataset, framing: .cropToMultipleOf8, lpips: nil,
                                                           rerun: true), methods: [model])
        let (_, rerunCounts) = try rerun.run(pairs: pairs, keepImages: false)
        #expect(rerunCounts.ran["unsharp"] == 2 && counting.runs.value == 2)
        #expect(try f.dataset.pair(id: captured[0].pairID).evaluations.count == 4)
        #expect(try f.dataset.verify().isConsistent)
        for row in rows { if let output = row.output { #expect(FileManager.default.fileExists(atPath: try f.dataset.url(of: output).path)) } }
    }
}

@Suite(.serialized) struct CatalogueOverlapTests {
    /// Reading the next pair ahead (the default) records the same catalogue rows and reports the same scores as
    /// the one-by-one run: both run the model again (--rerun) on the same pairs, LPIPS included.
    @Test func overlappedEvaluationRecordsTheSameRows() throws {
        let f = try PipelineFixture()
        let captured = try f.pipeline(withModel: false).run(rig: f.rig, count: 3, stop: StopFlag()) { _ in }
        #expect(captured.count == 3)
        let pairs = try captured.map { try f.dataset.pair(id: $0.pairID) }
        let model = DeblurModel(name: "unsharp", deblurrer: UnsharpMask(), weights: f.weights)
        let scorer = PairScorer(dataset: f.dataset, framing: .cropToMultipleOf8, lpips: try fixtureLPIPS(), rerun: true)
        let evaluation = CatalogueEvaluation(scorer: scorer, methods: [InputMethod(), model])

        struct Row: Equatable {
            var model: String, psnr: Double, ssim: Double, ssimGaussian: Double?, mae: Double?, lpips: Double?
            var scoreProtocol: ScoreProtocol?, missing: [String: String]
        }
        func rows() throws -> [[Row]] {
            try captured.map { c in
                try f.dataset.pair(id: c.pairID).evaluations.map {
                    Row(model: $0.model, psnr: $0.psnr, ssim: $0.ssim, ssimGaussian: $0.ssimGaussian, mae: $0.mae,
                        lpips: $0.lpips, scoreProtocol: $0.scoreProtocol, missing: $0.missing)
                }.sorted { ($0.model, $0.scoreProtocol?.framing == .whole ? 0 : 1) < ($1.model, $1.scoreProtocol?.framing == .whole ? 0 : 1) }
            }
        }
        func run(_ overlapped: Bool) throws -> (EvaluationReport, CatalogueEvaluationCounts, [String]) {
            var observed: [String] = []
            var (report, counts) = try evaluation.run(pairs: pairs, keepImages: true, overlapped: overlapped,
                                                      observe: { observed.append($0.pair.name) })
            for i in report.results.indices { report.results[i].seconds = 0 }
            for i in report.methods.indices { report.methods[i].secondsPerImage = 0 }
            return (report, counts, observed)
        }
        let (sequential, sequentialCounts, sequentialObserved) = try run(false)
        let sequentialRows = try rows()
        let (overlapped, overlappedCounts, overlappedObserved) = try run(true)
        let overlappedRows = try rows()
        #expect(overlapped == sequential)
        #expect(overlappedCounts == sequentialCounts && sequentialCounts.ran["unsharp"] == 3)
        #expect(overlappedObserved == sequentialObserved && sequentialObserved.count == 3)
        #expect(overlappedRows == sequentialRows)
        // Per pair: the crop-8 rows of the input and the model, beside the capture's own whole-image input row.
        #expect(sequentialRows.allSatisfy { pair in
            pair.filter { $0.scoreProtocol?.framing == .cropToMultipleOf8 && $0.lpips != nil }.map(\.model) == ["Input", "unsharp"]
                || pair.filter { $0.scoreProtocol?.framing == .cropToMultipleOf8 && $0.lpips != nil }.map(\.model) == ["input", "unsharp"]
        }, "\(sequentialRows)")
        #expect(try f.dataset.verify().isConsistent)
    }
}

/// Notes when each deblurring starts, so a test can see the next pair's model run while a pair is still being
/// catalogued (no timing: a bounded wait on a condition, then its outcome checked).
final class StartedDeblurrer: Deblurrer {
    let runs = LockedValue(0)
    var name: String { "unsharp" }
    func deblur(_ image: RGBImage) throws -> RGBImage {
        runs.withLock { $0 += 1 }
        return try UnsharpMask().deblur(image)
    }
}

@Suite(.serialized) struct CatalogueCancelTests {
    /// A stop asked for while the first pair is scored: the run throws `cancelled(scored: 1, of: 3)`, the first
    /// pair has its rows (the input's and the model's) and the others none, overlapped or one by one.
    @Test func aCancelledEvaluationKeepsThePairsScored() throws {
        for overlapped in [true, false] {
            let f = try PipelineFixture()
            let captured = try f.pipeline(withModel: false).run(rig: f.rig, count: 3, stop: StopFlag()) { _ in }
            let pairs = try captured.map { try f.dataset.pair(id: $0.pairID) }
            let model = DeblurModel(name: "unsharp", deblurrer: UnsharpMask(), weights: f.weights)
            let evaluation = CatalogueEvaluation(scorer: PairScorer(dataset: f.dataset, framing: .cropToMultipleOf8, lpips: nil),
                                                 methods: [InputMethod(), model])
            let stop = StopFlag()
            var observed = 0
            #expect {
                _ = try evaluation.run(pairs: pairs, keepImages: true, overlapped: overlapped,
                                       isCancelled: { stop.isRequested }, observe: { _ in
                    observed += 1
                    stop.request()
                })
            } throws: { error in
                guard case EvaluationError.cancelled(let scored, let total) = error else { return false }
                return scored == 1 && total == 3
            }
            #expect(observed == 1)
            let cropped = try pairs.map { pair in
                try f.dataset.pair(id: pair.id).evaluations.filter { $0.scoreProtocol?.framing == .cropToMultipleOf8 }.count
            }
            #expect(cropped == [2, 0, 0], "overlapped \(overlapped)")
            #expect(try f.dataset.verify().isConsistent)
        }
    }
}

@Suite(.serialized) struct ProcessOverlapTests {
    /// The same captured files in two datasets' incoming/ folders: pair 2's shallow original is cut short, so
    /// that one capture fails while decoding and the others go on.
    func twoDatasets(_ f: PipelineFixture, count: Int) throws -> Dataset {
        let staging = f.root.appendingPathComponent("staging")
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        for index in 1...count {
            let pair = try f.rig.capturePair(index: index, into: staging)
            if index == 2 {
                let cut = try Data(contentsOf: pair.url(.shallow)).prefix(200)
                try cut.write(to: pair.url(.shallow))
            }
        }
        let other = try Dataset.create(at: f.root.appendingPathComponent("ds2"))
        for dataset in [f.dataset, other] {
            let incoming = dataset.root.appendingPathComponent(CapturePipeline.incomingFolder)
            try FileManager.default.createDirectory(at: incoming, withIntermediateDirectories: true)
            for name in try FileManager.default.contentsOfDirectory(atPath: staging.path) {
                try FileManager.default.copyItem(at: staging.appendingPathComponent(name),
                                                 to: incoming.appendingPathComponent(name))
            }
        }
        return other
    }

    struct Row: Equatable {
        var model: String, psnr: Double, ssim: Double, ssimGaussian: Double?, mae: Double?, lpips: Double?
        var output: String?, scoreProtocol: ScoreProtocol?, missing: [String: String]
    }

    struct PairRow: Equatable {
        var id: PairID, name: String, scene: String, verdict: Verdict, reasons: [String], split: Split
        var source: String, target: String, homography: Homography?, crop: CropRect?, quality: QualityFigures
        var calibration: AlignmentCalibration?, evaluations: [Row]
    }

    func rows(_ dataset: Dataset) throws -> [PairRow] {
        try dataset.pairs(PairFilter()).map { summary in
            let p = try dataset.pair(id: summary.id)
            return PairRow(id: p.id, name: p.name, scene: p.scene, verdict: p.verdict, reasons: p.reasons, split: p.split,
                           source: p.source.sha256, target: p.target.sha256, homography: p.homography, crop: p.crop,
                           quality: p.quality,
                           calibration: try p.capture.map { try dataset.captureProcessing(id: $0.id).calibration } ?? nil,
                           evaluations: p.evaluations.map {
                               Row(model: $0.model, psnr: $0.psnr, ssim: $0.ssim, ssimGaussian: $0.ssimGaussian, mae: $0.mae,
                                   lpips: $0.lpips, output: $0.output?.sha256, scoreProtocol: $0.scoreProtocol,
                                   missing: $0.missing)
                           }.sorted { $0.model < $1.model })
        }
    }

    /// `process` overlapping its stages across pairs leaves the catalogue exactly as the one-by-one run does (the
    /// same pairs, alignments, scores with LPIPS, kept outputs and recorded calibrations), reports the same outcomes
    /// and the same failure, naming the capture and the stage, in the same order; and the model runs once per pair
    /// (the work done ahead is the work recorded).
    @Test func overlappedProcessLeavesTheSameCatalogue() throws {
        let f = try PipelineFixture()
        let other = try twoDatasets(f, count: 4)
        let lpips = try fixtureLPIPS()
        var results: [(outcomes: [PairOutcome], lines: [String], runs: Int, rows: [PairRow])] = []
        for (dataset, overlapped) in [(f.dataset, true), (other, false)] {
            var options = ProcessingOptions()
            options.calibration = .init(mirror: .horizontal)
            let deblurrer = StartedDeblurrer()
            let processor = PairProcessor(dataset: dataset, options: options,
                                          model: DeblurModel(name: "unsharp", deblurrer: deblurrer, weights: f.weights),
                                          lpips: lpips)
            let lines = LockedValue<[String]>([])
            let outcomes = try CapturePipeline(dataset: dataset, processor: processor, scene: SceneInput(name: "planes"))
                .processBacklog(stop: StopFlag(), overlapped: overlapped) { event in
                    switch event {
                    case .processed(let o): lines.withLock { $0.append("processed \(o.captureID.map { "\($0)" } ?? "-") -> \(o.pairID)") }
                    case .failed(let work, let error):
                        let id: CaptureID = work.map { if case .capture(let id) = $0 { id } else { 0 } } ?? 0
                        // The message names the damaged file, in this dataset's folder.
                        let text = "\(error)".replacingOccurrences(of: dataset.root.path, with: "<dataset>")
                        lines.withLock { $0.append("failed \(id): \(text)") }
                    case .stage(let id, let name): lines.withLock { $0.append("\(name) \(id)") }
                    default: break
                    }
                }
            results.append((outcomes, lines.value, deblurrer.runs.value, try rows(dataset)))
            #expect(try dataset.verify().isConsistent)
        }
        let (overlapped, sequential) = (results[0], results[1])
        #expect(overlapped.rows == sequential.rows)
        let rows: [PairRow] = sequential.rows
        #expect(rows.count == 3)
        let evaluations: [Row] = rows.flatMap(\.evaluations)
        #expect(evaluations.count == 6)
        #expect(evaluations.allSatisfy { (row: Row) -> Bool in row.lpips != nil })
        #expect(rows.allSatisfy { (row: PairRow) -> Bool in row.calibration != nil })
        #expect(overlapped.lines == sequential.lines)
        let failures = sequential.lines.filter { $0.hasPrefix("failed") }
        #expect(failures.count == 1)
        #expect(failures.first?.hasPrefix("failed 2: capture 2, decoding the originals: ") == true, "\(failures)")
        #expect(overlapped.outcomes.map(\.pairID) == sequential.outcomes.map(\.pairID))
        #expect(overlapped.outcomes.map(\.input) == sequential.outcomes.map(\.input))
        #expect(overlapped.outcomes.map(\.deblurred) == sequential.outcomes.map(\.deblurred))
        let timed = overlapped.outcomes.filter { (o: PairOutcome) -> Bool in o.timings["deblur"] != nil && o.timings["align"] != nil }
        #expect(timed.count == 3)
        #expect(overlapped.runs == 3 && sequential.runs == 3)
        // The capture that failed is still waiting, in both.
        #expect(try f.dataset.capturesWithoutPair() == other.capturesWithoutPair())
        #expect(try other.capturesWithoutPair().count == 1)
    }

    /// While the first pair is being catalogued (here: its report waits), the model already runs on the next one,
    /// and no more than two pairs are deblurred ahead of the one being catalogued (one in the scoring stage's
    /// hand, one waiting for the catalogue): the one-by-one run would wait here until the bound ran out.
    @Test func theNextPairIsDeblurredWhileOneIsCatalogued() throws {
        let f = try PipelineFixture()
        for index in 1...5 {
            let incoming = f.dataset.root.appendingPathComponent(CapturePipeline.incomingFolder)
            _ = try f.rig.capturePair(index: index, into: incoming)
        }
        let deblurrer = StartedDeblurrer()
        var options = ProcessingOptions()
        options.calibration = .init(mirror: .horizontal)
        let processor = PairProcessor(dataset: f.dataset, options: options,
                                      model: DeblurModel(name: "unsharp", deblurrer: deblurrer, weights: f.weights),
                                      lpips: nil)
        let seen = LockedValue<(overlapped: Bool, most: Int)?>(nil)
        let outcomes = try CapturePipeline(dataset: f.dataset, processor: processor, scene: SceneInput(name: "planes"))
            .processBacklog(stop: StopFlag()) { event in
                guard case .processed = event, seen.value == nil else { return }
                for _ in 0..<6000 where deblurrer.runs.value < 2 { usleep(10_000) }
                seen.withLock { $0 = (deblurrer.runs.value >= 2, deblurrer.runs.value) }
            }
        let observed = try #require(seen.value)
        #expect(observed.overlapped, "the model did not start on the second pair while the first was catalogued")
        #expect(observed.most <= 3, "\(observed.most) pairs deblurred while the first was still being catalogued")
        #expect(outcomes.count == 5 && deblurrer.runs.value == 5)
    }
}
