import TestSupport
import Foundation
import PairVocabulary
import Imaging
import Metrics
import NeuralCore
import Testing
import ThreadSupport
import Evaluation

/// A method that notes which pairs it has started, and fails on one pair if asked; its output differs from its
/// input (a gain and an offset that depend on the pixel), so the scores are not trivial.
struct RecordingMethod: RestorationMethod {
    let started = LockedValue<[String]>([])
    var failOn: String?
    var name: String { "Recording" }
    var kind: MethodKind { .results }
    var complexity: ModelCost? { nil }
    func restore(_ input: RGBImage, pair: ImagePair) throws -> RGBImage {
        started.withLock { $0.append(pair.name) }
        if pair.name == failOn { throw ResultsFolderError.missingOutput(method: name, folder: "-", pair: pair.name) }
        var out = input
        for y in 0..<input.height {
            for x in 0..<input.width {
                for c in 0..<3 { out[c, x, y] = min(1, input[c, x, y] * 0.9 + Float((x * 7 + y * 3 + c) % 11) / 100) }
            }
        }
        return out
    }
}

/// A stop request that a test sets from any thread.
final class Stop: Sendable {
    let requested = LockedValue(false)
    var isRequested: Bool { requested.value }
}

@Suite struct EvaluatorOverlapTests {
    /// Pairs of textured images (each pair different), 40x32 so that LPIPS runs on them.
    func makeSet(_ count: Int) throws -> (URL, [ImagePair]) {
        let root = try makeTemporaryDirectory()
        for i in 0..<count {
            var source = grey(0.2, width: 40, height: 32), target = grey(0.3, width: 40, height: 32)
            for y in 0..<32 {
                for x in 0..<40 {
                    source[0, x, y] = Float((x * (i + 1) + y * 5) % 17) / 17
                    target[1, x, y] = Float((x * 3 + y * (i + 2)) % 13) / 13
                }
            }
            try writePNG(source, root.appendingPathComponent("source/p\(i).png"))
            try writePNG(target, root.appendingPathComponent("target/p\(i).png"))
        }
        return (root, try PairFolder.pairs(in: root))
    }

