import DatasetBuilder
import Foundation
import TestSupport
import Testing

/// An image that declares more pixels than a catalogued image may have (a 291 KB PNG can declare 10000x10000)
/// is refused by import from its header, before any decoding, with its size and the limit named.
@Suite struct ImportPixelLimitTests {
    /// A PNG signature and IHDR declaring `width` x `height` RGB, 8 bits, then nothing: only the header is read.
    static func pngHeader(width: UInt32, height: UInt32) -> Data {
        var d = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13])
        d += Data("IHDR".utf8)
        for v in [width, height] { d += Data([UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]) }
        d += Data([8, 2, 0, 0, 0, 0, 0, 0, 0])
        return d
    }

    /// SOI, an APP0 segment, then a baseline frame header (SOF0) declaring `width` x `height`.
    static func jpegHeader(width: UInt16, height: UInt16) -> Data {
        var d = Data([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10]) + Data("JFIF\0".utf8) + Data([1, 1, 0, 0, 1, 0, 1, 0, 0])
        d += Data([0xFF, 0xC0, 0x00, 0x11, 0x08, UInt8(height >> 8), UInt8(height & 0xFF), UInt8(width >> 8), UInt8(width & 0xFF), 3])
        d += Data([1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1])
        return d
    }

    @Test func importRefusesImagesOverTheCatalogueLimit() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let set = dir.appendingPathComponent("set")
        for side in ["source", "target"] {
            try FileManager.default.createDirectory(at: set.appendingPathComponent(side), withIntermediateDirectories: true)
            try Self.pngHeader(width: 10000, height: 10000).write(to: set.appendingPathComponent("\(side)/huge.png"))
            try Self.jpegHeader(width: 12000, height: 9000).write(to: set.appendingPathComponent("\(side)/wide.jpg"))
        }
        let dataset = try Dataset.create(at: dir.appendingPathComponent("ds"))
        let report = try Importer(layout: .realdof).run(from: set, into: dataset)
        #expect(report.added.isEmpty)
        let refused = report.refused.joined(separator: "\n")
        #expect(refused.contains("source/huge.png") && refused.contains("10000x10000 (100.0 megapixels)")
                && refused.contains("64 megapixels"), "\(refused)")
        #expect(refused.contains("source/wide.jpg") && refused.contains("12000x9000 (108.0 megapixels)"), "\(refused)")
        #expect(try dataset.status().pairs == 0)
        #expect(try dataset.verify().isConsistent)
    }
}
