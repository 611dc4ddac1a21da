import PairVocabulary
import Pipeline
import Testing

/// Rejections that point at the rig are said while capturing (three in a row for one cause) and at the end (every
/// pair rejected), with the likely causes.
@Suite struct RejectionWatchTests {
    static let diverged = ["registration failed (level 4: the optimisation diverged (update of 111 px)): the images may not show the same scene"]

    @Test func threeInARowForOneCauseWarnOnceWithTheMirrorFirst() {
        var watch = RejectionWatch()
        #expect(watch.add(.rejected, reasons: Self.diverged) == nil)
        #expect(watch.add(.rejected, reasons: Self.diverged) == nil)
        let warning = watch.add(.rejected, reasons: Self.diverged)
        #expect(warning?.contains("last 3 pairs were all rejected") == true && warning?.contains("alignment.mirror") == true,
                "\(warning ?? "")")
        #expect(watch.add(.rejected, reasons: Self.diverged) == nil, "said once per streak")
        #expect(watch.allRejected && watch.summary?.contains("every pair of this run (4) was rejected") == true)
    }

    @Test func anAcceptedPairBreaksTheStreakAndTheRunIsNotAllRejected() {
        var watch = RejectionWatch()
        _ = watch.add(.rejected, reasons: Self.diverged)
        _ = watch.add(.rejected, reasons: Self.diverged)
        #expect(watch.add(.accepted, reasons: []) == nil)
        #expect(watch.add(.rejected, reasons: Self.diverged) == nil)
        #expect(watch.add(.rejected, reasons: ["the images do not match: correlation 0.12"]) == nil, "another cause")
        #expect(!watch.allRejected && watch.summary == nil)
        #expect(RejectionWatch().summary == nil, "no pairs: nothing to say")
    }
}
