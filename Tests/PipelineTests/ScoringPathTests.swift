import DatasetBuilder
import Evaluation
import Foundation
import Imaging
import Metrics
import PairVocabulary
import Pipeline
import Testing

/// A folder set (`Evaluator`) and the catalogue (`PairScorer`, behind capture and `evaluate --dataset`) score
/// through one path, `PairScoring`: the same stored pair and method under the same protocol give the same numbers,
/// and each reports the typed protocol it used.
@Suite(.serialized) struct ScoringPathTests {
    @Test func aFolderSetAndTheCatalogueScoreAPairAlike() throws {
        let f = try PipelineFixture()
        let captured = try f.pipeline(withModel: true).run(rig: f.rig, count: 1, stop: StopFlag()) { _ in }
        let pair = try f.dataset.pair(id: try #require(captured.first).pairID)
        let model = DeblurModel(name: "unsharp", deblurrer: UnsharpMask(), weights: f.weights)
        let stored = ImagePair(name: "p", source: try f.dataset.url(of: pair.source), target: try f.dataset.url(of: pair.target))

        // The capture pipeline's whole-image rows are what a folder evaluation of the stored images gives when it
        // holds outputs as the catalogue does.
        let whole = try Evaluator(methods: [InputMethod(), model],
                                  scoring: PairScoring(framing: .whole, outputs: .quantised, lpips: nil))
            .run(pairs: [stored], overlapped: false)
        for (row, method) in [("input", "Input"), ("unsharp", "unsharp")] {
            let kept = try #require(pair.evaluations.first { $0.model == row })
            let folder = try #require(whole.results.first { $0.method == method }).scores
            #expect(kept.psnr == folder.psnr && kept.ssim == folder.ssim && kept.mae == folder.mae, "\(method)")
            #expect(kept.scoreProtocol?.identity == whole.scoreProtocol?.identity)
        }

        // The same for the paper's crop to multiples of 8, through `evaluate --dataset`'s scoring.
        let scorer = PairScorer(dataset: f.dataset, framing: .cropToMultipleOf8, lpips: nil)
        let (catalogue, _) = try CatalogueEvaluation(scorer: scorer, methods: [InputMethod(), model])
            .run(pairs: [pair], keepImages: false)
        let cropped = try Evaluator(methods: [InputMethod(), model],
                                    scoring: PairScoring(framing: .cropToMultipleOf8, outputs: .quantised, lpips: nil))
            .run(pairs: [stored])
        // The input's numbers are the same to the last bit. The model's differ only where the crop cut its context:
        // the catalogue frames the output of the whole stored input (which it keeps and reuses), a folder set runs
        // the model on the framed input, as eval.py does; with a 3x3 filter that moves PSNR by about 3e-5 dB.
        #expect(catalogue.results[0].scores == cropped.results[0].scores)
        #expect(abs(catalogue.results[1].scores.psnr - cropped.results[1].scores.psnr) < 1e-3)
        #expect(abs(catalogue.results[1].scores.ssim - cropped.results[1].scores.ssim) < 1e-5)
        #expect(catalogue.scoreProtocol == cropped.scoreProtocol)
        #expect(catalogue.scoreProtocol?.framing == .cropToMultipleOf8 && catalogue.scoreProtocol?.bitDepth == 16)

        // A folder set by default scores as IFAN's eval.py does: outputs as the model produced them, so the
        // model's numbers move (slightly) and the input's do not; the protocol says so.
        let paper = try Evaluator(methods: [InputMethod(), model], lpips: nil).run(pairs: [stored])
        #expect(paper.scoreProtocol?.outputs == .asProduced && paper.scoreProtocol?.bitDepth == 16)
        #expect(paper.results[0].scores == cropped.results[0].scores)
        #expect(paper.results[1].scores.psnr != cropped.results[1].scores.psnr)
        #expect(abs(paper.results[1].scores.psnr - cropped.results[1].scores.psnr) < 0.01)
        let asProducedByHand = try MetricReport(output: UnsharpMask().deblur(PairScoring.cropToMultipleOf8(ImageFile.read(stored.source))),
                                                target: PairScoring.cropToMultipleOf8(ImageFile.read(stored.target)), lpips: nil)
        #expect(paper.results[1].scores == asProducedByHand)
    }
}
