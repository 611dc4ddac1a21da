import TestSupport
import DatasetBuilder
import Foundation
import PairVocabulary
import Testing

@Suite struct WorkTests {
    @Test func theCatalogueSaysWhatIsLeftToDo() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dataset = try Dataset.create(at: dir.appendingPathComponent("ds"))
        let scratch = dir.appendingPathComponent("scratch")
        var items: [SyntheticCapture.Item] = []
        var ids: [CaptureID] = []
        for i in 0..<3 {
            let item = try SyntheticCapture.make(index: i, seed: 11, in: scratch, width: 32, height: 24, scenes: 1)
            items.append(item)
            ids.append(try dataset.ingestCapture(item.capture).id)
        }
        #expect(try dataset.capturesWithoutPair() == ids)
        let detail = try #require(try dataset.capture(id: ids[1]))
        let original = try #require(detail.shot(.source))
        #expect(FileManager.default.fileExists(atPath: try dataset.url(of: original.file).path))
        #expect(try dataset.capture(id: 999) == nil)

        let p0 = try dataset.addPair(items[0].pair(captureID: ids[0], verdict: .accepted)).id
        let p1 = try dataset.addPair(items[1].pair(captureID: ids[1], verdict: .rejected)).id
        #expect(try dataset.capturesWithoutPair() == [ids[2]])
        #expect(try dataset.capturesWithoutPair(limit: 0) == [])

        // A baseline model has no weights; registering it twice returns the same row.
        let input = try dataset.registerModel(ModelInput(name: "input", weights: nil))
        #expect(input.created)
        #expect(try dataset.registerModel(ModelInput(name: "input", weights: nil)) == Ingested(id: input.id, created: false))
        // Rejected pairs need no evaluation.
        #expect(try dataset.pairsWithoutEvaluation(model: "input") == [p0])
        try dataset.recordEvaluation(EvaluationInput(pairID: p0, modelID: input.id, psnr: 30, ssim: 0.9))
        #expect(try dataset.pairsWithoutEvaluation(model: "input") == [])
        #expect(try dataset.pairsWithoutEvaluation(model: "ifan") == [p0])
        _ = p1
        #expect(try dataset.verify().isConsistent)
    }
}
