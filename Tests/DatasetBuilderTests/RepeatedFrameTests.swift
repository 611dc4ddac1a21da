import DatasetBuilder
import Foundation
import PairVocabulary
import TestSupport
import Testing

/// A restarted virtual rig renders the same frames again: the second session's captures must become pairs of their
/// own, in their own scene, flagged for a person, never merged into the first session's pairs.
@Suite struct RepeatedFrameTests {
    @Test func identicalImagesFromAnotherCaptureAreTheirOwnPairFlaggedForReview() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dataset = try Dataset.create(at: dir.appendingPathComponent("ds"))
        let first = try SyntheticCapture.make(index: 0, seed: 7, in: dir.appendingPathComponent("a"))
        var repeated = try SyntheticCapture.make(index: 1, seed: 8, in: dir.appendingPathComponent("b")).capture
        repeated.scene = SceneInput(name: "b")
        let captureA = try dataset.ingestCapture(first.capture)
        let captureB = try dataset.ingestCapture(repeated)
        #expect(captureA.id != captureB.id)

        let pairA = try dataset.addPair(first.pair(captureID: captureA.id))
        // The second capture's aligned images are byte for byte the first's.
        let pairB = try dataset.addPair(first.pair(captureID: captureB.id))
        #expect(pairB.created && pairB.id != pairA.id)
        let a = try dataset.pair("\(pairA.id)"), b = try dataset.pair("\(pairB.id)")
        #expect(a.verdict == .accepted && a.reasons.isEmpty)
        #expect(b.scene == "b", "the pair must be filed under its own capture's scene")
        #expect(b.verdict == .review)
        #expect(b.reasons.contains { $0.contains("identical images to pair \(pairA.id) [\(a.scene)]") }, "\(b.reasons)")
        // Adding the same capture's pair again is still the same pair (a resumed process adds nothing).
        #expect(try dataset.addPair(first.pair(captureID: captureB.id)) == Ingested(id: pairB.id, created: false))
        let status = try dataset.status()
        #expect(status.captures == 2 && status.pairs == 2)
        #expect(try dataset.verify().isConsistent)
    }
}
