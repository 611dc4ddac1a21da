import TestSupport
import DatasetBuilder
import Foundation
import GRDB
import Testing

/// Catalogues in odd states: figures no rigctl writes, a newer rigctl's schema, a truncated file.
@Suite struct OddCatalogueTests {
    func execute(_ sql: String, in root: URL) throws {
        let db = try DatabaseQueue(path: root.appendingPathComponent(Dataset.catalogName).path)
        try db.write { try $0.execute(sql: sql) }
    }

    /// A crafted -inf, +inf or NaN in the catalogue is null plus a note in every JSON made from it; nothing fails.
    @Test func nonFiniteFiguresEncodeAsNullWithANote() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = try makeDataset(in: dir, count: 2).root
        try execute("UPDATE capture SET skew = -9e999", in: root)
        try execute("UPDATE shot SET aperture = 9e999", in: root)
        try execute("UPDATE pair SET colourResidual = -9e999", in: root)

        let dataset = try Dataset.open(at: root, readOnly: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        // dataset show --json
        let detail = try dataset.pair("1")
        let json = try #require(try JSONSerialization.jsonObject(with: try encoder.encode(detail)) as? [String: Any])
        let capture = try #require(json["capture"] as? [String: Any])
        #expect(capture["skew"] is NSNull, "\(capture)")
        #expect((capture["nonFinite"] as? [String]) == ["skew: -inf"], "\(capture)")
        let shot = try #require((capture["shots"] as? [[String: Any]])?.first?["settings"] as? [String: Any])
        #expect(shot["aperture"] is NSNull && (shot["nonFinite"] as? [String]) == ["aperture: inf"], "\(shot)")
        #expect((json["nonFinite"] as? [String]) == ["colour.residual: -inf"], "\(json)")
        // The review API's page.
        let page = try encoder.encode(try dataset.reviewPage(ReviewQuery()))
        let rows = try #require((try JSONSerialization.jsonObject(with: page) as? [String: Any])?["rows"] as? [[String: Any]])
        #expect(rows.first?["skew"] is NSNull && (rows.first?["nonFinite"] as? [String])?.contains("skew: -inf") == true,
                "\(rows)")
        // Export: the manifest names the figures and the export succeeds.
        let out = dir.appendingPathComponent("export")
        _ = try Exporter(options: ExportOptions(split: .all)).run(from: dataset, to: out)
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("manifest.json")))
            as? [String: Any])
        let first = try #require((manifest["pairs"] as? [[String: Any]])?.first)
        #expect((first["nonFinite"] as? [String])?.contains("skew: -inf") == true, "\(first)")
    }

    /// A catalogue with a migration this rigctl does not know, or a higher user_version, is never opened for
    /// writing (the error names both versions); a read-only open reads it and says so.
    @Test func aNewerCataloguesIsReadButNeverWritten() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = try makeDataset(in: dir, count: 1).root
        let catalog = root.appendingPathComponent(Dataset.catalogName)
        func bytes() throws -> Data { try Data(contentsOf: catalog) }

        try execute("INSERT INTO grdb_migrations (identifier) VALUES ('v99-future')", in: root)
        let before = try bytes()
        #expect {
            _ = try Dataset.open(at: root)
        } throws: { error in
            guard case DatasetError.newerCatalogue(_, let detail) = error else { return false }
            return detail.contains("v99-future") && detail.contains("v14-downsampled-ssim")
        }
        #expect(try bytes() == before, "the refused open changed the catalogue")
        let reader = try Dataset.open(at: root, readOnly: true)
        #expect(reader.newerCatalogue?.contains("v99-future") == true)
        #expect(try reader.pairs(PairFilter()).count == 1)

        try execute("DELETE FROM grdb_migrations WHERE identifier = 'v99-future'", in: root)
        try execute("PRAGMA user_version = 7", in: root)
        #expect {
            _ = try Dataset.open(at: root)
        } throws: { error in
            guard case DatasetError.newerCatalogue(_, let detail) = error else { return false }
            return detail.contains("version is 7") && detail.contains("version 0")
        }
        try execute("PRAGMA user_version = 0", in: root)
        #expect(try Dataset.open(at: root).newerCatalogue == nil)
    }

    /// A truncated catalogue is an invalid catalogue (bad input, exit status 2), not a catalogue error.
    @Test func aTruncatedCatalogueIsAnInvalidCatalogue() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = try makeDataset(in: dir, count: 6).root
        let catalog = root.appendingPathComponent(Dataset.catalogName)
        // Fold the write-ahead log into the file, then cut it to its first pages.
        try DatabaseQueue(path: catalog.path).writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        let data = try Data(contentsOf: catalog)
        #expect(data.count > 8192)
        try data.prefix(8192).write(to: catalog)
        for readOnly in [true, false] {
            #expect {
                let dataset = try Dataset.open(at: root, readOnly: readOnly)
                _ = try dataset.pairs(PairFilter())
                _ = try dataset.verify()
            } throws: { error in
                guard let error = error as? DatasetError, case .invalidCatalogue = error else { return false }
                return error.isBadInput
            }
        }
    }
}
