import DatasetBuilder
import Foundation
import PairVocabulary
import TestSupport
import Testing

/// Which pairs `evaluate --dataset` takes: of the split asked for, rejected neither by the checks nor on review.
@Suite struct SelectionTests {
    @Test func anEvaluationTakesTheSplitsUsablePairsOrSaysWhyNone() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Six pairs: 1, 3, 5 test and 2, 4, 6 train; pair 5 rejected by the checks (see makeDataset); 3 on review.
        let dataset = try makeDataset(in: dir, count: 6, scenes: 2)
        try dataset.review(pair: PairID(3), state: .rejected, note: "blurred twice")
        let test = try dataset.pairsToEvaluate(.only(.test))
        #expect(test.pairs.map(\.id) == [1] && test.emptyReason == nil, "\(test.pairs.map(\.id))")
        #expect(try dataset.pairsToEvaluate(.only(.train)).pairs.map(\.id) == [2, 4, 6])
        #expect(try dataset.pairsToEvaluate(.all).pairs.map(\.id) == [1, 2, 4, 6])
        let none = try dataset.pairsToEvaluate(.only(.unused))
        #expect(none.pairs.isEmpty && none.emptyReason?.contains("--split") == true, "\(none.emptyReason ?? "")")
    }
}
