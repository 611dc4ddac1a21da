import TestSupport
import Foundation
import PairVocabulary
import Testing
import Imaging

@Suite struct PNGTests {
    func randomRaster<S: FixedWidthInteger & UnsignedInteger & Sendable>(_: S.Type, width: Int, height: Int,
                                                                         channels: Int, seed: UInt64) -> Raster<S> {
        var rng = SplitMix64(seed: seed)
        let samples = (0..<(width * height * channels)).map { _ in S(truncatingIfNeeded: rng.next()) }
        return Raster(width: width, height: height, channels: channels, samples: samples)
    }

    @Test(arguments: [1, 2, 3, 4])
    func eightBitRoundTripIsBitExact(channels: Int) throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let raster = randomRaster(UInt8.self, width: 37, height: 23, channels: channels, seed: UInt64(channels))
        let url = dir.appendingPathComponent("r.png")
        try PNGFile.write(raster, to: url)
        #expect(try PNGFile.read(url) == .eight(raster))
    }

    @Test(arguments: [1, 2, 3, 4])
    func sixteenBitRoundTripIsBitExact(channels: Int) throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let raster = randomRaster(UInt16.self, width: 41, height: 19, channels: channels, seed: 100 + UInt64(channels))
        let url = dir.appendingPathComponent("r.png")
        try PNGFile.write(raster, to: url, compressionLevel: 1)
        #expect(try PNGFile.read(url) == .sixteen(raster))
    }

    @Test func rgbImageThroughEightAndSixteenBitsIsExact() throws {
        let r8 = randomRaster(UInt8.self, width: 16, height: 9, channels: 3, seed: 7)
        #expect(RGBImage(raster: r8).raster8() == r8)
        let r16 = randomRaster(UInt16.self, width: 16, height: 9, channels: 3, seed: 8)
        #expect(RGBImage(raster: r16).raster16() == r16)
    }

    @Test func planarLayoutAndGreyExpansion() throws {
        let grey = Raster8(width: 2, height: 1, channels: 1, samples: [0, 255])
        let image = AnyRaster.eight(grey).rgbImage()
        #expect(image.pixels == [0, 1, 0, 1, 0, 1])
        let rgba = Raster16(width: 1, height: 1, channels: 4, samples: [65535, 0, 32768, 7])
        let fromRGBA = RGBImage(raster: rgba)
        #expect(fromRGBA[0, 0, 0] == 1)
        #expect(fromRGBA[1, 0, 0] == 0)
        #expect(abs(fromRGBA[2, 0, 0] - 32768 / 65535) < 1e-7)
    }

    @Test func writesRGBImageAtBothDepths() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = RGBImage(width: 3, height: 2, pixels: (0..<18).map { Float($0) / 17 })
        for depth in [8, 16] {
            let url = dir.appendingPathComponent("d\(depth).png")
            try PNGFile.write(image, to: url, bitDepth: depth)
            let back = try PNGFile.read(url)
            #expect(back.bitDepth == depth)
            let tolerance: Float = depth == 8 ? 0.5 / 255 + 1e-6 : 0.5 / 65535 + 1e-7
            let decoded = back.rgbImage()
            for i in image.pixels.indices { #expect(abs(decoded.pixels[i] - image.pixels[i]) <= tolerance) }
        }
        #expect(throws: ImagingError.self) { try PNGFile.write(image, to: dir.appendingPathComponent("x.png"), bitDepth: 12) }
    }
}

@Suite struct ResamplingTests {
    @Test func areaAverageKeepsMeansAndFlatFields() {
        var image = RGBImage(width: 6, height: 4)
        for y in 0..<4 { for x in 0..<6 { for c in 0..<3 { image[c, x, y] = Float((x + y * 6 + c) % 5) / 4 } } }
        let half = image.resizedByArea(width: 3, height: 2)
        // Each output pixel is the mean of a 2x2 block.
        for c in 0..<3 {
            for oy in 0..<2 {
                for ox in 0..<3 {
                    let mean = (image[c, 2 * ox, 2 * oy] + image[c, 2 * ox + 1, 2 * oy] + image[c, 2 * ox, 2 * oy + 1]
                        + image[c, 2 * ox + 1, 2 * oy + 1]) / 4
                    #expect(abs(half[c, ox, oy] - mean) < 1e-6)
                }
            }
        }
        let flat = RGBImage(width: 101, height: 37, pixels: [Float](repeating: 0.25, count: 3 * 101 * 37))
        let small = flat.downscaled(maxSide: 30)
        #expect(small.width == 30 && small.height == 11)
        #expect(small.pixels.allSatisfy { abs($0 - 0.25) < 1e-6 })
        #expect(flat.downscaled(maxSide: 200) == flat)
        let big = half.enlargedNearest(by: 3)
        #expect(big.width == 9 && big[1, 8, 5] == half[1, 2, 1])
    }
}

/// The Float -> integer conversion is total: NaN and infinities never trap (a NaN from a bad model once did).
@Test func rasterConversionOfNonFiniteValuesIsTotal() throws {
    let values: [Float] = [.nan, -.nan, .infinity, -.infinity, 2, -1, 0.5, .signalingNaN]
    let image = RGBImage(width: values.count, height: 1, pixels: values + values + values)
    let eight = image.raster8()
    #expect(eight.samples.enumerated().filter { $0.offset % 3 == 0 }.map(\.element) == [0, 0, 255, 0, 255, 0, 128, 0])
    let sixteen = image.raster16()
    #expect(sixteen.samples.enumerated().filter { $0.offset % 3 == 0 }.map(\.element) == [0, 0, 65535, 0, 65535, 0, 32768, 0])
    _ = try PNGFile.encode(eight)
}

/// A decompression bomb is refused from its header, before its pixels are allocated, with the way to raise the limit.
@Test func imagesOverThePixelLimitAreRefusedBeforeDecoding() throws {
    let raster = Raster8(width: 100, height: 100, channels: 3, samples: [UInt8](repeating: 7, count: 30_000))
    let png = try PNGFile.encode(raster)
    let jpeg = try JPEGFile.encode(raster)
    for decode in [{ _ = try PNGFile.decode(png, path: "bomb.png", maxPixels: 9_999) },
                   { _ = try JPEGFile.decode(jpeg, path: "bomb.jpg", maxPixels: 9_999) }] {
        do {
            try decode()
            Issue.record("an image over the limit was decoded")
        } catch let error as ImagingError {
            #expect(error.description.contains("100x100") && error.description.contains(ImageLimits.environmentKey), "\(error)")
        }
    }
    #expect(try PNGFile.decode(png, path: "ok.png", maxPixels: 10_000).width == 100)
    // The default comes from memory: half of what is available at 32 bytes a pixel, within 16 and 400 megapixels.
    #expect(ImageLimits.fromMemory(8_000_000_000) == 125_000_000)
    #expect(ImageLimits.fromMemory(100_000_000) == 16_000_000)
    #expect(ImageLimits.fromMemory(1 << 40) == 400_000_000)
}
