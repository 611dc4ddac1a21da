import Alignment
import DatasetBuilder
import Foundation
import Imaging
import PairVocabulary
import Pipeline
import Testing

/// The homography's direction, end to end: an aligned, catalogued and exported pair, mapped through the manifest's
/// homography (source -> target, cameras' original frames) and crop, lands on the target camera's original file.
@Suite struct HomographyConventionTests {
    /// Bilinear sample of channel `c` at `(x, y)`; nil outside.
    static func sample(_ image: RGBImage, _ c: Int, _ x: Double, _ y: Double) -> Double? {
        let x0 = Int(x.rounded(.down)), y0 = Int(y.rounded(.down))
        guard x0 >= 0, y0 >= 0, x0 + 1 < image.width, y0 + 1 < image.height else { return nil }
        let fx = x - Double(x0), fy = y - Double(y0), w = image.width, base = c * image.planeSize
        func at(_ i: Int, _ j: Int) -> Double { Double(image.pixels[base + j * w + i]) }
        return (1 - fy) * ((1 - fx) * at(x0, y0) + fx * at(x0 + 1, y0)) + fy * ((1 - fx) * at(x0, y0 + 1) + fx * at(x0 + 1, y0 + 1))
    }

    /// Mean absolute difference between the exported target and the original target sampled through `map`.
    static func error(exported: RGBImage, original: RGBImage, crop: CropRect, map: Homography) -> Double {
        var sum = 0.0, count = 0
        for v in stride(from: 4, to: exported.height - 4, by: 3) {
            for u in stride(from: 4, to: exported.width - 4, by: 3) {
                let p = map.apply(Double(u + crop.x), Double(v + crop.y))
                for c in 0..<3 {
                    guard let o = sample(original, c, p.x, p.y) else { continue }
                    sum += abs(o - Double(exported.pixels[c * exported.planeSize + v * exported.width + u]))
                    count += 1
                }
            }
        }
        return count > 0 ? sum / Double(count) : .infinity
    }

    @Test func theManifestsHomographyMapsTheExportedPairOntoTheOriginal() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("rigctl-homography-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let truth = Homography.similarity(degrees: 1.2, scale: 1.015, centre: (200, 150), translation: (9, -5))
        let pair = SyntheticPair.make(width: 400, height: 300, homography: truth, seed: 11)
        var shots: [URL] = []
        for (name, image) in [("source", pair.source), ("target", pair.target)] {
            let url = root.appendingPathComponent("\(name).png")
            try PNGFile.write(RGBImage(raster: image.displayEncoded().raster16(), transfer: .display), to: url, bitDepth: 16)
            shots.append(url)
        }
        let dataset = try Dataset.create(at: root.appendingPathComponent("ds"))
        let camera = { (i: Int) in CameraIdentity(make: "T", model: "T", serial: "S\(i)") }
        let capture = try dataset.ingestCapture(CaptureInput(
            scene: SceneInput(name: "texture"),
            source: ShotInput(file: shots[0], camera: camera(0), settings: CameraSettings()),
            target: ShotInput(file: shots[1], camera: camera(1), settings: CameraSettings())))
        var options = ProcessingOptions()
        options.split = .test
        let outcome = try PairProcessor(dataset: dataset, options: options, model: nil, lpips: nil).process(captureID: capture.id)
        #expect(outcome.verdict == .accepted, "\(outcome.reasons)")

        let out = root.appendingPathComponent("export")
        _ = try Exporter(options: ExportOptions(format: .realdof, split: .only(.test), depth: 16)).run(from: dataset, to: out)
        struct Manifest: Decodable {
            struct Pair: Decodable {
                struct Alignment: Decodable { var homography: [Double]; var crop: CropRect }
                var files: [String: String]
                var alignment: Alignment
            }
            var pairs: [Pair]
        }
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: out.appendingPathComponent("manifest.json")))
        let entry = try #require(manifest.pairs.first)
        let h = try Homography(entry.alignment.homography)
        #expect(h.worstCornerError(to: truth, width: 400, height: 300) < 0.5, "the stored map is the true source -> target map")

        let exported = try ImageFile.read(out.appendingPathComponent(try #require(entry.files["target"])))
        let original = try ImageFile.read(shots[1])
        let forward = Self.error(exported: exported, original: original, crop: entry.alignment.crop, map: h)
        let backward = Self.error(exported: exported, original: original, crop: entry.alignment.crop,
                                  map: try #require(h.inverse))
        #expect(forward < 0.01, "exported target vs original through H: \(forward)")
        #expect(backward > 4 * forward, "the other direction must not fit as well: \(backward) vs \(forward)")
    }
}
