import DatasetBuilder
import Foundation
import TestSupport
import Synchronization
import Testing

/// One dataset shared by the capture loop and the pipeline's worker, as `rigctl capture --dataset` shares it.
@Suite struct ConcurrencyTests {
    /// Captures ingested on one thread while evaluations replace their outputs on another: the sweep after an
    /// evaluation must not take the other thread's journalled, half-written files for a killed step's leftovers.
    /// (It did: about one capture in thirty failed with "cannot write ... No such file or directory".)
    @Test func capturesAndEvaluationsOnTwoThreadsLoseNothing() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dataset = try makeDataset(in: dir, count: 2)
        let weights = try writePNG(dir.appendingPathComponent("m.weights"), seed: 7)
        let model = try dataset.registerModel(ModelInput(name: "M", weights: weights))
        let rounds = 40
        let scratch = dir.appendingPathComponent("captures")
        let outputs = try (0..<rounds).map { try writePNG(dir.appendingPathComponent("out\($0).png"), seed: 1000 + UInt64($0)) }
        let items = try (0..<rounds).map {
            try SyntheticCapture.make(index: 100 + $0, seed: 3, in: scratch, width: 32, height: 24, scenes: 2)
        }
        let errors = LockedErrors()
        DispatchQueue.concurrentPerform(iterations: 2) { side in
            for i in 0..<rounds {
                do {
                    if side == 0 {
                        _ = try dataset.ingestCapture(items[i].capture)
                    } else {
                        // Each evaluation replaces the previous output: a release and a sweep every time.
                        _ = try dataset.recordEvaluation(EvaluationInput(pairID: 1, modelID: model.id, psnr: 30, ssim: 0.9,
                                                                         output: outputs[i]))
                    }
                } catch {
                    errors.append("\(side == 0 ? "capture" : "evaluation") \(i): \(error)")
                }
            }
        }
        #expect(errors.all.isEmpty, "\(errors.all)")
        #expect(try dataset.status().captures == 2 + rounds)
        let report = try dataset.verify()
        #expect(report.isConsistent, "\(report)")
    }
}

/// Errors collected from both sides.
final class LockedErrors: Sendable {
    private let items = Mutex<[String]>([])
    func append(_ e: String) { items.withLock { $0.append(e) } }
    var all: [String] { items.withLock { $0 } }
}
