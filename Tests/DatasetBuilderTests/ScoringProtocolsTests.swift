import DatasetBuilder
import Foundation
import GRDB
import PairVocabulary
import Testing

@Suite struct DatasetScoringProtocolsTests {
    @Test func protocolsAreKeptInOrderAndCheckedWhenSetAndRead() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rigctl-protocols-" + UUID().uuidString)
        defer { try? FileManager.default.removeItem(at: dir) }
        let dataset = try Dataset.create(at: dir)
        #expect(try dataset.scoringProtocols() == Dataset.defaultScoringProtocols)
        try dataset.setScoringProtocols([.realblur, .ifan])
        #expect(try dataset.scoringProtocols() == [.realblur, .ifan])
        #expect(try Dataset.open(at: dir, readOnly: true).scoringProtocols() == [.realblur, .ifan])
        #expect(throws: DatasetError.self) { try dataset.setScoringProtocols([]) }
        #expect(throws: DatasetError.self) { try dataset.setScoringProtocols([.ifan, .ifan]) }
        #expect(try dataset.scoringProtocols() == [.realblur, .ifan], "a refused change leaves the list as it was")

        // A name a newer rigctl wrote is an error that names it, not a protocol left out.
        let queue = try DatabaseQueue(path: dir.appendingPathComponent("catalog.sqlite").path)
        try queue.write { try $0.execute(sql: "INSERT INTO scoringProtocol (name, position) VALUES ('y-channel-matlab', 9)") }
        try queue.close()
        let error = try #require(throws: DatasetError.self) { try dataset.scoringProtocols() }
        #expect("\(error)".contains("'y-channel-matlab'"), "\(error)")
    }
}