    func fixtureLPIPS() throws -> LPIPS {
        let lin = try TorchCheckpoint.read(fixture("metrics/lpips_v0.1_alex_lin.pth"))
        let backbone = try TorchCheckpoint.read(fixture("metrics/alexnet_random_features.pth"))
        return try LPIPS(weights: LPIPSWeights.combine(lin: lin, backbone: backbone))
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

    /// The overlapped run gives exactly the one-by-one run's scores, rows and observations (LPIPS included);
    /// only the seconds differ.
    @Test func overlappedScoresEqualSequentialScores() throws {
        let (root, pairs) = try makeSet(4)
        defer { try? FileManager.default.removeItem(at: root) }
        let evaluator = Evaluator(methods: [InputMethod(), RecordingMethod()], lpips: try fixtureLPIPS())
        func run(_ overlapped: Bool) throws -> (EvaluationReport, [String]) {
            var seen: [String] = []
            var report = try evaluator.run(pairs: pairs, overlapped: overlapped, observe: { scored in
                seen.append("\(scored.index) \(scored.pair.name) " + scored.outputs.map { "\($0.method)=\($0.scores.psnr)" }.joined(separator: ","))
            })
            for i in report.results.indices { report.results[i].seconds = 0 }
            for i in report.methods.indices { report.methods[i].secondsPerImage = 0 }
            return (report, seen)
        }
        let (sequential, seenSequential) = try run(false), (overlapped, seenOverlapped) = try run(true)
        #expect(overlapped == sequential)
        #expect(seenOverlapped == seenSequential)
        #expect(sequential.results.count == 8 && sequential.results.allSatisfy { $0.scores.lpips != nil })
        #expect(Set(sequential.results.map(\.scores.psnr)).count == 8, "every pair and method scores differently")
    }

    /// An error on one pair names the pair and the stage, comes after the pairs before it were observed, as in a
    /// one-by-one run, and no pair after it is observed or run.
    @Test(arguments: [true, false]) func errorsNameThePairAndComeInOrder(overlapped: Bool) throws {
        let (root, pairs) = try makeSet(6)
        defer { try? FileManager.default.removeItem(at: root) }
        var method = RecordingMethod()
        method.failOn = "p2"
        var observed: [String] = []
        let error = #expect(throws: PairFailure.self) {
            try Evaluator(methods: [method], lpips: nil).run(pairs: pairs, overlapped: overlapped,
                                                            observe: { observed.append($0.pair.name) })
        }
        let named = try #require(error)
        #expect(named.pair == "p2" && named.stage == .restoring(method: "Recording"))
        #expect(named.underlying as? ResultsFolderError == .missingOutput(method: "Recording", folder: "-", pair: "p2"))
        #expect("\(named)".hasPrefix("pair p2, running Recording: "), "\(named)")
        #expect(observed == ["p0", "p1"])
        #expect(method.started.value.allSatisfy { ["p0", "p1", "p2"].contains($0) }, "the method ran past the failed pair")

        // An unreadable image: the pair is named, with the decoding stage.
        try Data("not a PNG".utf8).write(to: root.appendingPathComponent("target/p1.png"))
        observed = []
        let decoding = #expect(throws: PairFailure.self) {
            try Evaluator(methods: [RecordingMethod()], lpips: nil).run(pairs: pairs, overlapped: overlapped,
                                                                       observe: { observed.append($0.pair.name) })
        }
        #expect(decoding?.pair == "p1" && decoding?.stage == .decoding, "\(String(describing: decoding))")
        #expect(observed == ["p0"])

        // A failure in the observer stops the pipeline too, and the run returns (no stage is left waiting).
        struct Refused: Error {}
        let again = RecordingMethod()
        #expect(throws: Refused.self) {
            try Evaluator(methods: [again], lpips: nil).run(pairs: pairs.filter { $0.name != "p1" },
                                                           overlapped: overlapped, observe: { _ in throw Refused() })
        }
        // Overlapped: p0 was observed, p2 may have been run and p3 taken by the methods' thread, not more.
        #expect(again.started.value.count <= (overlapped ? 3 : 1), "at most the pairs already in flight ran")
    }

    /// A stop asked for while a pair is observed: no new pair starts after the ones in flight, the run throws
    /// `cancelled` with the pairs scored so far, and every stage thread has finished when it returns.
    @Test(arguments: [true, false]) func cancellationStopsAfterThePairsInFlight(overlapped: Bool) throws {
        let (root, pairs) = try makeSet(6)
        defer { try? FileManager.default.removeItem(at: root) }
        let method = RecordingMethod(), stop = Stop()
        var observed: [String] = []
        let error = #expect(throws: EvaluationError.self) {
            try Evaluator(methods: [method], lpips: nil).run(pairs: pairs, overlapped: overlapped,
                                                            isCancelled: { stop.isRequested }, observe: { scored in
                observed.append(scored.pair.name)
                if scored.index == 1 { stop.requested.withLock { $0 = true } }
            })
        }
        guard case .cancelled(let scored, let total)? = error else {
            Issue.record("expected cancelled, got \(String(describing: error))")
            return
        }
        #expect(scored == 2 && total == 6)
        #expect(observed == ["p0", "p1"])
        let started = method.started.value
        // Sequential: nothing after p1. Overlapped: p2 may wait to be scored and p3 be in the methods' hands (p4
        // decoded), not more.
        #expect(overlapped ? started.count <= 4 : started == ["p0", "p1"], "\(started)")
        #expect(Array(started.prefix(2)) == ["p0", "p1"])
        let after = method.started.value
        #expect(after == started, "a stage kept running after the run returned")
    }
}
