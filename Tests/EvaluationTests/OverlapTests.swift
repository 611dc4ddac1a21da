import TestSupport
import Foundation
import Imaging
import Testing
import ThreadSupport
import Evaluation

/// A method that notes which pairs it has started, and fails on one pair if asked.
struct RecordingMethod: RestorationMethod {
    let started = LockedValue<[String]>([])
    var failOn: String?
    var name: String { "Recording" }
    var complexity: ModelComplexity? { nil }
    func restore(_ input: RGBImage, pair: ImagePair) throws -> RGBImage {
        started.withLock { $0.append(pair.name) }
        if pair.name == failOn { throw ResultsFolderError.missingOutput(method: name, folder: "-", pair: pair.name) }
        return input
    }
}

@Suite struct EvaluatorOverlapTests {
    func makeSet(_ count: Int) throws -> (URL, [ImagePair]) {
        let root = try makeTemporaryDirectory()
        for i in 0..<count {
            try writePNG(grey(0.2, width: 16, height: 16), root.appendingPathComponent("source/p\(i).png"))
            try writePNG(grey(0.3, width: 16, height: 16), root.appendingPathComponent("target/p\(i).png"))
        }
        return (root, try PairFolder.pairs(in: root))
    }

    /// While the first pair is being observed (scored, written to a report), the method already runs on the next
    /// one: a one-by-one evaluator would wait here forever, so the wait is bounded and its outcome checked.
    @Test func theNextPairRunsWhileOneIsScored() throws {
        let (root, pairs) = try makeSet(3)
        defer { try? FileManager.default.removeItem(at: root) }
        let method = RecordingMethod()
        var observed: [String] = []
        var overlapped = false
        let report = try Evaluator(methods: [method], lpips: nil).run(pairs: pairs, observe: { scored in
            if scored.index == 0 {
                for _ in 0..<6000 where !method.started.value.contains("p1") { usleep(10_000) }
                overlapped = method.started.value.contains("p1")
            }
            observed.append(scored.pair.name)
        })
        #expect(overlapped, "the method did not start on pair p1 while p0 was observed")
        #expect(observed == ["p0", "p1", "p2"])
        #expect(report.results.map(\.pair) == ["p0", "p1", "p2"])
    }

    /// An error on one pair comes after the pairs before it were observed, as in a one-by-one run, and no pair
    /// after it is observed.
    @Test func errorsComeInPairOrder() throws {
        let (root, pairs) = try makeSet(4)
        defer { try? FileManager.default.removeItem(at: root) }
        var method = RecordingMethod()
        method.failOn = "p2"
        var observed: [String] = []
        #expect(throws: ResultsFolderError.missingOutput(method: "Recording", folder: "-", pair: "p2")) {
            try Evaluator(methods: [method], lpips: nil).run(pairs: pairs, observe: { observed.append($0.pair.name) })
        }
        #expect(observed == ["p0", "p1"])
        #expect(!method.started.value.contains("p3"), "the method ran past the failed pair")

        // A failure in the observer stops the pipeline too, and the run returns (no stage is left waiting).
        struct Stop: Error {}
        let again = RecordingMethod()
        #expect(throws: Stop.self) {
            try Evaluator(methods: [again], lpips: nil).run(pairs: pairs, observe: { _ in throw Stop() })
        }
        #expect(again.started.value.count <= 3, "at most the pairs already in flight ran")
    }
}
