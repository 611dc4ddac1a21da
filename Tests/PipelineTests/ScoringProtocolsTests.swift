import DatasetBuilder
import Evaluation
import Foundation
import Metrics
import PairVocabulary
import Pipeline
import Testing
import ThreadSupport

/// The dataset's scoring protocols (`rigctl dataset protocols`) drive what capture and `process` record.
@Suite(.serialized) struct ScoringProtocolsTests {
    func processor(_ f: PipelineFixture, model: CountingDeblurrer, protocols: [EvaluationProtocol]) -> PairProcessor {
        var options = ProcessingOptions()
        options.calibration = .init(mirror: .horizontal)
        return PairProcessor(dataset: f.dataset, options: options,
                             model: DeblurModel(name: "unsharp", deblurrer: model, weights: f.weights), lpips: nil,
                             protocols: protocols)
    }

    /// A capture into a dataset scored in IFAN's, RealBlur's, BasicSR's and IQA-PyTorch's two luma protocols records a
    /// row of each for the input and the model (RealBlur's and the luma ones differ only in their channels, and
    /// IQA-PyTorch's two in their SSIM's downsampling, a no-op at this size, yet a row of its own); the model runs once per
    /// pair, and each row is the score a catalogue evaluation in that protocol computes from the stored images.
    @Test func everyPairIsScoredInEachConfiguredProtocolWithOneModelRun() throws {
        let f = try PipelineFixture()
        try f.dataset.setScoringProtocols([.ifan, .realblur, .basicsrY, .pyiqaY, .pyiqaYDownsample])
        let counting = CountingDeblurrer()
        let pipeline = CapturePipeline(dataset: f.dataset,
                                       processor: processor(f, model: counting, protocols: try f.dataset.scoringProtocols()),
                                       scene: SceneInput(name: "planes"))
        let outcomes = try pipeline.run(rig: f.rig, count: 2, stop: StopFlag()) { _ in }
        #expect(outcomes.count == 2 && outcomes.allSatisfy { $0.verdict == .accepted })
        #expect(counting.runs.value == 2, "the model runs once per pair, not once per protocol")
        for o in outcomes {
            #expect(o.byProtocol.map(\.named) == [.ifan, .realblur, .basicsrY, .pyiqaY, .pyiqaYDownsample])
            #expect(o.scoreProtocol?.named == .ifan && o.input == o.byProtocol[0].input)
            let rows = try f.dataset.pair(id: o.pairID).evaluations
            #expect(rows.count == 10, "\(rows.map { ($0.model, $0.scoreProtocol?.description ?? "") })")
            for named in [EvaluationProtocol.ifan, .realblur, .basicsrY, .pyiqaY, .pyiqaYDownsample] {
                let under = rows.filter { $0.scoreProtocol?.named == named }
                #expect(Set(under.map(\.model)) == ["input", "unsharp"], "\(named)")
            }
            // The model's rows share the one stored output.
            #expect(Set(rows.filter { $0.model == "unsharp" }.compactMap(\.output?.path)).count == 1)
            let realblur = try #require(o.byProtocol[1].deblurred), luma = try #require(o.byProtocol[2].deblurred)
            #expect(realblur.psnr != o.deblurred?.psnr && luma.psnr != realblur.psnr, "the protocols compute different numbers")
            let yiq = try #require(o.byProtocol[3].deblurred)
            #expect(yiq.psnr != luma.psnr && yiq.psnr != realblur.psnr, "IQA-PyTorch's luma is not BasicSR's")
        }
        // The same rows as an evaluation of the catalogue in each protocol finds already recorded.
        let pairs = try outcomes.map { try f.dataset.pair(id: $0.pairID) }
        for named in [EvaluationProtocol.ifan, .realblur, .basicsrY, .pyiqaY, .pyiqaYDownsample] {
            let evaluation = CatalogueEvaluation(scorer: PairScorer(dataset: f.dataset, protocol: named, lpips: nil),
                                                 methods: [InputMethod(), DeblurModel(name: "unsharp", deblurrer: counting,
                                                                                      weights: f.weights)])
            let (report, counts) = try evaluation.run(pairs: pairs, keepImages: false)
            #expect(counts.recorded["unsharp"] == 2 && counts.recorded["Input"] == 2, "\(named): \(counts)")
            let model = try #require(report.methods.first { $0.name == "unsharp" })
            let expected = outcomes.compactMap { $0.byProtocol.first { $0.named == named }?.deblurred?.psnr }
            #expect(abs(model.psnr - expected.reduce(0, +) / Double(expected.count)) < 1e-9)
        }
        #expect(counting.runs.value == 2)
        #expect(try f.dataset.verify().isConsistent)
    }

    /// Protocols configured after pairs were scored: `process` adds their rows from the stored outputs (no model
    /// run), keeps the earlier rows as they were, and then has nothing left to do.
    @Test func processAddsANewlyConfiguredProtocolToPairsScoredBefore() throws {
        let f = try PipelineFixture()
        #expect(try f.dataset.scoringProtocols() == [.dpdd] && !(try f.dataset.configuresScoringProtocols()))
        let first = CountingDeblurrer()
        let captured = try CapturePipeline(dataset: f.dataset, processor: processor(f, model: first, protocols: [.dpdd]),
                                           scene: SceneInput(name: "planes"))
            .run(rig: f.rig, count: 2, stop: StopFlag()) { _ in }
        #expect(captured.count == 2 && first.runs.value == 2)
        let before = try captured.map { try f.dataset.pair(id: $0.pairID).evaluations }

        try f.dataset.setScoringProtocols([.dpdd, .ifan])
        let later = CountingDeblurrer()
        let pipeline = CapturePipeline(dataset: f.dataset,
                                       processor: processor(f, model: later, protocols: try f.dataset.scoringProtocols()),
                                       scene: SceneInput(name: "planes"))
        let resumed = try pipeline.processBacklog(stop: StopFlag()) { _ in }
        #expect(resumed.count == 2 && later.runs.value == 0, "the stored outputs are scored, the model is not run again")
        for (o, old) in zip(resumed, before) {
            let rows = try f.dataset.pair(id: o.pairID).evaluations
            #expect(rows.count == 4)
            for row in old {
                let kept = try #require(rows.first { $0.model == row.model && $0.scoreProtocol?.named == .dpdd })
                #expect(kept.psnr == row.psnr && kept.ssim == row.ssim && kept.output == row.output)
            }
            #expect(rows.filter { $0.scoreProtocol?.named == .ifan }.count == 2)
        }
        #expect(try pipeline.processBacklog(stop: StopFlag()) { _ in }.isEmpty, "nothing left to do")
    }
}
