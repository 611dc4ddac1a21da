import Foundation
import Imaging
import PairVocabulary

/// Made-up captures with unique, reproducible pixels, for benchmarks, crash tests and trying the commands without a
/// rig. Nothing here is used on real data.
public enum SyntheticCapture {
    /// The files and records of one synthetic capture and its aligned pair.
    public struct Item: Sendable {
        public let capture: CaptureInput
        public let alignedSource: URL
        public let alignedTarget: URL

        /// The pair as the alignment step would describe it, once the capture has an id.
        public func pair(captureID: CaptureID, verdict: Verdict = .accepted) -> PairInput {
            PairInput(
                captureID: captureID, name: alignedSource.deletingLastPathComponent().lastPathComponent,
                source: alignedSource, target: alignedTarget,
                homography: try? Homography([1, 0.001, 2.5, -0.0005, 1, -1.25, 0, 0, 1]),
                colour: ColourFit(model: .affine, matrix: [1.02, 0, 0, 0, 0.98, 0, 0, 0, 1.01], offset: [0.01, -0.02, 0],
                                  residual: 0.004),
                crop: CropRect(x: 4, y: 4, width: 64, height: 48),
                quality: ["ecc": 0.97, "sharpnessRatio": 2.5], verdict: verdict,
                reasons: verdict == .accepted ? [] : ["ecc below 0.9"])
        }
    }

    /// Writes capture `index` of `seed` under `folder` (originals as 8-bit PNG stand-ins for RAW files, aligned pair
    /// as PNG) and returns its records. `scenes` captures share a scene name.
    public static func make(index: Int, seed: UInt64, in folder: URL, width: Int = 96, height: Int = 64,
                            scenes: Int = 10) throws -> Item {
        let dir = folder.appendingPathComponent("s\(seed)-\(index)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var rng = SplitMix64(seed: seed &* 1_000_003 &+ UInt64(index))
        func image(sharp: Bool) -> Raster8 {
            var samples = [UInt8](repeating: 0, count: width * height * 3)
            let phase = Int(rng.next() % 251)
            for y in 0..<height {
                for x in 0..<width {
                    for c in 0..<3 {
                        let base = (x * 3 + y * 2 + c * 40 + phase) & 255
                        let noise = Int(rng.next() % (sharp ? 32 : 8))
                        samples[(y * width + x) * 3 + c] = UInt8(min(255, base / 2 + noise + 40))
                    }
                }
            }
            return Raster8(width: width, height: height, channels: 3, samples: samples)
        }
        let files = ["original-source.png", "original-target.png", "aligned-source.png", "aligned-target.png"]
            .map { dir.appendingPathComponent($0) }
        for (i, url) in files.enumerated() {
            try PNGFile.write(image(sharp: i % 2 == 1), to: url, compressionLevel: 1)
        }
        let start = Date(timeIntervalSince1970: 1_767_225_600 + Double(index) * 7.5)  // 2026-01-01, a shot every 7.5 s
        let scene = SceneInput(name: "scene-\(index % max(1, scenes))", notes: "synthetic", tags: ["synthetic"])
        let source = ShotInput(
            file: files[0], camera: CameraIdentity(make: "Canon", model: "EOS R6", serial: "SRC-0001"),
            settings: CameraSettings(aperture: 1.8, exposureTime: 1.0 / 250, iso: 400, focalLength: 50, captureTime: start),
            arrivalTime: start.addingTimeInterval(0.8))
        let target = ShotInput(
            file: files[1], camera: CameraIdentity(make: "Canon", model: "EOS R6", serial: "TGT-0002"),
            settings: CameraSettings(aperture: 16, exposureTime: 1.0 / 250, iso: 6400, focalLength: 50, captureTime: start),
            arrivalTime: start.addingTimeInterval(0.9))
        let capture = CaptureInput(scene: scene, rig: "synthetic rig", session: "synthetic \(seed)", source: source,
                                   target: target, triggerTime: start, skew: 0.0004)
        return Item(capture: capture, alignedSource: files[2], alignedTarget: files[3])
    }
}
