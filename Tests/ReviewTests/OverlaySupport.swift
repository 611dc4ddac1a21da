import Alignment
import DatasetBuilder
import Foundation
import Imaging
import PairVocabulary

/// One captured pair whose files agree with its records, for the overlays: the source camera's original frame is a
/// 256x192 texture; the stored pair is cropped from it at `crop`; the stored target is shifted by 1.5 px in the
/// one 24-px block at `shiftedBlock` (the misalignment map's block size for 224x168 images is 24); and a model
/// `sharpen` has its output stored with its scores.
enum OverlayPair {
    static let crop = CropRect(x: 16, y: 12, width: 224, height: 168)
    static let shiftedBlock = (x: 72, y: 48)
    static let blockSize = 24
    static let model = "sharpen"

    static func make(in dir: URL) throws -> (Dataset, Int64) {
        let dataset = try Dataset.create(at: dir.appendingPathComponent("overlay-ds"))
        let scratch = dir.appendingPathComponent("overlay-scratch")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let texture = ProceduralTexture(seed: 16)
        let original = texture.render(width: 256, height: 192) { ($0, $1) }
        let c = crop, b = shiftedBlock, size = Double(blockSize)
        let source = original.cropped(x: c.x, y: c.y, width: c.width, height: c.height)
        let target = texture.render(width: c.width, height: c.height) { x, y in
            let inside = x >= Double(b.x) && x < Double(b.x) + size && y >= Double(b.y) && y < Double(b.y) + size
            return (x + Double(c.x) + (inside ? 1.5 : 0), y + Double(c.y))
        }
        var output = target
        for i in output.pixels.indices { output.pixels[i] = min(1, output.pixels[i] * 1.05) }
        let files = ["original-source.png", "original-target.png", "source.png", "target.png", "output.png"]
            .map { scratch.appendingPathComponent($0) }
        try PNGFile.write(original, to: files[0])
        try PNGFile.write(original, to: files[1])
        try PNGFile.write(source, to: files[2], bitDepth: 16)
        try PNGFile.write(target, to: files[3], bitDepth: 16)
        try PNGFile.write(output, to: files[4], bitDepth: 16)
        let camera = CameraIdentity(make: "Virtual", model: "Rig", serial: "S1")
        let capture = try dataset.ingestCapture(CaptureInput(
            scene: SceneInput(name: "overlay"),
            source: ShotInput(file: files[0], camera: camera, settings: CameraSettings(aperture: 1.8)),
            target: ShotInput(file: files[1], camera: CameraIdentity(make: "Virtual", model: "Rig", serial: "S2"),
                              settings: CameraSettings(aperture: 16))))
        let pair = try dataset.addPair(PairInput(captureID: capture.id, name: "overlay", source: files[2], target: files[3],
                                                 crop: crop, quality: ["p95Shift": 1.5], verdict: .review))
        let model = try dataset.registerModel(ModelInput(name: model, weights: nil))
        try dataset.recordEvaluation(EvaluationInput(pairID: pair.id, modelID: model.id, psnr: 31.25, ssim: 0.925,
                                                     lpips: 0.0625, output: files[4]))
        return (dataset, pair.id)
    }
}
