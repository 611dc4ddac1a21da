import DatasetBuilder
import Foundation
import Review
import TestSupport
import Testing

/// The parsers the routes use, as the `review` fuzz target drives them: the seeds of Fuzz/corpus/review are
/// parsed as documented, hostile numbers are refused, and an accepted query survives its own URL form.
@Suite struct RequestParsingTests {
    static func seed(_ name: String) throws -> Data {
        try Data(contentsOf: packageRoot().appendingPathComponent("Fuzz/corpus/review/\(name)"))
    }

    static func exercise(_ data: Data) -> RequestParsing.Outcome { RequestParsing.exercise(data) }

    static let everyKind = ["source", "target", "left", "right", "difference", "original", "output"]

    @Test func theSeedsParseAsDocumented() throws {
        let queue = Self.exercise(try Self.seed("queue-and-decision"))
        #expect(queue == .init(pairID: 17, query: true, imageKinds: Self.everyKind, decision: true, batch: false))
        let image = Self.exercise(try Self.seed("image-and-batch"))
        // A body with a state is a valid single decision too (unknown keys are ignored, as JSON decoding does).
        #expect(image == .init(pairID: 3, query: true, imageKinds: Self.everyKind, decision: true, batch: true))
        // The largest Int64 as an id, an offset past the range and limit 0, a type that only begins like JSON.
        let hostile = Self.exercise(try Self.seed("hostile-numbers"))
        #expect(hostile.pairID == nil && !hostile.query && !hostile.decision && !hostile.batch, "\(hostile)")
        // model= goes with the output image only; an empty id list is refused.
        let output = Self.exercise(try Self.seed("output-model"))
        #expect(output == .init(pairID: 1, query: true, imageKinds: ["output"], decision: true, batch: false), "\(output)")
        // A note with U+0000 is refused in a single decision as in a batch.
        let nul = RequestParsing.exercise(path: "1", query: nil, contentType: "application/json",
                                          body: Data(#"{"state":"approved","note":"a\u0000b"}"#.utf8))
        #expect(!nul.decision)
    }

    @Test(arguments: ["scene=a%2Bb+c&where=quality.p95Shift%3E0.5", "sort=score.m%20x.psnr&order=desc&offset=1000000000",
                      "scene=%E2%9C%93&split=train&verdict=rejected&review=flagged&limit=1000"])
    func anAcceptedQuerySurvivesItsURLForm(query: String) {
        // exercise() traps when the round trip changes the query; here it must count the query as accepted.
        #expect(RequestParsing.exercise(path: "", query: query, contentType: nil, body: Data()).query)
    }

    /// The fuzzer's finding (Fuzz/corpus/review/regression-score-without-model): `score.psnr`, a score with no
    /// model, trapped on an empty range in the sort-field parser; one `GET /?sort=score.psnr` killed the server.
    @Test func aScoreWithoutAModelIsRefusedNotATrap() throws {
        #expect(ReviewSortField("score.psnr") == nil)
        #expect(ReviewSortField("score..psnr") == nil)
        #expect(ReviewSortField("score.m.psnr") == .score(model: "m", metric: .psnr))
        let finding = Self.exercise(try Self.seed("regression-score-without-model"))
        #expect(!finding.query)
        #expect(!RequestParsing.exercise(path: "", query: "sort=score.psnr", contentType: nil, body: Data()).query)
    }
}
