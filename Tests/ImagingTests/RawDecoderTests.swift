import TestSupport
import Foundation
import Testing
import Imaging

@Suite struct RawDecoderTests {
    /// Decoding tolerance: 16-bit quantisation of the mosaic plus libraw's float processing.
    static let tolerance: Float = 3e-4

    func writeDNG(_ image: RGBImage, metadata: CaptureMetadata = CaptureMetadata(), pattern: CFAPattern = .rggb,
                  in dir: URL, name: String = "frame.dng") throws -> URL {
        let frame = BayerFrame(mosaicking: image, pattern: pattern, blackLevel: 512, whiteLevel: 16383)
        let url = dir.appendingPathComponent(name)
        try DNGWriter.write(frame, metadata: metadata, to: url)
        return url
    }

    @Test(arguments: CFAPattern.allCases)
    func flatGreyDecodesFlat(pattern: CFAPattern) throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = RGBImage(width: 48, height: 32, transfer: .linear,
                             pixels: [Float](repeating: 0.3, count: 3 * 48 * 32))
        let url = try writeDNG(image, pattern: pattern, in: dir)
        let decoded = try RawDecoder().decode(url).image
        #expect(decoded.width == 48 && decoded.height == 32 && decoded.transfer == .linear)
        let worst = decoded.pixels.map { abs($0 - 0.3) }.max()!
        #expect(worst < Self.tolerance, "worst deviation \(worst)")
    }

    /// Four flat colour blocks; away from the block edges (where demosaicing mixes neighbours) every pixel has its
    /// block's colour. The brightest value (0.7) stays under libraw's 75% adjust-maximum threshold.
    @Test(arguments: [Demosaic.ahd, .bilinear, .vng, .ppg, .dcb])
    func knownPatternDecodesToItsValues(demosaic: Demosaic) throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let w = 64, h = 48
        let colours: [[Float]] = [[0.2, 0.4, 0.1], [0.6, 0.3, 0.05], [0.05, 0.5, 0.7], [0.35, 0.35, 0.35]]
        func block(_ x: Int, _ y: Int) -> Int { (y < h / 2 ? 0 : 2) + (x < w / 2 ? 0 : 1) }
        var image = RGBImage(width: w, height: h, transfer: .linear)
        for y in 0..<h { for x in 0..<w { for c in 0..<3 { image[c, x, y] = colours[block(x, y)][c] } } }
        let decoded = try RawDecoder(demosaic: demosaic).decode(try writeDNG(image, in: dir)).image
        var worst: Float = 0
        for y in 0..<h where abs(y - h / 2) >= 4 && y >= 3 && y < h - 3 {
            for x in 0..<w where abs(x - w / 2) >= 4 && x >= 3 && x < w - 3 {
                for c in 0..<3 { worst = max(worst, abs(decoded[c, x, y] - colours[block(x, y)][c])) }
            }
        }
        #expect(worst < Self.tolerance, "\(demosaic): worst deviation \(worst)")
    }

    @Test func nearlyClippedFrameFollowsLibrawsAdjustMaximum() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var image = RGBImage(width: 32, height: 32, transfer: .linear, pixels: [Float](repeating: 0.4, count: 3 * 32 * 32))
        for c in 0..<3 { for y in 0..<16 { for x in 0..<32 { image[c, x, y] = 0.8 } } }
        let url = try writeDNG(image, in: dir)
        // Default (dcraw_emu's 0.75): the data maximum 0.8 becomes the white level, so 0.4 reads as 0.5.
        let adjusted = try RawDecoder().decode(url).image
        #expect(abs(adjusted[1, 16, 28] - 0.5) < Self.tolerance)
        // Threshold 0: the file's own white level is used and values come back as written.
        let fixed = try RawDecoder(adjustMaximumThreshold: 0).decode(url).image
        #expect(abs(fixed[1, 16, 28] - 0.4) < Self.tolerance)
        #expect(abs(fixed[1, 16, 4] - 0.8) < Self.tolerance)
    }

    @Test func metadataRoundTrips() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let shot = CaptureMetadata(make: "Acme", model: "Beam One", serialNumber: "AC-000123", aperture: 2.8,
                                   exposureTime: 1.0 / 125, iso: 400, focalLength: 50,
                                   captureTime: Date(timeIntervalSince1970: 1_790_000_123))
        let image = RGBImage(width: 32, height: 32, transfer: .linear, pixels: [Float](repeating: 0.2, count: 3072))
        let url = try writeDNG(image, metadata: shot, in: dir)
        for read in [try RawDecoder().metadata(url), try RawDecoder().decode(url).metadata] {
            #expect(read.make == "Acme")
            #expect(read.model == "Beam One")
            #expect(read.serialNumber == "AC-000123")
            #expect(abs(read.aperture! - 2.8) < 1e-5)
            #expect(abs(read.exposureTime! - 0.008) < 1e-7)
            #expect(read.iso == 400)
            #expect(abs(read.focalLength! - 50) < 1e-5)
            #expect(read.captureTime == shot.captureTime)
        }
    }

    @Test func readsThroughImageFileAsLinear() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = RGBImage(width: 32, height: 32, transfer: .linear, pixels: [Float](repeating: 0.25, count: 3072))
        let decoded = try ImageFile.read(try writeDNG(image, in: dir))
        #expect(decoded.transfer == .linear)
        #expect(abs(decoded[0, 8, 8] - 0.25) < Self.tolerance)
    }
}

/// libraw runs in a child process: a file that crashes libraw is that file's error. The input is what the `dng`
/// fuzz target found: a 487-byte TIFF whose model text makes Debian's libraw 0.20 overflow a 64-byte buffer in
/// its Hasselblad model code (an unbounded strcat, fixed upstream only in 0.22); glibc's fortify check aborts.
@Suite struct RawDecoderIsolationTests {
    static let finding = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz/corpus/dng/regression-libraw-hasselblad-strcat")

    @Test func aFileThatCrashesLibrawIsAnErrorNamingIt() throws {
        for decode in [true, false] {
            do {
                if decode { _ = try RawDecoder().decode(Self.finding) } else { _ = try RawDecoder().metadata(Self.finding) }
                Issue.record("the crafted file decoded")
            } catch let error as ImagingError {
                let text = "\(error)"
                #expect(text.contains("regression-libraw-hasselblad-strcat"), "\(text)")
                // AddressSanitizer stops the child with exit status 1 where glibc aborts it.
                #expect(text.contains("libraw") && (text.contains("crashed on it") || text.contains("failed on it")), "\(text)")
            }
        }
    }

    /// The process keeps decoding after a crashed child.
    @Test func decodingGoesOnAfterACrash() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let frame = BayerFrame(mosaicking: RGBImage(width: 32, height: 24, transfer: .linear,
                                                    pixels: [Float](repeating: 0.25, count: 3 * 32 * 24)),
                               pattern: .rggb, blackLevel: 512, whiteLevel: 16383)
        let good = dir.appendingPathComponent("good.dng")
        try DNGWriter.write(frame, metadata: CaptureMetadata(), to: good)
        for _ in 0..<3 {
            #expect(throws: ImagingError.self) { _ = try RawDecoder().decode(Self.finding) }
            #expect(try RawDecoder().decode(good).image.width == 32)
        }
    }
}
