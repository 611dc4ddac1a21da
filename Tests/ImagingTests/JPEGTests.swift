import TestSupport
import Foundation
import Testing
import Imaging

@Suite struct JPEGTests {
    /// A smooth colour ramp: JPEG keeps such content within a few levels at high quality.
    func ramp(width: Int, height: Int) -> Raster8 {
        var samples: [UInt8] = []
        for y in 0..<height {
            for x in 0..<width {
                samples += [UInt8(x * 255 / (width - 1)), UInt8(y * 255 / (height - 1)), 128]
            }
        }
        return Raster8(width: width, height: height, channels: 3, samples: samples)
    }

    @Test func decodesWhatWasEncodedWithinJPEGError() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let original = ramp(width: 64, height: 40)
        let url = dir.appendingPathComponent("ramp.jpg")
        try JPEGFile.encode(original, quality: 95).write(to: url)
        let decoded = try JPEGFile.read(url)
        #expect(decoded.width == 64 && decoded.height == 40 && decoded.channels == 3)
        var worst = 0, total = 0
        for i in original.samples.indices {
            let d = abs(Int(original.samples[i]) - Int(decoded.samples[i]))
            worst = max(worst, d)
            total += d
        }
        #expect(worst <= 8, "worst error \(worst) levels")
        #expect(Double(total) / Double(original.samples.count) < 1.5)

        let image = try ImageFile.read(url)
        #expect(image.width == 64 && image.transfer == .display)
        #expect(abs(image[0, 63, 0] - 1) < 0.03)
    }

    @Test func decodesGreyscale() throws {
        let grey = Raster8(width: 16, height: 16, channels: 1, samples: [UInt8](repeating: 200, count: 256))
        let decoded = try JPEGFile.decode(JPEGFile.encode(grey, quality: 90), path: "grey.jpg")
        #expect(decoded.channels == 1)
        #expect(decoded.samples.allSatisfy { abs(Int($0) - 200) <= 1 })
    }
}
