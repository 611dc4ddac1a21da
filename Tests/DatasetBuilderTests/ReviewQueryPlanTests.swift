import DatasetBuilder
import Foundation
import TestSupport
import Testing

/// The queue's score lookups go through the pair's evaluation rows. Through the evaluation table's model index
/// instead, SQLite reads every row of the model for every pair: over a minute to sort 10,000 pairs by a score
/// (ReviewBenchmark). Checked on the plan, not on a time.
@Suite struct ReviewQueryPlanTests {
    @Test func scoreSortsAndConditionsUseThePairIndexNotTheModelIndex() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dataset = try Dataset.create(at: dir.appendingPathComponent("ds"))
        _ = try dataset.registerModel(ModelInput(name: "ifan", weights: nil))
        let queries = [
            ReviewQuery(sort: .score(model: "ifan", metric: .psnr), descending: true),
            ReviewQuery(conditions: [try ReviewCondition(parsing: "score.ifan.ssim<0.8")]),
        ]
        for query in queries {
            let plan = try dataset.reviewQueryPlan(query)
            let evaluation = plan.filter { $0.contains("evaluation") }
            #expect(!evaluation.isEmpty, "\(plan)")
            #expect(evaluation.allSatisfy { $0.contains("pairId=") && !$0.contains("evaluation_model") }, "\(plan)")
        }
    }
}
