import Evaluation
import Foundation
import Metrics
import Testing

/// The intervals and comparisons of every table row: a seeded percentile bootstrap over scenes.
@Suite struct SceneBootstrapTests {
    func result(_ pair: String, _ method: String, psnr: Double, ssim: Double = 0.8) -> PairResult {
        PairResult(pair: pair, method: method, scores: MetricReport(psnr: psnr, ssim: ssim, ssimGaussian: ssim, mae: 0.05, lpips: nil),
                   seconds: 0)
    }

    /// 4 scenes of 5 pairs each; within a scene every pair has the same PSNR, so the pairs are not independent.
    var clustered: [PairResult] {
        (0..<20).map { i in result("s\(i / 5)-p\(i)", "m", psnr: [24, 27, 25, 30][i / 5]) }
    }

    @Test func theSameScoresGiveTheSameIntervals() {
        let a = SceneBootstrap().uncertainty(of: clustered) { String($0.prefix(2)) }
        let b = SceneBootstrap().uncertainty(of: clustered) { String($0.prefix(2)) }
        #expect(a == b)
        #expect(a.scenes == 4)
        #expect(a.psnr.contains(26.5) && a.psnr.low >= 24 && a.psnr.high <= 30)
        #expect(a.lpips == nil, "no LPIPS scores, no LPIPS interval")
    }

    /// Resampling scenes, not pairs: treating the 20 correlated pairs as independent would claim an interval
    /// about sqrt(5) narrower than the 4 scenes support.
    @Test func scenesNotPairsAreResampled() {
        let byScene = SceneBootstrap().uncertainty(of: clustered) { String($0.prefix(2)) }.psnr
        let byPair = SceneBootstrap().uncertainty(of: clustered) { $0 }.psnr
        let (wide, narrow) = (byScene.high - byScene.low, byPair.high - byPair.low)
        #expect(wide > 1.8 * narrow, "scene interval \(byScene), pair interval \(byPair)")
    }

    @Test func aConsistentGainHoldsAndNoiseDoesNot() throws {
        let base = clustered.map { result($0.pair, "A", psnr: $0.scores.psnr) }
        let better = base.map { result($0.pair, "B", psnr: $0.scores.psnr + 0.5) }
        let noisy = base.enumerated().map { i, r in result(r.pair, "C", psnr: r.scores.psnr + (i % 2 == 0 ? 1 : -1)) }
        let scene: (String) -> String = { String($0.prefix(2)) }
        let gain = try #require(SceneBootstrap().compare(better, with: base, named: "A", scene: scene))
        #expect(abs(gain.psnr.difference - 0.5) < 1e-12 && gain.psnr.holds && gain.against == "A")
        let noise = try #require(SceneBootstrap().compare(noisy, with: base, named: "A", scene: scene))
        #expect(!noise.psnr.holds, "\(noise.psnr)")
        #expect(SceneBootstrap().compare(better, with: [], named: "A", scene: scene) == nil)
    }

    /// One scene says nothing about another: no interval (null in JSON, "n/a" in tables), and no difference holds.
    @Test func oneSceneHasNoInterval() throws {
        let one = clustered.filter { $0.pair.hasPrefix("s0") }
        let u = SceneBootstrap().uncertainty(of: one) { String($0.prefix(2)) }
        #expect(!u.psnr.isKnown && u.scenes == 1)
        let better = one.map { result($0.pair, "B", psnr: $0.scores.psnr + 3) }
        let c = try #require(SceneBootstrap().compare(better, with: one, named: "A") { String($0.prefix(2)) })
        #expect(c.psnr.difference == 3 && !c.psnr.holds)
        let json = String(decoding: try JSONEncoder().encode(u.psnr), as: UTF8.self)
        #expect(json.contains("\"low\":null"), "\(json)")
        var row = Evaluator.summarize(name: "B", complexity: nil, results: better)
        row.uncertainty = u
        row.comparison = c
        let text = try ResultsTable(rows: [row]).render(.text)
        #expect(text.contains("n/a (1 scene)") && text.contains("+3.00 (1 scene: no interval)"), "\(text)")
    }

    /// The report's rows carry them, the table prints them, and JSON and CSV keep them.
    @Test func tablesShowThem() throws {
        var report = EvaluationReport(methods: [], results: clustered.map { result($0.pair, "Input", psnr: $0.scores.psnr) }
            + clustered.map { result($0.pair, "IFAN", psnr: $0.scores.psnr + 2) }, croppedToMultipleOf8: true)
        report.methods = ["Input", "IFAN"].map { name in
            Evaluator.summarize(name: name, complexity: nil, results: report.results.filter { $0.method == name })
        }
        report.addUncertainty(scene: { String($0.prefix(2)) }, reference: "Input")
        #expect(report.methods[0].comparison == nil && report.methods[1].comparison?.psnr.holds == true)
        let text = try ResultsTable(rows: report.methods).render(.text)
        #expect(text.contains("PSNR 95% CI") && text.contains("ΔPSNR vs Input (95% CI)") && text.contains("+2.00 [2.00, 2.00] holds"), "\(text)")
        let csv = try ResultsTable(rows: report.methods).render(.csv).split(separator: "\n")
        #expect(csv[0].contains("psnr_low,psnr_high") && csv[2].contains(",Input,2.0,2.0,2.0,true,"), "\(csv)")
        let decoded = try JSONDecoder().decode([MethodSummary].self, from: Data(try ResultsTable(rows: report.methods).render(.json).utf8))
        #expect(decoded == report.methods)
        let latex = try ResultsTable(rows: report.methods).render(.latex)
        #expect(latex.contains("{lrrrrrrrrrr}") && latex.contains("$\\Delta$PSNR"), "\(latex)")
    }
}
