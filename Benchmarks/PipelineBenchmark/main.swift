// Pairs per minute through the whole pipeline on the virtual rig, and the time of each stage:
// capture (two virtual cameras through libgphoto2) -> catalogue -> decode -> align -> store -> deblur -> score.
//
//   swift run -c release PipelineBenchmark [--pairs N] [--width W --height H] [--weights FILE.safetensors|.pytorch]
//       [--backlog [--reverse]]   (`rigctl process` on the same captures, overlapped and one by one)
//
// Without --weights the IFAN checkpoint of the reference fixtures (random weights, the released network's exact
// shapes, so the same compute) is imported when ../shared/fixtures is present; otherwise deblurring is left out.
import BenchmarkSupport
import DatasetBuilder
import Evaluation
import Foundation
import IFANEngine
import Imaging
import Metrics
import NeuralCore
import PairVocabulary
import Pipeline
import Rig
import VirtualCamera

func option(_ name: String) -> String? {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}

final class Timeline: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var captureTimes: [Double] = []
    private(set) var failures: [String] = []
    let start = Date()
    func handle(_ event: PipelineEvent) {
        lock.withLock {
            switch event {
            case .captured: captureTimes.append(Date().timeIntervalSince(start))
            case .failed(_, let e): failures.append("\(e)")
            default: break
            }
        }
    }
}

func main() throws {
    let pairs = Int(option("--pairs") ?? "") ?? 8
    let width = Int(option("--width") ?? "") ?? 1200, height = Int(option("--height") ?? "") ?? 800
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("rigctl-pipeline-bench-" + UUID().uuidString)
    try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: root) }

    // The deblurring model.
    var model: DeblurModel?
    let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/fixtures/ifan-random/IFAN_random.pytorch")
    if let path = option("--weights") ?? (FileManager.default.fileExists(atPath: fixture.path) ? fixture.path : nil) {
        var url = URL(fileURLWithPath: path)
        if url.pathExtension != "safetensors" {
            let (architecture, weights) = try IFANModelFile.importCheckpoint(url)
            url = root.appendingPathComponent("ifan.safetensors")
            try IFANModelFile.write(weights, architecture: architecture, source: path, to: url)
        }
        model = try DeblurModel.ifan(name: "ifan", weights: url)
    }
    let lpipsURL = ModelStore().url(forModel: LPIPS.modelName)
    let lpips = FileManager.default.fileExists(atPath: lpipsURL.path) ? try LPIPS(contentsOf: lpipsURL) : nil

    let virtualRig = try VirtualRig(scene: Scene.builtIn(.planes, width: width, height: height), width: width, height: height, format: .dng)
    virtualRig.start()
    defer { virtualRig.stop() }
    func spec(_ camera: VirtualCamera, _ role: CameraRole) -> RigCameraSpec {
        let s = camera.configuration.settings
        return RigCameraSpec(role: role, port: camera.portPath, serial: camera.configuration.serialNumber,
                             settings: RoleSettings(aperture: s.fNumber, shutter: s.exposureTime, iso: s.iso, focusDistance: s.focusDistance))
    }
    let file = RigFile(name: "virtual rig", trigger: .software, cameras: [spec(virtualRig.shallow, .shallow), spec(virtualRig.deep, .deep)],
                       alignment: AlignmentCalibration(mirror: .horizontal))
    let rig = try Rig(file: file, library: try GPhotoLibrary())
    defer { rig.close() }
    let dataset = try Dataset.create(at: root.appendingPathComponent("ds"))
    var options = ProcessingOptions()
    options.calibration = .init(mirror: .horizontal)
    let processor = PairProcessor(dataset: dataset, options: options, model: model, lpips: lpips)
    let pipeline = CapturePipeline(dataset: dataset, processor: processor, scene: SceneInput(name: "planes"))

    if CommandLine.arguments.contains("--backlog") {
        return try backlog(rig: rig, pairs: pairs, root: root, model: model, lpips: lpips, options: options,
                           size: "\(width)x\(height)")
    }
    print("pipeline benchmark: \(pairs) pairs of \(width)x\(height) DNG, model: \(model == nil ? "none" : "IFAN (\(model?.weights?.lastPathComponent ?? "in memory"))"), LPIPS: \(lpips == nil ? "no" : "yes")")
    let timeline = Timeline()
    let outcomes = try pipeline.run(rig: rig, count: pairs, stop: StopFlag(), events: timeline.handle)
    let total = Date().timeIntervalSince(timeline.start)
    if !timeline.failures.isEmpty { print("failures: \(timeline.failures)") }
    let captureSpan = timeline.captureTimes.last ?? total
    print(String(format: "capture alone:   %.1f pairs/min (%d pairs captured and catalogued in %.1f s)",
                 Double(timeline.captureTimes.count) / captureSpan * 60, timeline.captureTimes.count, captureSpan))
    print(String(format: "whole pipeline:  %.1f pairs/min (%d pairs processed in %.1f s)", Double(outcomes.count) / total * 60, outcomes.count, total))
    print("seconds per pair by stage (mean / max):")
    for stage in ["decode", "align", "store", "deblur", "score"] {
        let values = outcomes.compactMap { $0.timings[stage] }
        guard !values.isEmpty else { continue }
        print(String(format: "  %-7@ %6.2f / %6.2f", stage as NSString, values.reduce(0, +) / Double(values.count), values.max()!))
    }
    let verdicts = Dictionary(grouping: outcomes, by: \.verdict.rawValue).mapValues(\.count)
    print("verdicts: \(verdicts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))")
}

