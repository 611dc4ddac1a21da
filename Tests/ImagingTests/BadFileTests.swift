import TestSupport
import Foundation
import PairVocabulary
import Testing
import Imaging

/// Damaged files must give an `ImagingError` that names the file, never a crash or silent garbage.
@Suite struct BadFileTests {
    enum Kind: String, CaseIterable { case png8, png16, jpeg, dng }

    func sample(_ kind: Kind) throws -> Data {
        var rng = SplitMix64(seed: 42)
        switch kind {
        case .png8:
            let r = Raster8(width: 40, height: 30, channels: 3, samples: (0..<3600).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
            return try PNGFile.encode(r)
        case .png16:
            let r = Raster16(width: 40, height: 30, channels: 3, samples: (0..<3600).map { _ in UInt16(truncatingIfNeeded: rng.next()) })
            return try PNGFile.encode(r)
        case .jpeg:
            let r = Raster8(width: 64, height: 48, channels: 3, samples: (0..<9216).map { _ in UInt8(truncatingIfNeeded: rng.next() % 64 + 96) })
            return try JPEGFile.encode(r, quality: 90)
        case .dng:
            let image = RGBImage(width: 64, height: 48, transfer: .linear,
                                 pixels: (0..<9216).map { _ in Float(rng.next() % 1000) / 2000 })
            return DNGWriter.encode(BayerFrame(mosaicking: image, blackLevel: 256, whiteLevel: 4095),
                                    metadata: CaptureMetadata(make: "Acme", model: "Test"))
        }
    }

    /// Reads through the generic entry point, which sniffs the format.
    func read(_ data: Data, in dir: URL, name: String) throws -> RGBImage {
        let url = dir.appendingPathComponent(name)
        try data.write(to: url)
        return try ImageFile.read(url)
    }

    @Test(arguments: Kind.allCases)
    func truncatedFilesAreErrorsNamingTheFile(kind: Kind) throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try sample(kind)
        _ = try read(data, in: dir, name: "whole")  // the intact file decodes
        for fraction in [0.0, 0.01, 0.1, 0.3, 0.5, 0.8, 0.95, 0.99] {
            let cut = Int(Double(data.count) * fraction)
            let name = "cut-\(cut)"
            do {
                _ = try read(data.prefix(cut), in: dir, name: name)
                Issue.record("\(kind) cut at \(cut) of \(data.count) bytes decoded without an error")
            } catch let error as ImagingError {
                #expect(error.path.hasSuffix(name), "\(error)")
            }
        }
    }

    /// Bit flips in the body: PNG's checksums catch every one; JPEG and DNG either fail with an error naming the
    /// file or decode to an image of the right size (a flipped pixel bit is undetectable there) - never a crash.
    @Test(arguments: Kind.allCases)
    func bitFlipsNeverCrash(kind: Kind) throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try sample(kind)
        var rng = SplitMix64(seed: 9)
        var failures = 0
        let trials = 150
        for trial in 0..<trials {
            var damaged = data
            let position = 8 + Int(rng.next() % UInt64(data.count - 8))  // keep the signature so the format is known
            damaged[position] ^= UInt8(1 << (rng.next() % 8))
            let name = "flip-\(trial)"
            do {
                let image = try read(damaged, in: dir, name: name)
                #expect(kind != .png8 && kind != .png16, "PNG with a flipped bit at \(position) decoded")
                #expect(image.width > 0 && image.height > 0 && image.width <= 64 && image.height <= 48)
            } catch let error as ImagingError {
                #expect(error.path.hasSuffix(name))
                failures += 1
            }
        }
        if kind == .png8 || kind == .png16 { #expect(failures == trials) }
    }

    @Test func headerFlipsInDNGAreCaught() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try sample(.dng)
        // Corrupt the strip offset (tag 273) to point past the end of the file.
        var damaged = data
        let entries = Int(data[8]) | Int(data[9]) << 8
        for i in 0..<entries {
            let e = 10 + 12 * i
            if Int(data[e]) | Int(data[e + 1]) << 8 == 273 { damaged[e + 10] = 0x7F }
        }
        #expect(throws: ImagingError.self) { try read(damaged, in: dir, name: "offset.dng") }
    }

    @Test func unsupportedEmptyAndMissingFiles() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        do {
            _ = try read(Data("hello, this is not an image\n".utf8), in: dir, name: "notes.txt")
            Issue.record("a text file decoded")
        } catch let ImagingError.unsupported(path, _) {
            #expect(path.hasSuffix("notes.txt"))
        }
        #expect(throws: ImagingError.self) { try read(Data(), in: dir, name: "empty.png") }
        do {
            _ = try ImageFile.read(dir.appendingPathComponent("missing.dng"))
            Issue.record("a missing file decoded")
        } catch let ImagingError.unreadable(path, reason) {
            #expect(path.hasSuffix("missing.dng"))
            #expect(reason == "no such file")
        }
    }
}
