import Foundation
import Imaging
import TestSupport
import Testing

/// A RAW file is held to the same pixel limit as PNG and JPEG: refused before libraw unpacks it, with its size
/// and the limit named, through `ImageFile` as through `RawDecoder`.
@Suite struct RawPixelLimitTests {
    @Test func aRawFrameOverTheLimitIsRefusedBeforeUnpacking() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = RGBImage(width: 64, height: 48, transfer: .linear, pixels: [Float](repeating: 0.3, count: 3 * 64 * 48))
        let url = dir.appendingPathComponent("frame.dng")
        try DNGWriter.write(BayerFrame(mosaicking: image), metadata: CaptureMetadata(), to: url)
        let data = try Data(contentsOf: url)
        for decode in [{ try RawDecoder().decode(data, path: url.path, maxPixels: 3000).image },
                       { try ImageFile.decode(data, path: url.path, maxPixels: 3000) }] {
            let error = #expect(throws: ImagingError.self) { try decode() }
            #expect("\(error!)".contains("64x48") && "\(error!)".contains(ImageLimits.environmentKey), "\(error!)")
        }
        // Within the limit it decodes as before; the metadata reader is not limited.
        #expect(try ImageFile.decode(data, path: url.path, maxPixels: 3072).width == 64)
        #expect(throws: Never.self) { try RawDecoder().metadata(url) }
    }
}