/// `--backlog`: `rigctl process` on the same captured files twice, overlapped and one by one (in two datasets).
func backlog(rig: Rig, pairs: Int, root: URL, model: DeblurModel?, lpips: LPIPS?, options: ProcessingOptions,
             size: String) throws {
    let staging = root.appendingPathComponent("staging")
    try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
    for index in 1...pairs { _ = try rig.capturePair(index: index, into: staging) }
    print("process benchmark: \(pairs) captured pairs of \(size) DNG, model: \(model == nil ? "none" : "IFAN"), "
          + "LPIPS: \(lpips == nil ? "no" : "yes"); the same files processed overlapped and one by one")
    // --reverse runs the one-by-one pass first, to see the order's effect on a shared machine.
    let order = CommandLine.arguments.contains("--reverse") ? [false, true] : [true, false]
    var rates: [Bool: Double] = [:]
    for overlapped in order {
        let dataset = try Dataset.create(at: root.appendingPathComponent(overlapped ? "overlapped" : "one-by-one"))
        let incoming = dataset.root.appendingPathComponent(CapturePipeline.incomingFolder)
        try FileManager.default.createDirectory(at: incoming, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: staging.path) {
            try FileManager.default.copyItem(at: staging.appendingPathComponent(name), to: incoming.appendingPathComponent(name))
        }
        let processor = PairProcessor(dataset: dataset, options: options, model: model, lpips: lpips)
        let pipeline = CapturePipeline(dataset: dataset, processor: processor, scene: SceneInput(name: "planes"))
        let load = Machine.loadAverage()
        let start = Date()
        let outcomes = try pipeline.processBacklog(stop: StopFlag(), overlapped: overlapped) { _ in }
        let wall = Date().timeIntervalSince(start)
        let after = Machine.loadAverage()
        let rate = Double(outcomes.count) / wall * 60
        rates[overlapped] = rate
        print(String(format: "%@: %d pairs in %.1f s, %.2f pairs/min (load average %@ -> %@)",
                     (overlapped ? "overlapped" : "one by one") as NSString, outcomes.count, wall, rate,
                     String(load) as NSString, String(after) as NSString))
    }
    print(String(format: "overlap speed-up: %.2fx", rates[true]! / rates[false]!))
}

do {
    try main()
} catch {
    FileHandle.standardError.write(Data("PipelineBenchmark: \(error)\n".utf8))
    exit(1)
}
