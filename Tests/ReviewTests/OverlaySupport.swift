import Alignment
import DatasetBuilder
import Foundation
import Imaging
import PairVocabulary

/// One captured pair whose files agree with its records, for the overlays: the source camera's original frame is a
/// 256x192 texture; the stored pair is cropped from it at `crop`; the stored target is shifted by 1.5 px in the
/// 3x3 blocks (of the misalignment map's 24 px for 224x168 images) centred on the block at `shiftedBlock`; and a
/// model `sharpen` has its output stored with its scores.
///
/// The aligner measures only blocks that are sharp and textured by its own tests, which is about 40% of this
/// procedural texture's blocks; the texture (seed 21, enlarged 3x, placed so that the stored pair starts at its
/// origin) is one where every block of the shifted patch is measured.
enum OverlayPair {
    static let crop = CropRect(x: 16, y: 12, width: 224, height: 168)
    static let shiftedBlock = (x: 72, y: 48)
    static let blockSize = 24
    static let model = "sharpen"
    static let textureSeed: UInt64 = 21
    static let textureScale = 3.0
    /// The shifted patch, in blocks (column and row of the map) and in pixels of the stored images.
    static let shiftedColumns = (shiftedBlock.x / blockSize - 1)...(shiftedBlock.x / blockSize + 1)
    static let shiftedRows = (shiftedBlock.y / blockSize - 1)...(shiftedBlock.y / blockSize + 1)
    static var shiftedPixels: (x: Range<Int>, y: Range<Int>) {
        ((shiftedColumns.lowerBound * blockSize)..<((shiftedColumns.upperBound + 1) * blockSize),
         (shiftedRows.lowerBound * blockSize)..<((shiftedRows.upperBound + 1) * blockSize))
    }

    /// Whether the map's block at this column and row lies in the shifted patch.
    static func isShifted(column: Int, row: Int) -> Bool { shiftedColumns.contains(column) && shiftedRows.contains(row) }
    static func make(in dir: URL) throws -> (Dataset, PairID) {
        let dataset = try Dataset.create(at: dir.appendingPathComponent("overlay-ds"))
        let scratch = dir.appendingPathComponent("overlay-scratch")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let texture = ProceduralTexture(seed: textureSeed)
        let scale = textureScale, c = crop, patch = shiftedPixels
        let original = texture.render(width: 256, height: 192) { x, y in ((x - Double(c.x)) / scale, (y - Double(c.y)) / scale) }
        let source = original.cropped(x: c.x, y: c.y, width: c.width, height: c.height)
        let target = texture.render(width: c.width, height: c.height) { x, y in
            let inside = x >= Double(patch.x.lowerBound) && x < Double(patch.x.upperBound)
                && y >= Double(patch.y.lowerBound) && y < Double(patch.y.upperBound)
            return ((x + (inside ? 1.5 : 0)) / scale, y / scale)
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
